//! Why a workflow failed, as a type: cancellation and interruption are told apart by what they
//! are, never by matching a reason's text.

use std::fmt;

/// The reason recorded for a workflow that was live when flotilla stopped without ending it.
pub const INTERRUPTED: &str = "interrupted";
const EMPTY: &str = "the description is empty";
const NO_CODE: &str = "the fast model wrote no usable code in ";
const SANDBOX: &str = "the sandbox failed: ";
const UNCONFIRMED: &str = "unconfirmed: the code passes all ";
const ALONE: &str = " tests, but no other candidate behaves the same on the task's inputs";
const MINORITY: &str = " candidates that return values behave like it";
const PROJECT: &str = "the repository: ";
const BREAKS: &str = " of the project's tests that passed at the base (";

/// What a tier was asked when its server failed to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Planning,
    Code,
    Tests,
    Fix,
    Review,
    RewriteTests,
}

impl Request {
    pub const ALL: [Self; 6] = [
        Self::Planning,
        Self::Code,
        Self::Tests,
        Self::Fix,
        Self::Review,
        Self::RewriteTests,
    ];

    /// How the log and a failure's reason name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planning => "planning",
            Self::Code => "code generation",
            Self::Tests => "test generation",
            Self::Fix => "fixing the code",
            Self::Review => "reviewing the failures",
            Self::RewriteTests => "rewriting the tests",
        }
    }
}

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
    /// Every test passed, but only `agreeing` of the `valued` candidates that return values
    /// behave like the code.
    Minority {
        passed: u32,
        agreeing: u32,
        valued: u32,
    },
    /// A tier's server did not answer a request: unreachable, an HTTP error, a garbled reply.
    Model { request: Request, problem: String },
    /// None of the fast tier's replies held usable code, after this many.
    NoCode { replies: u32 },
    /// The sandbox could not run the code or its tests at all (not a failing test).
    Sandbox(String),
    /// A file of the workflow's folder could not be written; the path and the error.
    Files(String),
    /// The chosen code makes tests of the project fail that passed at the base: how many, and
    /// the first.
    BreaksTests { broken: u32, first: String },
    /// The repository could not be worked on (its worktree, branch or commit).
    Project(String),
    /// The task had nothing to do.
    EmptyDescription,
    /// A reason in the history that none of the above reads back (written by another version).
    Other(String),
}

impl Failure {
    /// A failure read back from the history's text (what `Display` wrote).
    pub fn from_reason(reason: &str) -> Self {
        let number = |s: &str| s.trim().parse::<u32>().ok();
        let parsed = match reason {
            "cancelled" => Some(Self::Cancelled { at_exit: false }),
            "cancelled at exit" => Some(Self::Cancelled { at_exit: true }),
            INTERRUPTED => Some(Self::Interrupted),
            EMPTY => Some(Self::EmptyDescription),
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
                let passed = reason.strip_prefix(UNCONFIRMED)?.strip_suffix(ALONE)?;
                Some(Self::Unconfirmed {
                    passed: number(passed)?,
                })
            })
            .or_else(|| {
                let rest = reason.strip_prefix(UNCONFIRMED)?.strip_suffix(MINORITY)?;
                let (passed, counts) = rest.split_once(" tests, but only ")?;
                let (agreeing, valued) = counts.split_once(" of the ")?;
                Some(Self::Minority {
                    passed: number(passed)?,
                    agreeing: number(agreeing)?,
                    valued: number(valued)?,
                })
            })
            .or_else(|| {
                let (asked, problem) = reason.split_once(" failed: ")?;
                let request = Request::ALL.into_iter().find(|r| r.as_str() == asked)?;
                Some(Self::Model {
                    request,
                    problem: problem.to_owned(),
                })
            })
            .or_else(|| {
                let replies = reason.strip_prefix(NO_CODE)?.strip_suffix(" replies")?;
                Some(Self::NoCode {
                    replies: number(replies)?,
                })
            })
            .or_else(|| Some(Self::Sandbox(reason.strip_prefix(SANDBOX)?.to_owned())))
            .or_else(|| Some(Self::Project(reason.strip_prefix(PROJECT)?.to_owned())))
            .or_else(|| {
                let rest = reason.strip_prefix("breaks ")?;
                let (broken, first) = rest.split_once(BREAKS)?;
                Some(Self::BreaksTests {
                    broken: number(broken)?,
                    first: first.strip_suffix(')')?.to_owned(),
                })
            })
            .or_else(|| {
                let written =
                    reason.starts_with("cannot write ") || reason.starts_with("cannot create ");
                written.then(|| Self::Files(reason.to_owned()))
            })
            .unwrap_or_else(|| Self::Other(reason.to_owned()))
    }

    /// The same failure with any text it quotes (a server's, a test run's) stripped of
    /// control sequences.
    pub fn sanitized(self) -> Self {
        let strip = |text: String| crate::sanitize::strip(&text);
        match self {
            Self::TestsDidNotLoad(problem) => Self::TestsDidNotLoad(strip(problem)),
            Self::Model { request, problem } => Self::Model {
                request,
                problem: strip(problem),
            },
            Self::Sandbox(problem) => Self::Sandbox(strip(problem)),
            Self::Files(problem) => Self::Files(strip(problem)),
            Self::Project(problem) => Self::Project(strip(problem)),
            Self::BreaksTests { broken, first } => Self::BreaksTests {
                broken,
                first: strip(first),
            },
            Self::Other(reason) => Self::Other(strip(reason)),
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
            Self::Unconfirmed { passed } => write!(f, "{UNCONFIRMED}{passed}{ALONE}"),
            Self::Minority {
                passed,
                agreeing,
                valued,
            } => write!(
                f,
                "{UNCONFIRMED}{passed} tests, but only {agreeing} of the {valued}{MINORITY}"
            ),
            Self::Model { request, problem } => write!(f, "{} failed: {problem}", request.as_str()),
            Self::NoCode { replies } => write!(f, "{NO_CODE}{replies} replies"),
            Self::Sandbox(problem) => write!(f, "{SANDBOX}{problem}"),
            Self::Files(problem) => f.write_str(problem),
            Self::BreaksTests { broken, first } => write!(f, "breaks {broken}{BREAKS}{first})"),
            Self::Project(problem) => write!(f, "{PROJECT}{problem}"),
            Self::EmptyDescription => f.write_str(EMPTY),
            Self::Other(reason) => f.write_str(reason),
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
            Failure::Minority {
                passed: 1,
                agreeing: 3,
                valued: 6,
            },
            Failure::Model {
                request: Request::Planning,
                problem: "cannot connect to http://127.0.0.1:8080/v1: refused".into(),
            },
            Failure::Model {
                request: Request::Tests,
                problem: "HTTP 500 from http://h/v1: boom".into(),
            },
            Failure::NoCode { replies: 6 },
            Failure::Sandbox("bwrap: setting up uid map: Permission denied".into()),
            Failure::Files("cannot write /h/wf_1/solution.py: No space left on device".into()),
            Failure::EmptyDescription,
            Failure::BreaksTests {
                broken: 2,
                first: "tests/test_core.py::test_words".into(),
            },
            Failure::Project("cannot make the workflow's worktree: git worktree add: fatal".into()),
            Failure::Other("the disk caught fire".into()),
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
        assert!(!Failure::Other("cancelled the plan".into()).is_cancelled());
        // A request the pipeline never names is not read as a model's failure.
        assert_eq!(
            Failure::from_reason("upload failed: no"),
            Failure::Other("upload failed: no".into())
        );
    }
}
