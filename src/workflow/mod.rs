//! A workflow's identity, states and fields, as the seed design names them.

pub mod change;
mod failure;
pub mod folder;
pub mod name;
mod query;
pub mod record;
mod transition;
pub mod view;

pub use failure::{Failure, INTERRUPTED, Request};
pub use name::NameSource;
pub use query::{NoMatch, find};
pub use transition::{Outcome, Transition};

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `wf_<n>_<unix seconds>`: `n` counts up within a home, the seconds are the creation time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WorkflowId(String);

impl WorkflowId {
    pub fn new(seq: u64, created: SystemTime) -> Self {
        let secs = created
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Self(format!("wf_{seq}_{secs}"))
    }

    /// Parses a full id such as `wf_2_1732123457`.
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix("wf_")?;
        let (seq, secs) = rest.split_once('_')?;
        (seq.parse::<u64>().is_ok() && secs.parse::<u64>().is_ok()).then(|| Self(text.to_owned()))
    }

    /// The counting part, `2` in `wf_2_1732123457`.
    pub fn seq(&self) -> u64 {
        self.0
            .strip_prefix("wf_")
            .and_then(|r| r.split('_').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WorkflowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The seed's `WorkflowStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkflowStatus {
    /// Waiting to start (before naming, or named and waiting for a run slot).
    Queued,
    /// The veryfast tier is choosing a name.
    Naming,
    /// Executing code generation.
    Running,
    /// Finished successfully.
    Completed,
    /// Finished with an error (or cancelled).
    Failed,
}

impl WorkflowStatus {
    pub const ALL: [WorkflowStatus; 5] = [
        Self::Queued,
        Self::Naming,
        Self::Running,
        Self::Completed,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Naming => "naming",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    /// Still has work ahead of it.
    pub fn is_live(self) -> bool {
        matches!(self, Self::Queued | Self::Naming | Self::Running)
    }
}

impl fmt::Display for WorkflowStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for WorkflowStatus {
    type Err = String;

    /// A status by its word (`queued`, `naming`, `running`, `completed`, `failed`).
    fn from_str(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| {
                format!("{text:?} is not one of queued, naming, running, completed, failed")
            })
    }
}

/// What a completed workflow produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowResult {
    /// The folder holding the workflow's artifacts.
    pub dir: PathBuf,
    /// Files written, relative to `dir`.
    pub files: Vec<String>,
    /// The main file: the code, relative to `dir`.
    pub main_file: Option<String>,
    pub language: Option<crate::language::Language>,
    /// Test runs made.
    pub attempts: u32,
    pub tests_passed: u32,
    pub tests_failed: u32,
}

/// Where a workflow stands: a live status, or how it ended. The ending travels with it, so a
/// completed workflow has a result and no error, and a failed one a reason and no result.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Queued,
    Naming,
    Running,
    Completed(WorkflowResult),
    Failed(Failure),
}

impl State {
    pub fn status(&self) -> WorkflowStatus {
        match self {
            Self::Queued => WorkflowStatus::Queued,
            Self::Naming => WorkflowStatus::Naming,
            Self::Running => WorkflowStatus::Running,
            Self::Completed(_) => WorkflowStatus::Completed,
            Self::Failed(_) => WorkflowStatus::Failed,
        }
    }

    /// The state of a live status; `None` for an ending, which needs its result or reason.
    pub fn live(status: WorkflowStatus) -> Option<Self> {
        match status {
            WorkflowStatus::Queued => Some(Self::Queued),
            WorkflowStatus::Naming => Some(Self::Naming),
            WorkflowStatus::Running => Some(Self::Running),
            WorkflowStatus::Completed | WorkflowStatus::Failed => None,
        }
    }
}

impl WorkflowResult {
    /// A result nothing is known of (a history row whose result could not be read).
    pub fn unknown() -> Self {
        Self {
            dir: PathBuf::new(),
            files: Vec::new(),
            main_file: None,
            language: None,
            attempts: 0,
            tests_passed: 0,
            tests_failed: 0,
        }
    }
}

/// The seed's `BackgroundWorkflow`: one task description on its way to code. The seed's
/// `status`, `result` and `error` are [`State`] here, read through [`Workflow::status`],
/// [`Workflow::result`] and [`Workflow::error`].
#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    pub id: WorkflowId,
    pub description: String,
    pub name: Option<String>,
    pub state: State,
    pub progress: String,
    pub start_time: SystemTime,
    pub end_time: Option<SystemTime>,
    /// The workflow this one runs the task of again (`r`, `flotilla retry`).
    pub retry_of: Option<WorkflowId>,
    /// On a repository: its branch, commit and files, and what became of them.
    pub change: Option<change::Change>,
}

impl Workflow {
    pub fn new(id: WorkflowId, description: String, start_time: SystemTime) -> Self {
        Self {
            id,
            description,
            name: None,
            state: State::Queued,
            progress: String::new(),
            start_time,
            end_time: None,
            retry_of: None,
            change: None,
        }
    }

    pub fn status(&self) -> WorkflowStatus {
        self.state.status()
    }

    /// What it produced, once completed.
    pub fn result(&self) -> Option<&WorkflowResult> {
        match &self.state {
            State::Completed(result) => Some(result),
            _ => None,
        }
    }

    /// Why it failed, once failed.
    pub fn failure(&self) -> Option<&Failure> {
        match &self.state {
            State::Failed(failure) => Some(failure),
            _ => None,
        }
    }

    /// The seed's `error`: the failure in words.
    pub fn error(&self) -> Option<String> {
        self.failure().map(ToString::to_string)
    }

    /// The name if it has one yet, else `naming`.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or("naming")
    }

    /// Time from start to end, or to `now` while live.
    pub fn elapsed(&self, now: SystemTime) -> Duration {
        let end = self.end_time.unwrap_or(now);
        end.duration_since(self.start_time).unwrap_or_default()
    }
}

/// Seconds since the Unix epoch, as the history and the JSON outputs store times.
pub fn unix_secs(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The progress message a finished workflow shows: "Completed in 45.3s" or "Failed: reason".
pub fn ending_progress(completed: bool, reason: &str, elapsed: Duration) -> String {
    if completed {
        format!("Completed in {}", format_elapsed(elapsed))
    } else {
        format!("Failed: {reason}")
    }
}

/// `23.4s`, `4m05s`, `2h03m`: short enough for a table column.
pub fn format_elapsed(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else if secs < 3600.0 {
        let s = d.as_secs();
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        let s = d.as_secs();
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    }
}

/// `45s ago`, `3m ago`, `2h ago`, `4d ago`.
pub fn format_ago(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s ago"),
        60..3600 => format!("{}m ago", s / 60),
        3600..86400 => format!("{}h ago", s / 3600),
        _ => format!("{}d ago", s / 86400),
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn id_has_counter_and_unix_seconds() {
        let t = UNIX_EPOCH + Duration::from_secs(1_732_123_457);
        let id = WorkflowId::new(2, t);
        assert_eq!(id.as_str(), "wf_2_1732123457");
        assert_eq!(id.seq(), 2);
        assert_eq!(WorkflowId::parse("wf_2_1732123457"), Some(id));
        assert_eq!(WorkflowId::parse("wf_x_1"), None);
        assert_eq!(WorkflowId::parse("wf_2"), None);
    }

    #[test]
    fn elapsed_stops_at_end_time() {
        let t = UNIX_EPOCH + Duration::from_secs(100);
        let mut wf = Workflow::new(WorkflowId::new(1, t), "x".into(), t);
        let now = t + Duration::from_secs(50);
        assert_eq!(wf.elapsed(now), Duration::from_secs(50));
        wf.end_time = Some(t + Duration::from_secs(10));
        assert_eq!(wf.elapsed(now), Duration::from_secs(10));
    }

    #[test]
    fn formats_times_compactly() {
        assert_eq!(format_elapsed(Duration::from_millis(45_300)), "45.3s");
        assert_eq!(format_elapsed(Duration::from_secs(245)), "4m05s");
        assert_eq!(format_elapsed(Duration::from_secs(7380)), "2h03m");
        assert_eq!(format_ago(Duration::from_secs(45)), "45s ago");
        assert_eq!(format_ago(Duration::from_secs(130)), "2m ago");
    }
}
