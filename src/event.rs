//! What background tasks tell the dashboard: small typed events over one channel. Tasks never
//! touch UI state; the render loop applies these between frames.

use crate::workflow::NameSource;
pub use crate::workflow::Outcome;
use crate::workflow::{Transition, WorkflowId, WorkflowStatus};
use std::time::SystemTime;
use tokio::sync::mpsc;

pub type EventSender = mpsc::UnboundedSender<Event>;
pub type EventReceiver = mpsc::UnboundedReceiver<Event>;

pub fn channel() -> (EventSender, EventReceiver) {
    mpsc::unbounded_channel()
}

/// Lines of an artifact kept for the result view; the file has them all.
pub const MAX_ARTIFACT_LINES: usize = 2_000;
/// Bytes of an artifact kept for the result view.
pub const MAX_ARTIFACT_BYTES: usize = 256 * 1024;

/// The start of `text`: at most `max_lines` lines and `max_bytes` bytes (a long line is cut),
/// and how many bytes were left out.
fn head_of(text: &str, max_lines: usize, max_bytes: usize) -> (&str, usize) {
    let mut end = text
        .match_indices('\n')
        .nth(max_lines.saturating_sub(1))
        .map_or(text.len(), |(i, _)| i + 1)
        .min(max_bytes);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], text.len() - end)
}

/// What a write about a workflow was: its status, name, progress or ending (the history's
/// events), its stage times and tokens, or its log file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Status,
    Name,
    Progress,
    Ending,
    Stages,
    Log,
    Change,
}

impl std::fmt::Display for Recorded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Status => "its status",
            Self::Name => "its name",
            Self::Progress => "its progress",
            Self::Ending => "its ending",
            Self::Stages => "its stage times and tokens",
            Self::Log => "its log",
            Self::Change => "its change to the repository",
        })
    }
}

impl Event {
    /// What the history records of this event; `None` for the events that are not history
    /// (logs, artifacts, health, notices).
    pub fn recorded_as(&self) -> Option<Recorded> {
        if let Self::Change { .. } = self {
            return Some(Recorded::Change);
        }
        self.transition().map(|(_, t)| match t {
            Transition::Status { .. } => Recorded::Status,
            Transition::Named(_) => Recorded::Name,
            Transition::Progress(_) => Recorded::Progress,
            Transition::Finished { .. } => Recorded::Ending,
        })
    }

    /// The change this event makes to its workflow, for the store and the history alike.
    pub fn transition(&self) -> Option<(&WorkflowId, Transition<'_>)> {
        match self {
            Self::Status {
                id,
                status,
                progress,
            } => Some((
                id,
                Transition::Status {
                    status: *status,
                    progress,
                },
            )),
            Self::Named { id, name, .. } => Some((id, Transition::Named(name))),
            Self::Progress { id, progress } => Some((id, Transition::Progress(progress))),
            Self::Finished { id, outcome, at } => {
                Some((id, Transition::Finished { outcome, at: *at }))
            }
            Self::Log { .. }
            | Self::Artifact { .. }
            | Self::Health { .. }
            | Self::Load { .. }
            | Self::Others(_)
            | Self::Change { .. }
            | Self::Unrecorded { .. } => None,
        }
    }

    /// The workflow an event is about; `None` for a server's health.
    pub fn workflow(&self) -> Option<&WorkflowId> {
        match self {
            Self::Status { id, .. }
            | Self::Named { id, .. }
            | Self::Progress { id, .. }
            | Self::Log { id, .. }
            | Self::Finished { id, .. }
            | Self::Artifact { id, .. }
            | Self::Change { id, .. }
            | Self::Unrecorded { id, .. } => Some(id),
            Self::Health { .. } | Self::Load { .. } | Self::Others(_) => None,
        }
    }

    /// A new version of an artifact: its text cut to what the result view can usefully show
    /// (a 5 MB reply would be held, and highlighted as it is scrolled, for nothing) and
    /// stripped of control sequences.
    pub fn artifact(
        id: WorkflowId,
        kind: ArtifactKind,
        text: &str,
        language: Option<crate::language::Language>,
    ) -> Self {
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        // Cut first, so a 5 MB reply costs no more than what is shown.
        let (shown, omitted) = head_of(text, MAX_ARTIFACT_LINES, MAX_ARTIFACT_BYTES);
        let shown = crate::sanitize::strip(shown);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self::Artifact {
            id,
            kind,
            seq,
            text: shown,
            omitted,
            language,
        }
    }
}

/// What a workflow's result view shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ArtifactKind {
    Plan,
    #[default]
    Code,
    Tests,
    TestOutput,
    /// On a repository: the workflow's branch against its base.
    Diff,
}

impl ArtifactKind {
    pub const ALL: [ArtifactKind; 5] = [
        Self::Plan,
        Self::Code,
        Self::Tests,
        Self::TestOutput,
        Self::Diff,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Self::Plan => "Plan",
            Self::Code => "Code",
            Self::Tests => "Tests",
            Self::TestOutput => "Test output",
            Self::Diff => "Diff",
        }
    }

    /// Its tab in the result view: the key that shows it, and its title ("3 Tests").
    pub fn tab_label(self) -> String {
        let key = Self::ALL.iter().position(|k| *k == self).unwrap_or(0) + 1;
        format!("{key} {}", self.title())
    }
}

/// Whether a model server answers.
pub use crate::provider::pool::Health;

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The workflow moved to a new status, with its progress message.
    Status {
        id: WorkflowId,
        status: WorkflowStatus,
        progress: String,
    },
    /// The workflow got its (unique, safe) name.
    Named {
        id: WorkflowId,
        name: String,
        source: NameSource,
    },
    /// A new progress message within the same status.
    Progress { id: WorkflowId, progress: String },
    /// Text for the workflow's log: sanitized, possibly a partial line.
    Log { id: WorkflowId, text: String },
    /// The workflow ended.
    Finished {
        id: WorkflowId,
        outcome: Outcome,
        at: SystemTime,
    },
    /// A new version of one of the workflow's artifacts (sanitized text).
    Artifact {
        id: WorkflowId,
        kind: ArtifactKind,
        /// Orders versions of the same artifact (they are prepared off the event loop).
        seq: u64,
        /// The sanitized text, cut to what the result view shows (the UI highlights it).
        text: String,
        /// Bytes left out of `text` (they are only in the file).
        omitted: usize,
        /// The workflow's language, if known (code and tests are highlighted in it).
        language: Option<crate::language::Language>,
    },
    /// A model server's reachability changed or was checked (`provider` is the server's
    /// name: its provider's, or `host:port` in a pool of several).
    Health { provider: String, health: Health },
    /// A server's requests in flight (sent, or waiting for one of its slots) and its slots.
    Load {
        server: String,
        in_flight: usize,
        slots: usize,
    },
    /// Workflows another flotilla process on the same home created or changed, as the history
    /// has them now.
    Others(Vec<crate::workflow::Workflow>),
    /// The workflow's change to the repository: its branch and worktree made, its commit, or
    /// what the user did with it. Unlike a transition it may come after the ending.
    Change {
        id: WorkflowId,
        change: crate::workflow::change::Change,
    },
    /// A write about the workflow did not reach the history or its folder; sent before the
    /// event it concerns.
    Unrecorded {
        id: WorkflowId,
        what: Recorded,
        error: String,
    },
}

#[cfg(test)]
mod head_tests {
    #[test]
    fn an_artifact_keeps_a_bounded_head() {
        assert_eq!(super::head_of("a\nb\nc\n", 2, 100), ("a\nb\n", 2));
        assert_eq!(super::head_of("a\nb", 5, 100), ("a\nb", 0));
        assert_eq!(super::head_of("ééé", 5, 3), ("é", 4));
    }
}
