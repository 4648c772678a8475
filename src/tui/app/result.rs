//! The result view's state: each workflow's latest plan, code, tests and test output,
//! highlighted when first shown, and which tab shows.

use crate::event::ArtifactKind;
use crate::keymap::Action;
use crate::language::Language;
use crate::tui::highlight;
use crate::tui::theme::Syntax;
use crate::workflow::WorkflowId;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

/// One version of an artifact: its text, highlighted lazily, as far down as it has been shown.
#[derive(Debug, Clone, Default)]
pub struct Artifact {
    pub seq: u64,
    text: String,
    /// Bytes of the file left out of `text`.
    omitted: usize,
    language: Option<Language>,
    /// How many lines the view has: the text's, and a note when bytes were left out.
    count: usize,
    /// A diff: its lines coloured by what they add and remove.
    diff: bool,
    /// The first lines, highlighted (highlighting carries state from line to line, so it
    /// always runs from the top; each extension at least doubles what is there).
    highlighted: RefCell<Vec<Line<'static>>>,
}

impl Artifact {
    pub fn new(seq: u64, text: &str, omitted: usize, language: Option<Language>) -> Self {
        Self {
            seq,
            text: text.to_owned(),
            omitted,
            language,
            count: text.lines().count() + usize::from(omitted > 0),
            highlighted: RefCell::new(Vec::new()),
            diff: false,
        }
    }

    /// A diff, its lines coloured by their first character.
    pub fn diff(seq: u64, text: &str, omitted: usize) -> Self {
        Self {
            diff: true,
            ..Self::new(seq, text, omitted, None)
        }
    }

    /// How many lines the view of this artifact has.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Lines `from..from + count`, highlighted the first time they are drawn.
    pub fn lines(&self, from: usize, count: usize, colors: Syntax) -> Vec<Line<'static>> {
        let want = (from + count).min(self.count);
        let mut done = self.highlighted.borrow_mut();
        if done.len() < want {
            let upto = want.max(done.len() * 2).max(200);
            let end = self
                .text
                .match_indices('\n')
                .nth(upto.saturating_sub(1))
                .map_or(self.text.len(), |(i, _)| i + 1);
            *done = if self.diff {
                highlight::diff_lines(&self.text[..end], colors)
            } else {
                highlight::lines(&self.text[..end], self.language, colors)
            };
            if end == self.text.len() && self.omitted > 0 {
                done.push(Line::styled(
                    format!(
                        "… {} more bytes, only in the file (e opens it in $EDITOR)",
                        self.omitted
                    ),
                    Style::default().add_modifier(Modifier::DIM),
                ));
            }
        }
        done.iter().skip(from).take(count).cloned().collect()
    }
}

/// Plan, code, tests, test output and diff per workflow, as they arrive.
#[derive(Debug, Default)]
pub struct Results {
    artifacts: HashMap<WorkflowId, BTreeMap<ArtifactKind, Artifact>>,
    languages: HashMap<WorkflowId, Language>,
}

/// How the result pane is looked at: its tab and how far it is scrolled.
#[derive(Debug, Default)]
pub struct ResultView {
    pub tab: ArtifactKind,
    /// First line shown of the current tab.
    pub scroll: usize,
}

impl Results {
    /// Stores a version of an artifact unless a newer one is already here.
    pub fn set(
        &mut self,
        id: &WorkflowId,
        kind: ArtifactKind,
        seq: u64,
        text: &str,
        omitted: usize,
        language: Option<Language>,
    ) {
        if let Some(language) = language {
            self.languages.insert(id.clone(), language);
        }
        let slot = self.artifacts.entry(id.clone()).or_default();
        if slot.get(&kind).is_some_and(|a| a.seq > seq) {
            return;
        }
        let code = matches!(kind, ArtifactKind::Code | ArtifactKind::Tests);
        let artifact = if kind == ArtifactKind::Diff {
            Artifact::diff(seq, text, omitted)
        } else {
            Artifact::new(seq, text, omitted, language.filter(|_| code))
        };
        slot.insert(kind, artifact);
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
}

impl ResultView {
    pub fn show(&mut self, tab: ArtifactKind) {
        if tab != self.tab {
            self.tab = tab;
            self.scroll = 0;
        }
    }

    /// Moves `by` tabs along, wrapping; the diff is a tab only `on_repo`.
    pub fn cycle(&mut self, by: isize, on_repo: bool) {
        let all: Vec<ArtifactKind> = ArtifactKind::ALL
            .into_iter()
            .filter(|k| on_repo || *k != ArtifactKind::Diff)
            .collect();
        let i = all.iter().position(|k| *k == self.tab).unwrap_or(0) as isize;
        let next = (i + by).rem_euclid(all.len() as isize) as usize;
        self.show(all[next]);
    }

    /// Scrolls the current tab of `id`'s view (its lines in `results`), keeping at least one page of lines in view.
    pub fn scroll_by(
        &mut self,
        results: &Results,
        id: Option<&WorkflowId>,
        delta: isize,
        page: usize,
    ) {
        let len = id
            .and_then(|id| results.get(id, self.tab))
            .map_or(0, Artifact::len);
        let last = len.saturating_sub(page);
        self.scroll = self.scroll.saturating_add_signed(delta).min(last);
    }

    pub fn scroll_to_end(&mut self, results: &Results, id: Option<&WorkflowId>, page: usize) {
        self.scroll_by(results, id, isize::MAX / 2, page);
    }

    /// The result pane's scrolling keys for workflow `id`'s view, `page` lines high. False for
    /// any other action.
    pub fn scroll_action(
        &mut self,
        results: &Results,
        action: Action,
        id: Option<&WorkflowId>,
        page: usize,
    ) -> bool {
        match action {
            Action::ScrollUp => self.scroll_by(results, id, -1, page),
            Action::ScrollDown => self.scroll_by(results, id, 1, page),
            Action::PageUp => self.scroll_by(results, id, -(page as isize), page),
            Action::PageDown => self.scroll_by(results, id, page as isize, page),
            Action::ScrollTop => self.scroll = 0,
            Action::ScrollBottom => self.scroll_to_end(results, id, page),
            _ => return false,
        }
        true
    }

    /// The result pane's tab keys (they work from the table and the log too). False for any
    /// other action.
    pub fn tab_action(&mut self, action: Action, on_repo: bool) -> bool {
        match action {
            Action::ShowPlan => self.show(ArtifactKind::Plan),
            Action::ShowCode => self.show(ArtifactKind::Code),
            Action::ShowTests => self.show(ArtifactKind::Tests),
            Action::ShowOutput => self.show(ArtifactKind::TestOutput),
            Action::ShowDiff => self.show(ArtifactKind::Diff),
            Action::ResultNext => self.cycle(1, on_repo),
            Action::ResultPrev => self.cycle(-1, on_repo),
            _ => return false,
        }
        true
    }
}
