//! Background events applied to the dashboard's state: workflow changes, logs, artifacts,
//! servers' health, other processes' workflows, and the notice (and bell) for each ending.

use super::App;
use super::effect::{Effect, Job};
use crate::event::Event;
use crate::workflow::{Workflow, WorkflowId, WorkflowStatus};

impl App {
    /// Applies a background event.
    pub(super) fn apply(&mut self, event: Event) {
        match &event {
            Event::Log { id, text } => {
                self.model.logs.entry(id.clone()).or_default().push(text);
            }
            Event::Health { provider, health } => {
                self.model.health.insert(provider.clone(), health.clone());
            }
            Event::Load {
                server,
                in_flight,
                slots,
            } => {
                self.model.load.insert(server.clone(), (*in_flight, *slots));
            }
            Event::Unrecorded { id, what, error } => {
                let line = format!("! cannot record {what}: {error}\n");
                self.model.logs.entry(id.clone()).or_default().push(&line);
                self.warn(format!("{id}: cannot record {what}: {error}"));
            }
            Event::Artifact {
                id,
                kind,
                seq,
                text,
                omitted,
                language,
            } => {
                self.model
                    .results
                    .set(id, *kind, *seq, text, *omitted, *language);
            }
            Event::Others(rows) => {
                for workflow in rows {
                    self.merge_other(workflow.clone());
                }
            }
            Event::Finished { id, .. } => {
                let was_live = self
                    .model
                    .store
                    .get(id)
                    .is_some_and(|w| w.status().is_live());
                self.model.store.apply(&event);
                if was_live {
                    self.announce(id);
                }
                self.release_if_hidden(id);
            }
            _ => {
                self.model.store.apply(&event);
            }
        }
    }

    /// A workflow of another flotilla process on this home, as the history has it now: a new
    /// row, or changes to a known one.
    fn merge_other(&mut self, workflow: Workflow) {
        let id = workflow.id.clone();
        match self.model.store.get_mut(&id) {
            Some(known) => {
                let ended = known.status().is_live() && !workflow.status().is_live();
                *known = workflow;
                if ended {
                    self.announce(&id);
                }
            }
            None => {
                let ended = !workflow.status().is_live();
                self.model.store.insert(workflow);
                self.model.logs.entry(id.clone()).or_default();
                if ended {
                    self.announce(&id);
                }
            }
        }
    }

    /// Gives back the memory of an ended workflow nobody is looking at: its log and artifacts
    /// are on disk and are read again if it is selected.
    fn release_if_hidden(&mut self, id: &WorkflowId) {
        if self.view.selected.as_ref() != Some(id)
            && self
                .model
                .store
                .get(id)
                .is_some_and(|w| !w.status().is_live())
        {
            self.model.logs.remove(id);
            self.model.results.forget(id);
        }
    }

    /// The one-line notice of a workflow's ending, in the design's words
    /// ("✓ [rest-client] Completed in 34.5s"), and what the config adds: the bell, a desktop
    /// notification through the terminal (OSC 9), a command of the user's.
    fn announce(&mut self, id: &WorkflowId) {
        let Some(wf) = self.model.store.get(id) else {
            return;
        };
        let completed = wf.status() == WorkflowStatus::Completed;
        let text = format!(
            "{} [{}] {}",
            if completed { "✓" } else { "✗" },
            wf.label(),
            wf.progress
        );
        let config = self.engine.config();
        if config.desktop_notifications {
            self.effects.push(Effect::Desktop(format!(
                "flotilla: {} {}",
                wf.label(),
                wf.progress
            )));
        }
        if let Some(command) = &config.notify_command {
            let dir = self.engine.home().workflow_dir(&wf.id);
            self.effects.push(Effect::Job(Job::Notify {
                command: command.clone(),
                env: vec![
                    ("FLOTILLA_ID", wf.id.to_string()),
                    ("FLOTILLA_NAME", wf.label().to_owned()),
                    ("FLOTILLA_STATUS", wf.status().to_string()),
                    ("FLOTILLA_PROGRESS", wf.progress.clone()),
                    ("FLOTILLA_ERROR", wf.error().unwrap_or_default()),
                    ("FLOTILLA_DIR", dir.display().to_string()),
                ],
            }));
        }
        if config.bell {
            self.effects.push(Effect::Bell);
        }
        if completed {
            self.info(text);
        } else {
            self.warn(text);
        }
    }
}
