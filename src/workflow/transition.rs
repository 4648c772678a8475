//! How a workflow's state changes: one rule for the live store and the history.

use super::{Failure, Workflow, WorkflowResult, WorkflowStatus, ending_progress};
use std::time::SystemTime;

/// How a workflow ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Completed(WorkflowResult),
    Failed(Failure),
}

/// One change to a workflow: the rule the live store and the database both apply, so the
/// dashboard and the history never disagree. A workflow that ended keeps its ending: nothing
/// changes it afterwards (late events from a cancelled task are dropped).
#[derive(Debug, Clone, Copy)]
pub enum Transition<'a> {
    Status {
        status: WorkflowStatus,
        progress: &'a str,
    },
    Named(&'a str),
    Progress(&'a str),
    Finished {
        outcome: &'a Outcome,
        at: SystemTime,
    },
}

impl Transition<'_> {
    /// Applies the change to `w`; `false`, with `w` untouched, when the rule refuses it.
    pub fn apply(&self, w: &mut Workflow) -> bool {
        if !w.status.is_live() {
            return false;
        }
        match *self {
            Self::Status { status, progress } => {
                w.status = status;
                progress.clone_into(&mut w.progress);
            }
            Self::Named(name) => w.name = Some(name.to_owned()),
            Self::Progress(progress) => progress.clone_into(&mut w.progress),
            Self::Finished { outcome, at } => {
                w.end_time = Some(at);
                let elapsed = w.elapsed(at);
                match outcome {
                    Outcome::Completed(result) => {
                        w.status = WorkflowStatus::Completed;
                        w.progress = ending_progress(true, "", elapsed);
                        w.result = Some(result.clone());
                    }
                    Outcome::Failed(failure) => {
                        let reason = failure.to_string();
                        w.status = WorkflowStatus::Failed;
                        w.progress = ending_progress(false, &reason, elapsed);
                        w.error = Some(reason);
                    }
                }
            }
        }
        true
    }

    /// The status the history records for this change: the new one, or `None` when only the
    /// progress or the name changed.
    pub fn status_after(&self, w: &Workflow) -> Option<WorkflowStatus> {
        match self {
            Self::Status { .. } | Self::Finished { .. } => Some(w.status),
            Self::Named(_) | Self::Progress(_) => None,
        }
    }
}
