//! Choosing code by execution: every candidate runs against every suite. The examples the task
//! itself states (`f(2) == 4`) are the user's word, so passing more of them ranks first.
//! After that, two kinds of agreement are counted alike, as pairs that agree:
//! - on the model-written suites, dual agreement (CodeT): candidates that pass exactly the same
//!   tests form a group, and each scores its group's size times the number of tests it passes;
//! - on the task's inputs, minimum Bayes risk over execution (MBR-exec): input by input, how many
//!   other candidates returned the value it returned, since right programs agree and wrong ones
//!   are wrong in different ways. Errors agree with nothing, and a candidate's own values are no
//!   evidence for it (else code returning anything for any input would win), and neither is
//!   one value returned for every input (`[]` for any list: wrong code agreeing with wrong
//!   code, see `shown`). An input most candidates reject with a TypeError is not the task's
//!   kind of input and counts for no one (replayed on the saved candidates of four runs: 4 more
//!   right choices, 1 fewer).
//!
//! A test written by the same small model is one more voice about the value at its input, no
//! more: one wrong test passed by one candidate must not outweigh four candidates that agree
//! everywhere (measured on saved runs: ranking by the test score first chose worse). Between
//! equal sums, the one that returns values on more inputs wins (a right program is defined on
//! the task's inputs where wrong ones raise), then code that loads, then the earlier candidate
//! (the temperature-0 one comes first).

use crate::sandbox::runner::{TYPE_ERROR, TestReport};
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
    /// On a repository: the project's tests each candidate makes fail that passed at the base.
    pub breaks: HashMap<usize, Vec<String>>,
    /// On a repository: each candidate's run of the project's tests.
    pub project_runs: HashMap<usize, TestReport>,
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
    /// The project's tests it makes fail that passed at the base: any ranks it below every
    /// candidate that breaks none, whatever the generated tests say.
    pub breaks: u32,
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
                    breaks: self.breaks.get(c).map_or(0, |b| b.len() as u32),
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

    /// What `c` returned on the fitting probes, when that shows a behaviour: not when it only
    /// raised, nor when it returned one and the same value for three inputs or more (`[]` for
    /// every list, `False` for every year). Such code agrees with any other that does the
    /// same, and that is how wrong candidates outvoted right ones (replayed on the saved
    /// candidates of five runs: 6 more right choices, 2 fewer).
    pub(super) fn shown<'a>(&'a self, c: usize, fits: &[bool]) -> Option<&'a Vec<String>> {
        let mine = self.behaviour.get(&c)?;
        let mut values = fitting(mine, fits).filter(|(_, v)| !is_error(v));
        let (_, first) = values.next()?;
        let mut count = 1;
        let mut constant = true;
        for (_, v) in values {
            count += 1;
            constant &= v == first;
        }
        (!constant || count < 3).then_some(mine)
    }

    /// How many of `candidates` returned what `c` returned on the fitting probes (0 when it
    /// shows no behaviour).
    pub(super) fn agreeing(&self, c: usize, candidates: &[usize], fits: &[bool]) -> u32 {
        let Some(mine) = self.shown(c, fits) else {
            return 0;
        };
        candidates
            .iter()
            .filter_map(|o| self.behaviour.get(o))
            .filter(|other| fitting(other, fits).eq(fitting(mine, fits)))
            .count() as u32
    }

    /// For each fitting probe on which `c` returned a value, how many of the other
    /// `candidates` that show a behaviour returned the same value, summed.
    fn agreement(&self, c: usize, candidates: &[usize], fits: &[bool]) -> u32 {
        let Some(mine) = self.shown(c, fits) else {
            return 0;
        };
        let others: Vec<&Vec<String>> = candidates
            .iter()
            .filter(|o| **o != c)
            .filter_map(|o| self.shown(*o, fits))
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

/// The index of the best: on a repository, one that breaks none of the project's tests; then
/// the one passing most of the task's own examples, then the one with
/// the most agreement (its test score plus how often others share its values), then the one
/// returning values on more inputs, then the one that loads more suites, then the earliest.
pub fn best(standings: &[Standing]) -> Option<usize> {
    let key = |s: &Standing| {
        (
            s.breaks == 0,
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
mod tests;
