//! The code candidates and test suites a workflow has so far, and which of them still count.

use super::select::Board;
use crate::extract;
use crate::sandbox::runner::TestReport;
use crate::workflow::Failure;

/// One implementation: where it came from and its code.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// "candidate 1 (temperature 0)", "from test suite 2", "fix of candidate 1".
    pub origin: String,
    pub code: extract::Code,
    /// False once a fix that did not score higher was set aside.
    pub active: bool,
}

/// One usable test suite.
#[derive(Debug, Clone)]
pub struct TestSuite {
    pub origin: String,
    pub suite: extract::Suite,
    /// False once it was replaced by a rewrite.
    pub active: bool,
    /// Why it was replaced or left out ("could not load: NameError …").
    pub problem: Option<String>,
}

/// The origin of the suite made of the task's own examples.
pub const TASK_EXAMPLES: &str = "examples in the task";

#[derive(Debug, Default)]
pub struct Pool {
    pub candidates: Vec<Candidate>,
    pub suites: Vec<TestSuite>,
    /// Why each refused test reply was refused.
    pub refused_suites: Vec<String>,
    /// Every code and test reply as it came: the calls they make (usage examples, asserts,
    /// prints) are the inputs candidates are probed with.
    pub replies: Vec<String>,
    /// How many candidates (the first ones: they are only ever added) had their imports checked.
    pub imports_checked: usize,
}

impl Pool {
    pub fn active_candidates(&self) -> Vec<usize> {
        (0..self.candidates.len())
            .filter(|i| self.candidates[*i].active)
            .collect()
    }

    pub fn active_suites(&self) -> Vec<usize> {
        (0..self.suites.len())
            .filter(|i| self.suites[*i].active)
            .collect()
    }

    /// Active suites that loaded with at least one candidate.
    pub fn usable_suites(&self, board: &Board) -> Vec<usize> {
        self.active_suites()
            .into_iter()
            .filter(|s| board.usable(*s))
            .collect()
    }

    /// Every active candidate against every active suite, but for the runs the board has.
    pub fn unrun(&self, board: &Board) -> Vec<(usize, usize)> {
        self.pairs(&self.active_candidates(), &self.active_suites())
            .into_iter()
            .filter(|pair| !board.runs.contains_key(pair))
            .collect()
    }

    pub fn pairs(&self, candidates: &[usize], suites: &[usize]) -> Vec<(usize, usize)> {
        candidates
            .iter()
            .flat_map(|c| suites.iter().map(move |s| (*c, *s)))
            .collect()
    }

    /// The public names of the code: the task's and every candidate's.
    pub fn public_names(&self, wanted: &[String]) -> Vec<String> {
        let mut out = wanted.to_vec();
        for c in &self.candidates {
            for n in &c.code.names {
                if !out.contains(n) {
                    out.push(n.clone());
                }
            }
        }
        out
    }

    /// The usable suite `candidate` fails most tests of, and its run.
    pub fn worst_suite_for(&self, candidate: usize, board: &Board) -> (usize, TestReport) {
        let mut worst: Option<(usize, u32, &TestReport)> = None;
        for s in self.usable_suites(board) {
            let Some(report) = board.runs.get(&(candidate, s)) else {
                continue;
            };
            let total = board.tests_of(s).len() as u32;
            let passed = if report.loaded {
                report.cases.iter().filter(|(_, ok)| *ok).count() as u32
            } else {
                0
            };
            let failing = total.saturating_sub(passed);
            if worst.is_none_or(|(_, f, _)| failing > f) {
                worst = Some((s, failing, report));
            }
        }
        match worst {
            Some((s, _, r)) => (s, r.clone()),
            None => (
                0,
                board
                    .runs
                    .get(&(candidate, 0))
                    .cloned()
                    .unwrap_or_else(empty_report),
            ),
        }
    }

    /// Why a workflow ends with no usable test: the suites that could not load, or none usable.
    pub fn why_no_tests(&self, tries: u32) -> Failure {
        match self.suites.iter().find_map(|s| s.problem.as_deref()) {
            Some(problem) if problem.starts_with("could not load") => {
                Failure::TestsDidNotLoad(problem.to_owned())
            }
            _ => Failure::NoUsableTests { tries },
        }
    }
}

fn empty_report() -> TestReport {
    TestReport {
        passed: 0,
        failed: 0,
        cases: Vec::new(),
        loaded: false,
        runner: "none",
        finished: crate::sandbox::Finished::default(),
    }
}

/// The first line of a run's output that names an error, for "could not load: …".
pub fn load_error(output: &str) -> String {
    output
        .lines()
        .map(str::trim)
        .map(|l| l.trim_start_matches("E ").trim())
        .find(|l| l.contains("Error") || l.contains("error[") || l.starts_with("error:"))
        .unwrap_or("no test ran")
        .chars()
        .take(160)
        .collect()
}
