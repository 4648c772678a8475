//! How a workflow's state changes: one rule for the live store and the history.

use super::{Failure, State, Workflow, WorkflowResult, WorkflowStatus, ending_progress};
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
        if !w.status().is_live() {
            return false;
        }
        match *self {
            Self::Status { status, progress } => {
                // An ending comes only with its result or reason (`Finished`).
                let Some(state) = State::live(status) else {
                    return false;
                };
                w.state = state;
                progress.clone_into(&mut w.progress);
            }
            Self::Named(name) => w.name = Some(name.to_owned()),
            Self::Progress(progress) => progress.clone_into(&mut w.progress),
            Self::Finished { outcome, at } => {
                w.end_time = Some(at);
                let elapsed = w.elapsed(at);
                match outcome {
                    Outcome::Completed(result) => {
                        w.progress = ending_progress(true, "", elapsed);
                        w.state = State::Completed(result.clone());
                    }
                    Outcome::Failed(failure) => {
                        w.progress = ending_progress(false, &failure.to_string(), elapsed);
                        w.state = State::Failed(failure.clone());
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
            Self::Status { .. } | Self::Finished { .. } => Some(w.status()),
            Self::Named(_) | Self::Progress(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::WorkflowId;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn an_ending_comes_with_its_result_or_reason_and_stays() {
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut w = Workflow::new(WorkflowId::new(1, t), "add".into(), t);
        let running = Transition::Status {
            status: WorkflowStatus::Running,
            progress: "Generating code...",
        };
        assert!(running.apply(&mut w));
        assert_eq!(w.status(), WorkflowStatus::Running);
        // A bare status cannot end it: there would be no result or reason to go with it.
        for ending in [WorkflowStatus::Completed, WorkflowStatus::Failed] {
            let bare = Transition::Status {
                status: ending,
                progress: "",
            };
            assert!(!bare.apply(&mut w));
            assert_eq!(w.status(), WorkflowStatus::Running);
        }
        let failed = Outcome::Failed(Failure::Cancelled { at_exit: true });
        let at = t + Duration::from_secs(3);
        assert!(
            Transition::Finished {
                outcome: &failed,
                at
            }
            .apply(&mut w)
        );
        assert_eq!(w.failure(), Some(&Failure::Cancelled { at_exit: true }));
        assert_eq!(w.error().as_deref(), Some("cancelled at exit"));
        assert!(w.result().is_none());
        assert_eq!(w.end_time, Some(at));
        // Nothing changes it afterwards.
        assert!(!running.apply(&mut w));
        let done = Outcome::Completed(WorkflowResult::unknown());
        assert!(!Transition::Finished { outcome: &done, at }.apply(&mut w));
        assert_eq!(w.status(), WorkflowStatus::Failed);
    }
}
