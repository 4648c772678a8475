//! Choosing code by execution: every candidate runs against every suite. The examples the task
//! itself states (`f(2) == 4`) are the user's word, so passing more of them ranks first.
//! After that, two kinds of agreement are counted alike, as pairs that agree:
//! - on the model-written suites, dual agreement (CodeT): candidates that pass exactly the same
//!   tests form a group, and each scores its group's size times the number of tests it passes;
//! - on the task's inputs, minimum Bayes risk over execution (MBR-exec): input by input, how many
//!   other candidates returned the value it returned, since right programs agree and wrong ones
//!   are wrong in different ways. Errors agree with nothing, and a candidate's own values are no
//!   evidence for it (else code returning anything for any input would win). An input most
//!   candidates reject with a TypeError is not the task's kind of input and counts for no one
//!   (replayed on the saved candidates of four runs: 4 more right choices, 1 fewer).
//!
//! A test written by the same small model is one more voice about the value at its input, no
//! more: one wrong test passed by one candidate must not outweigh four candidates that agree
//! everywhere (measured on saved runs: ranking by the test score first chose worse). Between
//! equal sums, the one that returns values on more inputs wins (a right program is defined on
//! the task's inputs where wrong ones raise), then code that loads, then the earlier candidate
//! (the temperature-0 one comes first).

use crate::sandbox::runner::TestReport;
use std::collections::{BTreeSet, HashMap};

/// Test runs: `(candidate, suite)` → report.
#[derive(Debug, Default, Clone)]
pub struct Board {
    pub runs: HashMap<(usize, usize), TestReport>,
    /// The calls every candidate is probed with.
    pub probes: Vec<String>,
    /// What each probed candidate returned for them.
    pub behaviour: HashMap<usize, Vec<String>>,
    /// The suites made of the task's own examples: the user's word, not a model's guess.
    pub trusted: BTreeSet<usize>,
}

/// How one candidate stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    /// The task's own examples it passes: these rank first, before any model-written test.
    pub examples: u32,
    /// Dual agreement over the model-written suites.
    pub score: u64,
    pub passed: u32,
    /// Tests of usable suites it did not pass (load failures count every test of that suite).
    pub failed: u32,
    /// Usable suites that loaded with it: between equal scores, code that loads wins.
    pub loaded: u32,
    /// Candidates (itself included) that returned the same values on all the probes; 0 when
    /// it returned no value at all.
    pub agreeing: u32,
    /// Input by input, the other candidates that returned the value it returned, summed over
    /// the probes; inputs where it raised count nothing.
    pub agreement: u32,
    /// The probes on which it returned a value rather than raising.
    pub returned: u32,
}

impl Board {
    /// The tests of the usable suites made of the task's own examples.
    pub fn example_tests(&self) -> usize {
        self.trusted
            .iter()
            .filter(|s| self.usable(**s))
            .map(|s| self.tests_of(*s).len())
            .sum()
    }

    /// A suite is usable once it loaded with at least one candidate.
    pub fn usable(&self, suite: usize) -> bool {
        self.runs.iter().any(|((_, s), r)| *s == suite && r.loaded)
    }

    /// The tests a suite holds, as the runner named them in any run that loaded it.
    pub fn tests_of(&self, suite: usize) -> BTreeSet<String> {
        self.runs
            .iter()
            .filter(|((_, s), r)| *s == suite && r.loaded)
            .flat_map(|(_, r)| r.cases.iter().map(|(n, _)| n.clone()))
            .collect()
    }

    /// The `suite:test` ids a candidate passes in the given suites.
    pub fn passed_by(&self, candidate: usize, suites: &[usize]) -> BTreeSet<String> {
        suites
            .iter()
            .filter_map(|s| self.runs.get(&(candidate, *s)).map(|r| (s, r)))
            .filter(|(_, r)| r.loaded)
            .flat_map(|(s, r)| {
                r.cases
                    .iter()
                    .filter(|(_, ok)| *ok)
                    .map(move |(n, _)| format!("{s}:{n}"))
            })
            .collect()
    }

    /// The standing of each candidate in `candidates` against the usable ones of `suites`.
    pub fn standings(&self, candidates: &[usize], suites: &[usize]) -> Vec<Standing> {
        let usable: Vec<usize> = suites.iter().copied().filter(|s| self.usable(*s)).collect();
        let total: usize = usable.iter().map(|s| self.tests_of(*s).len()).sum();
        let (trusted, written): (Vec<usize>, Vec<usize>) =
            usable.iter().partition(|s| self.trusted.contains(s));
        let passed: Vec<BTreeSet<String>> = candidates
            .iter()
            .map(|c| self.passed_by(*c, &written))
            .collect();
        let scores = dual_agreement(&passed);
        let fits = self.fitting_probes(candidates);
        passed
            .iter()
            .zip(scores)
            .zip(candidates)
            .map(|((written_passed, score), c)| {
                let examples = self.passed_by(*c, &trusted).len() as u32;
                let passed = written_passed.len() as u32 + examples;
                Standing {
                    examples,
                    score,
                    passed,
                    failed: (total as u32).saturating_sub(passed),
                    loaded: usable
                        .iter()
                        .filter(|s| self.runs.get(&(*c, **s)).is_some_and(|r| r.loaded))
                        .count() as u32,
                    agreeing: self.agreeing(*c, candidates, &fits),
                    agreement: self.agreement(*c, candidates, &fits),
                    returned: self.behaviour.get(c).map_or(0, |v| {
                        fitting(v, &fits).filter(|(_, v)| !is_error(v)).count() as u32
                    }),
                }
            })
            .collect()
    }

    /// Probe by probe, whether it is an input of the task's kind. One that most of the probed
    /// candidates reject with a `TypeError` is not (`count_char("ab", 3)` from a garbled reply):
    /// code that happens to accept it (`len(s) * c`) shows nothing by returning a value there.
    pub(super) fn fitting_probes(&self, candidates: &[usize]) -> Vec<bool> {
        let probed: Vec<&Vec<String>> = candidates
            .iter()
            .filter_map(|c| self.behaviour.get(c))
            .collect();
        let probes = probed.iter().map(|b| b.len()).max().unwrap_or(0);
        (0..probes)
            .map(|i| {
                let rejected = probed
                    .iter()
                    .filter(|b| b.get(i).is_some_and(|v| v == TYPE_ERROR))
                    .count();
                rejected * 2 <= probed.len()
            })
            .collect()
    }

    /// How many of `candidates` returned what `c` returned on the fitting probes.
    pub(super) fn agreeing(&self, c: usize, candidates: &[usize], fits: &[bool]) -> u32 {
        let Some(mine) = self.behaviour.get(&c) else {
            return 0;
        };
        if fitting(mine, fits).all(|(_, v)| is_error(v)) {
            return 0;
        }
        candidates
            .iter()
            .filter_map(|o| self.behaviour.get(o))
            .filter(|other| fitting(other, fits).eq(fitting(mine, fits)))
            .count() as u32
    }

    /// For each fitting probe on which `c` returned a value, how many of the other
    /// `candidates` returned the same value, summed.
    fn agreement(&self, c: usize, candidates: &[usize], fits: &[bool]) -> u32 {
        let Some(mine) = self.behaviour.get(&c) else {
            return 0;
        };
        let others: Vec<&Vec<String>> = candidates
            .iter()
            .filter(|o| **o != c)
            .filter_map(|o| self.behaviour.get(o))
            .collect();
        fitting(mine, fits)
            .filter(|(_, v)| !is_error(v))
            .map(|(i, v)| others.iter().filter(|o| o.get(i) == Some(v)).count() as u32)
            .sum()
    }
}

/// A candidate's values on the fitting probes, with each probe's index.
fn fitting<'a>(
    behaviour: &'a [String],
    fits: &'a [bool],
) -> impl Iterator<Item = (usize, &'a String)> + 'a {
    behaviour
        .iter()
        .zip(fits)
        .enumerate()
        .filter(|(_, (_, fits))| **fits)
        .map(|(i, (v, _))| (i, v))
}

/// What the probe runners record for a call whose arguments the code rejects by type.
const TYPE_ERROR: &str = "!TypeError";

/// Whether a probed value is an error (`!Name`) rather than a value.
fn is_error(value: &str) -> bool {
    value.starts_with('!')
}

/// Each candidate's score: the size of its group (candidates passing exactly the same tests)
/// times the number of tests it passes.
pub fn dual_agreement(passed: &[BTreeSet<String>]) -> Vec<u64> {
    passed
        .iter()
        .map(|p| {
            let group = passed.iter().filter(|q| *q == p).count() as u64;
            group * p.len() as u64
        })
        .collect()
}

/// The index of the best: the one passing most of the task's own examples, then the one with
/// the most agreement (its test score plus how often others share its values), then the one
/// returning values on more inputs, then the one that loads more suites, then the earliest.
pub fn best(standings: &[Standing]) -> Option<usize> {
    let key = |s: &Standing| {
        (
            s.examples,
            s.score + u64::from(s.agreement),
            s.returned,
            s.loaded,
        )
    };
    let top = standings.iter().map(key).max()?;
    standings.iter().position(|s| key(s) == top)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::Finished;

    fn set(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| (*s).to_owned()).collect()
    }

    fn report(cases: &[(&str, bool)], loaded: bool) -> TestReport {
        TestReport {
            passed: cases.iter().filter(|c| c.1).count() as u32,
            failed: cases.iter().filter(|c| !c.1).count() as u32,
            cases: cases.iter().map(|(n, ok)| ((*n).to_owned(), *ok)).collect(),
            loaded,
            runner: "pytest",
            finished: Finished::default(),
        }
    }

    #[test]
    fn agreeing_candidates_outscore_a_lone_one_that_passes_more() {
        // Two candidates agree on passing a and b; one passes a, b and c alone.
        let scores = dual_agreement(&[set(&["a", "b"]), set(&["a", "b", "c"]), set(&["a", "b"])]);
        assert_eq!(scores, [4, 3, 4]);
        let standings: Vec<Standing> = scores
            .iter()
            .map(|s| Standing {
                score: *s,
                ..Standing::default()
            })
            .collect();
        assert_eq!(best(&standings), Some(0));
    }

    #[test]
    fn ties_go_to_the_earlier_candidate() {
        let scores = dual_agreement(&[set(&["a"]), set(&["b"])]);
        assert_eq!(scores, [1, 1]);
        let standings: Vec<Standing> = scores
            .iter()
            .map(|s| Standing {
                score: *s,
                ..Standing::default()
            })
            .collect();
        assert_eq!(best(&standings), Some(0));
        assert_eq!(best(&[]), None);
    }

    #[test]
    fn passing_nothing_scores_nothing_however_many_agree() {
        assert_eq!(
            dual_agreement(&[set(&[]), set(&[]), set(&["x"])]),
            [0, 0, 1]
        );
    }

    #[test]
    fn a_suite_that_never_loads_is_not_counted() {
        let mut board = Board::default();
        board
            .runs
            .insert((0, 0), report(&[("t1", true), ("t2", false)], true));
        board
            .runs
            .insert((1, 0), report(&[("t1", true), ("t2", true)], true));
        board.runs.insert((0, 1), report(&[], false));
        board.runs.insert((1, 1), report(&[], false));
        assert!(board.usable(0) && !board.usable(1));
        let s = board.standings(&[0, 1], &[0, 1]);
        assert_eq!((s[0].score, s[0].passed, s[0].failed), (1, 1, 1));
        assert_eq!((s[1].score, s[1].passed, s[1].failed), (2, 2, 0));
        assert_eq!(best(&s), Some(1));
    }

    #[test]
    fn a_candidate_that_breaks_a_usable_suite_fails_all_its_tests() {
        let mut board = Board::default();
        board
            .runs
            .insert((0, 0), report(&[("a", true), ("b", true)], true));
        board.runs.insert((1, 0), report(&[], false));
        let s = board.standings(&[0, 1], &[0]);
        assert_eq!(
            (s[1].score, s[1].passed, s[1].failed, s[1].loaded),
            (0, 0, 2, 0)
        );
    }

    #[test]
    fn between_equal_scores_the_largest_behaviour_group_wins() {
        let mut board = Board::default();
        for c in 0..4 {
            board.runs.insert((c, 0), report(&[("a", false)], true));
        }
        let values = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        board.behaviour.insert(0, values(&["1", "2"]));
        board.behaviour.insert(1, values(&["4", "9"]));
        board
            .behaviour
            .insert(2, values(&["!NameError", "!NameError"]));
        board.behaviour.insert(3, values(&["4", "9"]));
        let s = board.standings(&[0, 1, 2, 3], &[0]);
        let agreeing: Vec<u32> = s.iter().map(|s| s.agreeing).collect();
        assert_eq!(agreeing, [1, 2, 0, 2], "errors alone are no behaviour");
        let agreement: Vec<u32> = s.iter().map(|s| s.agreement).collect();
        assert_eq!(agreement, [0, 2, 0, 2], "errors agree with nothing");
        assert_eq!(best(&s), Some(1));
        // One model-written test passed alone (score 1) does not outweigh two candidates
        // agreeing on both inputs (2)…
        board.runs.insert((0, 0), report(&[("a", true)], true));
        assert_eq!(best(&board.standings(&[0, 1, 2, 3], &[0])), Some(1));
        // …but tests passed by a group count for the whole group: the first and third now
        // agree on passing two tests (2 × 2 = 4 each), past the pair's agreement (2).
        board
            .runs
            .insert((0, 0), report(&[("a", true), ("b", true)], true));
        board
            .runs
            .insert((2, 0), report(&[("a", true), ("b", true)], true));
        let s = board.standings(&[0, 1, 2, 3], &[0]);
        assert_eq!(s[0].score, 4);
        assert_eq!(best(&s), Some(0));
    }

    #[test]
    fn values_shared_input_by_input_outweigh_one_identical_pair() {
        // Two candidates are wrong the same way everywhere; three right ones each slip on a
        // different input. Whole-behaviour groups would pick the wrong pair.
        let mut board = Board::default();
        let values = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        board.behaviour.insert(0, values(&["1", "4", "!TypeError"]));
        board.behaviour.insert(1, values(&["1", "4", "9"]));
        board.behaviour.insert(2, values(&["1", "5", "9"]));
        board.behaviour.insert(3, values(&["0", "0", "0"]));
        board.behaviour.insert(4, values(&["0", "0", "0"]));
        let s = board.standings(&[0, 1, 2, 3, 4], &[]);
        let agreeing: Vec<u32> = s.iter().map(|s| s.agreeing).collect();
        assert_eq!(agreeing, [1, 1, 1, 2, 2]);
        let agreement: Vec<u32> = s.iter().map(|s| s.agreement).collect();
        assert_eq!(agreement, [3, 4, 3, 3, 3]);
        assert_eq!(best(&s), Some(1));
    }

    #[test]
    fn returning_anything_for_any_input_is_no_evidence() {
        // Two right candidates agree on the inputs they accept and raise on the others; a
        // wrong one returns its argument for everything.
        let mut board = Board::default();
        let values = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        board.behaviour.insert(0, values(&["0", "0", "0", "0"]));
        board
            .behaviour
            .insert(1, values(&["5", "3", "!TypeError", "!TypeError"]));
        board
            .behaviour
            .insert(2, values(&["5", "3", "!TypeError", "!ValueError"]));
        let s = board.standings(&[0, 1, 2], &[]);
        let agreement: Vec<u32> = s.iter().map(|s| s.agreement).collect();
        assert_eq!(agreement, [0, 2, 2]);
        assert_eq!(best(&s), Some(1));
    }

    #[test]
    fn a_call_most_candidates_reject_by_type_is_no_evidence() {
        // `count_char("ab", 3)`: right code (`s.count(c)`) raises TypeError, as most do; wrong
        // code (`len(s) * c`) returns 6, which must not make it win.
        let mut board = Board {
            probes: vec![
                "count_char(\"ab\", 3)".into(),
                "count_char(\"aba\", \"a\")".into(),
            ],
            ..Board::default()
        };
        let values = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        board.behaviour.insert(0, values(&["!TypeError", "2"]));
        board.behaviour.insert(1, values(&["!TypeError", "2"]));
        board.behaviour.insert(2, values(&["6", "!TypeError"]));
        board.behaviour.insert(3, values(&["!TypeError", "3"]));
        let s = board.standings(&[0, 1, 2, 3], &[]);
        assert_eq!(s[2].returned, 0, "{s:?}");
        assert_eq!(s[0].agreeing, 2);
        assert_eq!(best(&s), Some(0));
        // Where most candidates accept the call, a TypeError is that candidate's own failing.
        board.behaviour.insert(0, values(&["6", "2"]));
        board.behaviour.insert(3, values(&["6", "3"]));
        let s = board.standings(&[0, 1, 2, 3], &[]);
        assert_eq!(s[1].returned, 1);
        assert_eq!(s[0].agreement, 1 + 2);
    }

    #[test]
    fn between_equal_agreement_values_beat_errors() {
        // All return False below 2; only the third returns anything above (the others crash).
        let mut board = Board::default();
        let values = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        board
            .behaviour
            .insert(0, values(&["False", "False", "!EOFError", "!EOFError"]));
        board
            .behaviour
            .insert(1, values(&["False", "False", "!TypeError", "!TypeError"]));
        board
            .behaviour
            .insert(2, values(&["False", "False", "True", "False"]));
        let s = board.standings(&[0, 1, 2], &[]);
        let agreement: Vec<u32> = s.iter().map(|s| s.agreement).collect();
        assert_eq!(agreement, [4, 4, 4]);
        assert_eq!(best(&s), Some(2));
    }

    #[test]
    fn between_equal_scores_code_that_loads_wins() {
        // Both fail the only test; the first candidate's code does not even import.
        let mut board = Board::default();
        board.runs.insert((0, 0), report(&[], false));
        board.runs.insert((1, 0), report(&[("a", false)], true));
        let s = board.standings(&[0, 1], &[0]);
        assert_eq!((s[0].score, s[1].score), (0, 0));
        assert_eq!(best(&s), Some(1));
    }

    #[test]
    fn the_tasks_own_examples_rank_before_model_written_tests() {
        // Suite 0 is the model's (candidates 0 and 2 agree on passing it, wrongly); suite 1
        // holds the task's examples, which only candidate 1 passes.
        let mut board = Board::default();
        board.trusted.insert(1);
        board
            .runs
            .insert((0, 0), report(&[("a", true), ("b", true)], true));
        board
            .runs
            .insert((1, 0), report(&[("a", false), ("b", false)], true));
        board
            .runs
            .insert((2, 0), report(&[("a", true), ("b", true)], true));
        board
            .runs
            .insert((0, 1), report(&[("e1", false), ("e2", true)], true));
        board
            .runs
            .insert((1, 1), report(&[("e1", true), ("e2", true)], true));
        board
            .runs
            .insert((2, 1), report(&[("e1", false), ("e2", true)], true));
        let s = board.standings(&[0, 1, 2], &[0, 1]);
        let examples: Vec<u32> = s.iter().map(|s| s.examples).collect();
        assert_eq!(examples, [1, 2, 1]);
        // Dual agreement counts the model's suite only: examples passed in common form no group.
        let scores: Vec<u64> = s.iter().map(|s| s.score).collect();
        assert_eq!(scores, [4, 0, 4]);
        assert_eq!((s[1].passed, s[1].failed), (2, 2));
        assert_eq!(best(&s), Some(1));
        assert_eq!(board.example_tests(), 2);
    }
}
