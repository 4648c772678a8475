//! What the state asks to be done outside it, the one way out of
//! [`App::take_effects`](super::App::take_effects): work that waits on the disk, the database
//! or another process ([`Job`], carried out off the loop's thread by [`perform`], its [`Done`]
//! handed back through [`Msg::Done`](super::Msg::Done)), and what the terminal itself is asked
//! to show or do.

use crate::engine::Engine;
use crate::workflow::{Workflow, WorkflowId};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Work for a blocking thread.
    Job(Job),
    /// Text for the terminal's clipboard (OSC 52), when no clipboard program took it; written
    /// with the next frame.
    Osc52(String),
    /// A desktop notification through the terminal (OSC 9), written with the next frame.
    Desktop(String),
    /// A workflow ended and `bell = true`: one bell per frame however many ended.
    Bell,
    /// Give the terminal to $EDITOR on this file (the dashboard suspends meanwhile); the loop
    /// answers with [`Done::Edited`].
    Edit(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
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

impl Job {
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
    /// How $EDITOR on this file ended, or why it did not run.
    Edited {
        path: PathBuf,
        outcome: Result<std::process::ExitStatus, String>,
    },
    /// A job's thread ended without an answer (it panicked): why.
    Lost(String),
}

/// Carries out a job; blocking, so the loop runs it on a blocking thread.
pub fn perform(engine: &Engine, job: Job) -> Done {
    match job {
        Job::Start {
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
        Job::Delete { ids, clear } => Done::Deleted {
            results: ids
                .into_iter()
                .map(|id| {
                    let result = engine.delete(&id).map_err(|e| e.to_string());
                    (id, result)
                })
                .collect(),
            clear,
        },
        Job::Apply { id, staged } => Done::Landed {
            result: engine.apply(&id, staged),
            id,
            applied: true,
        },
        Job::Discard(id) => Done::Landed {
            result: engine.discard(&id),
            id,
            applied: false,
        },
        Job::Copy(text) => {
            let tool = copy_to_clipboard(&text);
            Done::Copied { text, tool }
        }
        Job::Notify { command, env } => Done::Notified(notify(&command, &env)),
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
