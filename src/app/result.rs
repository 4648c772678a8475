//! The result view's state: each workflow's latest plan, code, tests and test output, already
//! highlighted, and which tab shows.

use crate::event::ArtifactKind;
use crate::language::Language;
use crate::workflow::WorkflowId;
use ratatui::text::Line;
use std::collections::{BTreeMap, HashMap};

/// One artifact, ready to draw.
#[derive(Debug, Clone, Default)]
pub struct Artifact {
    pub seq: u64,
    pub lines: Vec<Line<'static>>,
}

#[derive(Debug, Default)]
pub struct Results {
    artifacts: HashMap<WorkflowId, BTreeMap<ArtifactKind, Artifact>>,
    languages: HashMap<WorkflowId, Language>,
    pub tab: ArtifactKind,
    /// First line shown of the current tab.
    pub scroll: usize,
}

impl Results {
    /// Stores a new version of an artifact, highlighted once here rather than every frame.
    /// Stores a version of an artifact unless a newer one is already here.
    pub fn set(
        &mut self,
        id: &WorkflowId,
        kind: ArtifactKind,
        seq: u64,
        lines: &[Line<'static>],
        language: Option<Language>,
    ) {
        if let Some(language) = language {
            self.languages.insert(id.clone(), language);
        }
        let slot = self.artifacts.entry(id.clone()).or_default();
        if slot.get(&kind).is_some_and(|a| a.seq > seq) {
            return;
        }
        slot.insert(
            kind,
            Artifact {
                seq,
                lines: lines.to_vec(),
            },
        );
    }

    /// Drops a workflow's artifacts (they are read again from disk when needed).
    pub fn forget(&mut self, id: &WorkflowId) {
        self.artifacts.remove(id);
    }

    pub fn get(&self, id: &WorkflowId, kind: ArtifactKind) -> Option<&Artifact> {
        self.artifacts.get(id).and_then(|a| a.get(&kind))
    }

    pub fn language(&self, id: &WorkflowId) -> Option<Language> {
        self.languages.get(id).copied()
    }

    pub fn show(&mut self, tab: ArtifactKind) {
        if tab != self.tab {
            self.tab = tab;
            self.scroll = 0;
        }
    }

    /// Moves `by` tabs along, wrapping.
    pub fn cycle(&mut self, by: isize) {
        let all = ArtifactKind::ALL;
        let i = all.iter().position(|k| *k == self.tab).unwrap_or(0) as isize;
        let next = (i + by).rem_euclid(all.len() as isize) as usize;
        self.show(all[next]);
    }

    /// Scrolls the current tab of `id`'s view, keeping at least one page of lines in view.
    pub fn scroll_by(&mut self, id: Option<&WorkflowId>, delta: isize, page: usize) {
        let len = id
            .and_then(|id| self.get(id, self.tab))
            .map_or(0, |a| a.lines.len());
        let last = len.saturating_sub(page);
        self.scroll = self.scroll.saturating_add_signed(delta).min(last);
    }

    pub fn scroll_to_end(&mut self, id: Option<&WorkflowId>, page: usize) {
        self.scroll_by(id, isize::MAX / 2, page);
    }
}
