//! Where workflows are kept: `Store`, every workflow the dashboard (or a headless run) knows,
//! updated by applying events, and `db`, the history on disk that outlives them.

pub mod db;

use crate::event::Event;
use crate::workflow::{Workflow, WorkflowId, WorkflowStatus};
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
                .position(|s| *s == w.status())
                .unwrap_or(0)] += 1;
        }
        counts
    }

    pub fn live(&self) -> impl Iterator<Item = &Workflow> {
        self.workflows.iter().filter(|w| w.status().is_live())
    }

    /// Applies a workflow event; returns the workflow it changed, if any.
    pub fn apply(&mut self, event: &Event) -> Option<&Workflow> {
        if let Event::Change { id, change } = event {
            let i = *self.index.get(id)?;
            self.workflows[i].change = Some(change.clone());
            return Some(&self.workflows[i]);
        }
        let (id, transition) = event.transition()?;
        let i = *self.index.get(id)?;
        transition
            .apply(&mut self.workflows[i])
            .then(|| &self.workflows[i])
    }
}
