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
    /// No test suite the model wrote was usable, after this many tries.
    NoUsableTests { tries: u32 },
    /// The tests could not load; the first error line of their run.
    TestsDidNotLoad(String),
    /// The tests ran `attempts` times and `failing` of `total` still failed.
    TestsFailed {
        attempts: u32,
        failing: u32,
        total: u32,
    },
    /// Every test passed, but no second candidate behaved the same on the task's inputs.
    Unconfirmed { passed: u32 },
    /// Anything else that ended it: a server, the model's replies, the disk, in its words.
    Pipeline(String),
}

impl From<String> for Failure {
    fn from(reason: String) -> Self {
        Self::Pipeline(reason)
    }
}

impl Failure {
    /// A failure read back from the history's text (what `Display` wrote).
    pub fn from_reason(reason: &str) -> Self {
        let number = |s: &str| s.trim().parse::<u32>().ok();
        let parsed = match reason {
            "cancelled" => Some(Self::Cancelled { at_exit: false }),
            "cancelled at exit" => Some(Self::Cancelled { at_exit: true }),
            INTERRUPTED => Some(Self::Interrupted),
            _ => None,
        };
        parsed
            .or_else(|| {
                let tries = reason
                    .strip_prefix("no usable tests after ")?
                    .strip_suffix(" tries")?;
                Some(Self::NoUsableTests {
                    tries: number(tries)?,
                })
            })
            .or_else(|| {
                let problem = reason.strip_prefix("tests could not load")?;
                Some(Self::TestsDidNotLoad(format!("could not load{problem}")))
            })
            .or_else(|| {
                let rest = reason.strip_prefix("tests failed after ")?;
                let (attempts, counts) = rest.split_once(": ")?;
                let attempts = attempts
                    .strip_suffix(" attempts")
                    .or_else(|| attempts.strip_suffix(" attempt"))?;
                let (failing, total) = counts.strip_suffix(" failing")?.split_once(" of ")?;
                Some(Self::TestsFailed {
                    attempts: number(attempts)?,
                    failing: number(failing)?,
                    total: number(total)?,
                })
            })
            .or_else(|| {
                let passed = reason
                    .strip_prefix("unconfirmed: the code passes all ")?
                    .split_once(" tests")?
                    .0;
                Some(Self::Unconfirmed {
                    passed: number(passed)?,
                })
            })
            .unwrap_or_else(|| Self::Pipeline(reason.to_owned()))
    }

    /// The same failure with any text it quotes (a server's, a test run's) stripped of
    /// control sequences.
    pub fn sanitized(self) -> Self {
        match self {
            Self::Pipeline(reason) => Self::Pipeline(crate::sanitize::strip(&reason)),
            Self::TestsDidNotLoad(problem) => {
                Self::TestsDidNotLoad(crate::sanitize::strip(&problem))
            }
            other => other,
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
            Self::NoUsableTests { tries } => write!(f, "no usable tests after {tries} tries"),
            Self::TestsDidNotLoad(problem) => write!(f, "tests {problem}"),
            Self::TestsFailed {
                attempts,
                failing,
                total,
            } => {
                let s = if *attempts == 1 { "" } else { "s" };
                write!(
                    f,
                    "tests failed after {attempts} attempt{s}: {failing} of {total} failing"
                )
            }
            Self::Unconfirmed { passed } => write!(
                f,
                "unconfirmed: the code passes all {passed} tests, but no other candidate behaves the same on the task's inputs"
            ),
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
            Failure::TestsFailed {
                attempts: 3,
                failing: 1,
                total: 4,
            },
            Failure::TestsFailed {
                attempts: 1,
                failing: 2,
                total: 2,
            },
            Failure::NoUsableTests { tries: 3 },
            Failure::TestsDidNotLoad(
                "could not load: NameError: name 'max_of_list' is not defined".into(),
            ),
            Failure::Unconfirmed { passed: 4 },
            Failure::Pipeline("cannot connect to http://127.0.0.1:8080/v1: refused".into()),
        ] {
            assert_eq!(Failure::from_reason(&failure.to_string()), failure);
        }
        // The words the history holds, as earlier versions wrote them too.
        let one = Failure::TestsFailed {
            attempts: 1,
            failing: 2,
            total: 2,
        };
        assert_eq!(
            one.to_string(),
            "tests failed after 1 attempt: 2 of 2 failing"
        );
        assert_eq!(
            Failure::from_reason("tests failed after 1 attempt: 2 of 2 failing"),
            Failure::TestsFailed {
                attempts: 1,
                failing: 2,
                total: 2
            }
        );
        assert_eq!(
            Failure::from_reason("no usable tests after 3 tries"),
            Failure::NoUsableTests { tries: 3 }
        );
        assert_eq!(
            Failure::from_reason("tests could not load: SyntaxError: bad"),
            Failure::TestsDidNotLoad("could not load: SyntaxError: bad".into())
        );
        assert!(Failure::Cancelled { at_exit: true }.is_cancelled());
        assert!(!Failure::Pipeline("cancelled the plan".into()).is_cancelled());
    }
}
