//! Every workflow the dashboard (or a headless run) knows, updated by applying events.

use crate::event::{Event, Outcome};
use crate::workflow::{Workflow, WorkflowId, WorkflowStatus, ending_progress};
use std::collections::HashMap;

/// Workflows in creation order, with an index by id.
#[derive(Debug, Default)]
pub struct Store {
    workflows: Vec<Workflow>,
    index: HashMap<WorkflowId, usize>,
}

impl Store {
    pub fn insert(&mut self, workflow: Workflow) {
        self.index.insert(workflow.id.clone(), self.workflows.len());
        self.workflows.push(workflow);
    }

    /// Removes a workflow (deleted from the history).
    pub fn remove(&mut self, id: &WorkflowId) {
        if let Some(i) = self.index.remove(id) {
            self.workflows.remove(i);
            for (n, w) in self.workflows.iter().enumerate().skip(i) {
                self.index.insert(w.id.clone(), n);
            }
        }
    }

    pub fn get(&self, id: &WorkflowId) -> Option<&Workflow> {
        self.index.get(id).map(|&i| &self.workflows[i])
    }

    pub fn get_mut(&mut self, id: &WorkflowId) -> Option<&mut Workflow> {
        self.index.get(id).map(|&i| &mut self.workflows[i])
    }

    pub fn position(&self, id: &WorkflowId) -> Option<usize> {
        self.index.get(id).copied()
    }

    pub fn at(&self, i: usize) -> Option<&Workflow> {
        self.workflows.get(i)
    }

    pub fn len(&self) -> usize {
        self.workflows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.workflows.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Workflow> {
        self.workflows.iter()
    }

    pub fn as_slice(&self) -> &[Workflow] {
        &self.workflows
    }

    /// How many workflows are in each status, in [`WorkflowStatus::ALL`] order.
    pub fn counts(&self) -> [usize; 5] {
        let mut counts = [0; 5];
        for w in &self.workflows {
            counts[WorkflowStatus::ALL
                .iter()
                .position(|s| *s == w.status)
                .unwrap_or(0)] += 1;
        }
        counts
    }

    pub fn live(&self) -> impl Iterator<Item = &Workflow> {
        self.workflows.iter().filter(|w| w.status.is_live())
    }

    /// Applies a workflow event; returns the workflow it changed, if any.
    pub fn apply(&mut self, event: &Event) -> Option<&Workflow> {
        let id = match event {
            Event::Status { id, .. }
            | Event::Named { id, .. }
            | Event::Progress { id, .. }
            | Event::Finished { id, .. } => id,
            Event::Log { .. }
            | Event::Health { .. }
            | Event::Artifact { .. }
            | Event::Unrecorded { .. }
            | Event::Others(_) => return None,
        };
        let i = *self.index.get(id)?;
        let w = &mut self.workflows[i];
        // A finished workflow stays finished: late events from a cancelled task are dropped.
        if !w.status.is_live() {
            return None;
        }
        match event {
            Event::Status {
                status, progress, ..
            } => {
                w.status = *status;
                w.progress.clone_from(progress);
            }
            Event::Named { name, .. } => w.name = Some(name.clone()),
            Event::Progress { progress, .. } => w.progress.clone_from(progress),
            Event::Finished { outcome, at, .. } => {
                w.end_time = Some(*at);
                let elapsed = w.elapsed(*at);
                match outcome {
                    Outcome::Completed(result) => {
                        w.status = WorkflowStatus::Completed;
                        w.progress = ending_progress(true, "", elapsed);
                        w.result = Some(result.clone());
                    }
                    Outcome::Failed(reason) => {
                        w.status = WorkflowStatus::Failed;
                        w.progress = ending_progress(false, reason, elapsed);
                        w.error = Some(reason.clone());
                    }
                }
            }
            Event::Log { .. }
            | Event::Health { .. }
            | Event::Artifact { .. }
            | Event::Unrecorded { .. }
            | Event::Others(_) => {}
        }
        Some(&self.workflows[i])
    }
}
