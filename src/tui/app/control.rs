//! The job controls: retry, delete, clear, run slots, copying a folder's path, and the table's
//! filter.

use super::effect;
use super::effect::Done;
use super::{App, Mode, Overlay};
use crate::keymap::Action;
use crate::workflow::change::{Change, Landed};
use crate::workflow::{WorkflowId, WorkflowStatus};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

impl App {
    /// Starts the workflow's task again as a new workflow linked to it; the new one is selected
    /// once the history has recorded it.
    pub(super) fn retry(&mut self, id: &WorkflowId) {
        let Some(description) = self.model.store.get(id).map(|w| w.description.clone()) else {
            return;
        };
        self.ask(effect::Job::Start {
            description,
            background: false,
            retry_of: Some(id.clone()),
        });
    }

    /// Asks before deleting a finished workflow.
    pub(super) fn ask_delete(&mut self, id: &WorkflowId) {
        match self.model.store.get(id) {
            Some(w) if w.status().is_live() => {
                self.warn(format!("{id} is still live: cancel it first"))
            }
            Some(_) => self.open(Overlay::ConfirmDelete(id.clone())),
            None => {}
        }
    }

    pub(super) fn delete_now(&mut self, id: &WorkflowId) {
        self.ask(effect::Job::Delete {
            ids: vec![id.clone()],
            clear: false,
        });
    }

    /// Drops a deleted workflow from the screen, moving the selection to a neighbour.
    fn forget(&mut self, id: &WorkflowId) {
        let position = self.model.store.position(id);
        self.model.store.remove(id);
        self.model.logs.remove(id);
        if self.view.selected.as_ref() == Some(id) {
            let next = position.and_then(|i| {
                self.model
                    .store
                    .at(i.min(self.model.store.len().saturating_sub(1)))
            });
            self.view.selected = None;
            self.select(next.map(|w| w.id.clone()));
        }
    }

    /// Applies a finished workflow's change, asking first when the workflow failed.
    pub(super) fn ask_apply(&mut self, id: &WorkflowId, staged: bool) {
        let Some(w) = self.model.store.get(id) else {
            return;
        };
        let Some(change) = &w.change else {
            return self.warn(format!(
                "{id} did not work on a repository: nothing to apply"
            ));
        };
        if w.status().is_live() {
            return self.warn(format!("{id} is still running: wait for it to end"));
        }
        if !change.pending() {
            return self.warn(format!("{id}: nothing to apply ({})", change.state_word()));
        }
        if w.failure().is_some() {
            self.open(Overlay::ConfirmApply {
                id: id.clone(),
                staged,
            });
        } else {
            self.ask(effect::Job::Apply {
                id: id.clone(),
                staged,
            });
        }
    }

    /// Asks before removing a finished workflow's worktree and branch.
    pub(super) fn ask_discard(&mut self, id: &WorkflowId) {
        let Some(w) = self.model.store.get(id) else {
            return;
        };
        match &w.change {
            None => self.warn(format!(
                "{id} did not work on a repository: nothing to discard"
            )),
            Some(_) if w.status().is_live() => {
                self.warn(format!("{id} is still running: cancel it first"))
            }
            Some(c) if c.worktree.is_none() && c.commit.is_none() => {
                self.warn(format!("{id}: nothing to discard ({})", c.state_word()))
            }
            Some(_) => self.open(Overlay::ConfirmDiscard(id.clone())),
        }
    }

    /// Asks before deleting every finished workflow (`/clear`), saying how many.
    pub(super) fn ask_clear(&mut self) {
        let finished: Vec<WorkflowId> = self
            .model
            .store
            .iter()
            .filter(|w| !w.status().is_live())
            .map(|w| w.id.clone())
            .collect();
        if finished.is_empty() {
            return self.info("No finished workflows to clear");
        }
        self.open(Overlay::ConfirmClear(finished));
    }

    /// Has these finished workflows and their folders deleted.
    pub(super) fn clear_now(&mut self, finished: &[WorkflowId]) {
        self.ask(effect::Job::Delete {
            ids: finished.to_vec(),
            clear: true,
        });
    }

    /// What an effect came to.
    pub(super) fn done(&mut self, done: Done) {
        match done {
            Done::Started {
                description,
                background,
                retry_of,
                result,
            } => self.started(description, background, retry_of, result),
            Done::Deleted { results, clear } => self.deleted(&results, clear),
            Done::Landed {
                id,
                applied,
                result,
            } => self.landed(&id, applied, result),
            Done::Notified(Ok(())) => {}
            Done::Notified(Err(why)) => self.warn(why),
            Done::Copied { text, tool } => match tool {
                Some(tool) => self.info(format!("Copied {text} ({tool})")),
                // No clipboard program (over SSH, in a container): the terminal itself is
                // asked, which works where it allows OSC 52.
                None => {
                    self.info(format!("Copied {text} (through the terminal: OSC 52)"));
                    self.effects.push(effect::Effect::Osc52(text));
                }
            },
            Done::Edited { path, outcome } => self.editor_finished(&path, outcome),
            Done::Lost(why) => self.warn(format!("a background job failed: {why}")),
        }
    }

    /// Deleted workflows are forgotten; the notice says how many, and what could not go.
    fn deleted(&mut self, results: &[(WorkflowId, Result<(), String>)], clear: bool) {
        let mut failed = Vec::new();
        for (id, result) in results {
            match result {
                Ok(()) => self.forget(id),
                Err(e) => {
                    tracing::warn!("cannot delete {id}: {e}");
                    failed.push((id, e));
                }
            }
        }
        match (clear, failed.as_slice()) {
            (true, []) => self.info(format!("Cleared {} finished workflows", results.len())),
            (true, _) => self.warn(format!(
                "Cleared {} finished workflows; {} could not be deleted (see the log)",
                results.len() - failed.len(),
                failed.len()
            )),
            (false, [(id, e), ..]) => self.warn(format!("cannot delete {id}: {e}")),
            (false, []) => {
                if let Some((id, _)) = results.first() {
                    self.info(format!("Deleted {id}"));
                }
            }
        }
    }

    /// An apply or discard done: the change as it is now, and a notice of what happened.
    fn landed(&mut self, id: &WorkflowId, applied: bool, result: Result<Change, String>) {
        let change = match result {
            Ok(change) => change,
            Err(why) if applied => return self.warn(format!("Not applied: {why}")),
            Err(why) => return self.warn(format!("Not discarded: {why}")),
        };
        let text = match &change.landed {
            Some(Landed::Applied { commit, onto }) => format!(
                "Applied {id} to {onto} as {} ({})",
                commit.get(..10).unwrap_or(commit),
                change.stat()
            ),
            Some(Landed::Staged) => format!(
                "Staged {id}'s change ({}): git diff --cached shows it",
                change.stat()
            ),
            _ => format!(
                "Discarded {id}: worktree and branch {} removed",
                change.branch
            ),
        };
        self.model.store.apply(&crate::event::Event::Change {
            id: id.clone(),
            change,
        });
        self.info(text);
    }

    /// Copies the selected workflow's folder path to the clipboard, or shows it.
    pub(super) fn copy_path(&mut self) {
        let Some(id) = self.view.selected.clone() else {
            return self.warn("no workflow selected");
        };
        let path = self.engine.home().workflow_dir(&id).display().to_string();
        self.ask(effect::Job::Copy(path));
    }

    pub(super) fn start_filter(&mut self) {
        self.view.mode = Mode::Filter;
    }

    /// A key while the filter is typed: its action from the `[filter]` section (enter keeps
    /// the filter, esc clears it), else the key edits the text.
    pub(super) fn filter_key(&mut self, action: Option<Action>, key: KeyEvent) {
        match (action, key.code) {
            (Some(Action::Submit), _) => self.close(),
            (Some(Action::Close), _) => {
                self.close();
                self.view.filter.clear();
            }
            (Some(Action::Quit), _) => self.dispatch(Action::Quit),
            (_, KeyCode::Backspace) => {
                self.view.filter.pop();
            }
            (_, KeyCode::Char(c))
                if !c.is_control()
                    && !key
                        .modifiers
                        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                self.view.filter.push(c)
            }
            _ => {}
        }
        // Keep the selection on a row that is still shown.
        let visible = self.visible();
        let shown = self
            .view
            .selected
            .as_ref()
            .and_then(|id| self.model.store.position(id))
            .is_some_and(|i| visible.contains(&i));
        if !shown {
            self.select(
                visible
                    .first()
                    .and_then(|i| self.model.store.at(*i))
                    .map(|w| w.id.clone()),
            );
        }
    }

    /// The first of the `shown` rows the table draws when it has room for `rows`: the selected
    /// row is always on screen, and when it is among the last rows the table shows the end of
    /// the list, so it follows new rows as they come.
    pub fn table_offset(&self, shown: &[usize], rows: usize) -> usize {
        let selected = self
            .view
            .selected
            .as_ref()
            .and_then(|id| self.model.store.position(id))
            .and_then(|i| shown.iter().position(|s| *s == i));
        let tail = shown.len().saturating_sub(rows);
        match selected {
            Some(i) if i >= tail => tail,
            Some(i) if rows > 0 && i >= rows => i + 1 - rows,
            _ => 0,
        }
    }

    /// Indexes of the workflows the filter lets through, in table order.
    pub fn visible(&self) -> Vec<usize> {
        let filter = self.view.filter.trim().to_lowercase();
        if filter.is_empty() {
            return (0..self.model.store.len()).collect();
        }
        let status = filter.parse::<WorkflowStatus>().ok();
        self.model
            .store
            .iter()
            .enumerate()
            .filter(|(_, w)| match status {
                Some(s) => w.status() == s,
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
