//! What the state asks to be done outside it: work that waits on the disk, the database or
//! another process. Key handlers only record an [`Effect`]; the terminal loop carries it out
//! off its thread ([`perform`]) and hands the [`Done`] back to [`App::done`](super::App::done).

use crate::engine::Engine;
use crate::workflow::{Workflow, WorkflowId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Record a new workflow in the history and start it (a retry of `retry_of`, if any). The
    /// loop carries these out one after another, in the order they were asked for, so ids
    /// follow the order tasks were typed in.
    Start {
        description: String,
        background: bool,
        retry_of: Option<WorkflowId>,
    },
    /// Delete these finished workflows from the history and their folders from the disk;
    /// `clear` when `/clear` asked (the notice then counts them).
    Delete { ids: Vec<WorkflowId>, clear: bool },
    /// Apply (or stage) a workflow's change to its repository's checkout.
    Apply { id: WorkflowId, staged: bool },
    /// Remove a workflow's worktree and branch.
    Discard(WorkflowId),
    /// Put this text on the clipboard.
    Copy(String),
    /// Run the user's `notify_command` (with `sh -c`), these variables set.
    Notify {
        command: String,
        env: Vec<(&'static str, String)>,
    },
}

impl Effect {
    /// Whether it must wait for the effects of its kind asked for before it (a start).
    pub fn is_ordered(&self) -> bool {
        matches!(self, Self::Start { .. })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Done {
    /// The workflow started, or why the history could not record it (nothing started).
    Started {
        description: String,
        background: bool,
        retry_of: Option<WorkflowId>,
        result: Result<Box<Workflow>, String>,
    },
    Deleted {
        results: Vec<(WorkflowId, Result<(), String>)>,
        clear: bool,
    },
    /// The clipboard program that took the text, if any did.
    Copied {
        text: String,
        tool: Option<&'static str>,
    },
    /// How the `notify_command` went: `Err` says why it did not run or did not succeed.
    Notified(Result<(), String>),
    /// A workflow's change after an apply (`applied`) or a discard, or why it was refused
    /// (nothing changed).
    Landed {
        id: WorkflowId,
        applied: bool,
        result: Result<crate::workflow::change::Change, String>,
    },
}

/// Carries out an effect; blocking, so the loop runs it on a blocking thread.
pub fn perform(engine: &Engine, effect: Effect) -> Done {
    match effect {
        Effect::Start {
            description,
            background,
            retry_of,
        } => Done::Started {
            result: engine
                .start_retry(description.clone(), retry_of.as_ref())
                .map(Box::new),
            description,
            background,
            retry_of,
        },
        Effect::Delete { ids, clear } => Done::Deleted {
            results: ids
                .into_iter()
                .map(|id| {
                    let result = engine.delete(&id).map_err(|e| e.to_string());
                    (id, result)
                })
                .collect(),
            clear,
        },
        Effect::Apply { id, staged } => Done::Landed {
            result: engine.apply(&id, staged),
            id,
            applied: true,
        },
        Effect::Discard(id) => Done::Landed {
            result: engine.discard(&id),
            id,
            applied: false,
        },
        Effect::Copy(text) => {
            let tool = copy_to_clipboard(&text);
            Done::Copied { text, tool }
        }
        Effect::Notify { command, env } => Done::Notified(notify(&command, &env)),
    }
}

/// Runs `notify_command`; its output is dropped (the dashboard owns the terminal), and it may
/// take a few seconds (it runs on a blocking thread, and only once per ending).
fn notify(command: &str, env: &[(&'static str, String)]) -> Result<(), String> {
    use std::process::{Command, Stdio};
    let mut child = Command::new("sh");
    child
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (name, value) in env {
        child.env(name, value);
    }
    match child.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("notify_command {status}")),
        Err(e) => Err(format!("notify_command did not start: {e}")),
    }
}

/// Pipes `text` to the first clipboard tool that works here; returns its name.
fn copy_to_clipboard(text: &str) -> Option<&'static str> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let graphical =
        std::env::var_os("WAYLAND_DISPLAY").is_some() || std::env::var_os("DISPLAY").is_some();
    let tools: &[(&str, &[&str])] = &[
        ("pbcopy", &[]),
        ("wl-copy", &[]),
        ("xclip", &["-selection", "clipboard"]),
        ("xsel", &["--clipboard", "--input"]),
    ];
    for (tool, args) in tools {
        if !graphical && *tool != "pbcopy" {
            continue;
        }
        let Ok(mut child) = Command::new(tool)
            .args(*args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        else {
            continue;
        };
        let written = child
            .stdin
            .take()
            .map(|mut stdin| stdin.write_all(text.as_bytes()).is_ok());
        if written == Some(true) && child.wait().is_ok_and(|s| s.success()) {
            return Some(tool);
        }
    }
    None
}
