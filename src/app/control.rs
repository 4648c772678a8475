//! The job controls: retry, delete, clear, run slots, copying a folder's path, and the table's
//! filter.

use super::{App, Mode, Overlay};
use crate::keymap::Action;
use crate::workflow::{WorkflowId, WorkflowStatus};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

impl App {
    /// Starts the workflow's task again as a new workflow linked to it; the new one is selected.
    pub(super) fn retry(&mut self, id: &WorkflowId) {
        let Some(description) = self.store.get(id).map(|w| w.description.clone()) else {
            return;
        };
        let workflow = match self.engine.start_retry(description, Some(id)) {
            Ok(w) => w,
            Err(e) => return self.warn(e),
        };
        let new_id = workflow.id.clone();
        self.store.insert(workflow);
        self.logs.entry(new_id.clone()).or_default();
        self.select(Some(new_id.clone()));
        self.info(format!("Started workflow {new_id}, retrying {id}"));
    }

    /// Asks before deleting a finished workflow.
    pub(super) fn ask_delete(&mut self, id: &WorkflowId) {
        match self.store.get(id) {
            Some(w) if w.status.is_live() => {
                self.warn(format!("{id} is still live: cancel it first"))
            }
            Some(_) => self.open(Overlay::ConfirmDelete(id.clone())),
            None => {}
        }
    }

    pub(super) fn delete_now(&mut self, id: &WorkflowId) {
        match self.engine.delete(id) {
            Ok(()) => {
                self.forget(id);
                self.info(format!("Deleted {id}"));
            }
            Err(e) => self.warn(format!("cannot delete {id}: {e}")),
        }
    }

    /// Drops a deleted workflow from the screen, moving the selection to a neighbour.
    fn forget(&mut self, id: &WorkflowId) {
        let position = self.store.position(id);
        self.store.remove(id);
        self.logs.remove(id);
        if self.selected.as_ref() == Some(id) {
            let next =
                position.and_then(|i| self.store.at(i.min(self.store.len().saturating_sub(1))));
            self.selected = None;
            self.select(next.map(|w| w.id.clone()));
        }
    }

    /// Asks before deleting every finished workflow (`/clear`), saying how many.
    pub(super) fn ask_clear(&mut self) {
        let finished: Vec<WorkflowId> = self
            .store
            .iter()
            .filter(|w| !w.status.is_live())
            .map(|w| w.id.clone())
            .collect();
        if finished.is_empty() {
            return self.info("No finished workflows to clear");
        }
        self.open(Overlay::ConfirmClear(finished));
    }

    /// Deletes these finished workflows and their folders.
    pub(super) fn clear_now(&mut self, finished: &[WorkflowId]) {
        let mut failed = 0;
        for id in finished {
            match self.engine.delete(id) {
                Ok(()) => self.forget(id),
                Err(e) => {
                    tracing::warn!("cannot delete {id}: {e}");
                    failed += 1;
                }
            }
        }
        if failed == 0 {
            self.info(format!("Cleared {} finished workflows", finished.len()));
        } else {
            self.warn(format!(
                "Cleared {} finished workflows; {failed} could not be deleted (see the log)",
                finished.len() - failed
            ));
        }
    }

    /// Copies the selected workflow's folder path to the clipboard, or shows it.
    pub(super) fn copy_path(&mut self) {
        let Some(id) = self.selected.clone() else {
            return self.warn("no workflow selected");
        };
        let path = self.engine.home().workflow_dir(&id).display().to_string();
        match copy_to_clipboard(&path) {
            Some(tool) => self.info(format!("Copied {path} ({tool})")),
            None => self.info(format!("Folder: {path} (no clipboard here)")),
        }
    }

    pub(super) fn start_filter(&mut self) {
        self.mode = Mode::Filter;
    }

    /// Keys while the filter is typed: text edits it, Enter keeps it, Esc clears it.
    /// A key while the filter is typed: its action from the `[filter]` section (enter keeps
    /// the filter, esc clears it), else the key edits the text.
    pub(super) fn filter_key(&mut self, action: Option<Action>, key: KeyEvent) {
        match (action, key.code) {
            (Some(Action::Submit), _) => self.mode = Mode::Normal,
            (Some(Action::Close), _) => {
                self.mode = Mode::Normal;
                self.filter.clear();
            }
            (Some(Action::Quit), _) => self.dispatch(Action::Quit),
            (_, KeyCode::Backspace) => {
                self.filter.pop();
            }
            (_, KeyCode::Char(c))
                if !c.is_control()
                    && !key
                        .modifiers
                        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                self.filter.push(c)
            }
            _ => {}
        }
        // Keep the selection on a row that is still shown.
        let visible = self.visible();
        let shown = self
            .selected
            .as_ref()
            .and_then(|id| self.store.position(id))
            .is_some_and(|i| visible.contains(&i));
        if !shown {
            self.select(
                visible
                    .first()
                    .and_then(|i| self.store.at(*i))
                    .map(|w| w.id.clone()),
            );
        }
    }

    /// Indexes of the workflows the filter lets through, in table order.
    pub fn visible(&self) -> Vec<usize> {
        let filter = self.filter.trim().to_lowercase();
        if filter.is_empty() {
            return (0..self.store.len()).collect();
        }
        let status = filter.parse::<WorkflowStatus>().ok();
        self.store
            .iter()
            .enumerate()
            .filter(|(_, w)| match status {
                Some(s) => w.status == s,
                None => [
                    w.id.as_str(),
                    w.name.as_deref().unwrap_or(""),
                    &w.description,
                    &w.progress,
                ]
                .iter()
                .any(|field| field.to_lowercase().contains(&filter)),
            })
            .map(|(i, _)| i)
            .collect()
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
