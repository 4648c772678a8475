//! Why a workflow failed, as a type: cancellation and interruption are told apart by what they
//! are, never by matching a reason's text.

use std::fmt;

/// The reason recorded for a workflow that was live when flotilla stopped without ending it.
pub const INTERRUPTED: &str = "interrupted";

/// Why a workflow failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The user cancelled it; `at_exit` when it was cancelled because flotilla quit.
    Cancelled { at_exit: bool },
    /// flotilla stopped while it ran and never recorded an ending (found at the next start).
    Interrupted,
    /// The pipeline ended it: a server, the model's code or the tests, in its words.
    Pipeline(String),
}

impl Failure {
    /// A failure read back from the history's text.
    pub fn from_reason(reason: &str) -> Self {
        match reason {
            "cancelled" => Self::Cancelled { at_exit: false },
            "cancelled at exit" => Self::Cancelled { at_exit: true },
            INTERRUPTED => Self::Interrupted,
            other => Self::Pipeline(other.to_owned()),
        }
    }

    pub fn is_cancelled(&self) -> bool {
        matches!(self, Self::Cancelled { .. })
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cancelled { at_exit: false } => f.write_str("cancelled"),
            Self::Cancelled { at_exit: true } => f.write_str("cancelled at exit"),
            Self::Interrupted => f.write_str(INTERRUPTED),
            Self::Pipeline(reason) => f.write_str(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_reads_back_from_its_text() {
        for failure in [
            Failure::Cancelled { at_exit: false },
            Failure::Cancelled { at_exit: true },
            Failure::Interrupted,
            Failure::Pipeline("tests failed after 3 attempts: 1 of 4 failing".into()),
        ] {
            assert_eq!(Failure::from_reason(&failure.to_string()), failure);
        }
        assert!(Failure::Cancelled { at_exit: true }.is_cancelled());
        assert!(!Failure::Pipeline("cancelled the plan".into()).is_cancelled());
    }
}
