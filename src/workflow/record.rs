//! What a workflow did, summed up for `result.json`: language, files, attempts, tests, tokens per
//! tier and seconds per stage. The pipeline fills it as it goes; the engine writes it at the end,
//! whatever the ending.

use crate::language::Language;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Tokens {
    #[serde(rename = "in")]
    pub tokens_in: u64,
    #[serde(rename = "out")]
    pub tokens_out: u64,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct Record {
    /// The workflow's name once it has one.
    #[serde(skip)]
    pub name: Option<String>,
    pub language: Option<Language>,
    /// Files written, relative to the workflow's folder.
    pub files: Vec<String>,
    pub attempts: u32,
    pub tests_passed: u32,
    pub tests_failed: u32,
    /// Per tier (`veryfast`, `fast`, `overseer`).
    pub tokens: BTreeMap<String, Tokens>,
    /// Per stage (`naming`, `plan`, `code`, `tests`, `run`, `fix`, `review`).
    pub seconds: BTreeMap<String, f64>,
    /// Every code candidate and how it scored.
    pub candidates: Vec<CandidateRecord>,
    /// Every test suite, usable or not.
    pub suites: Vec<SuiteRecord>,
    /// On a repository: the workflow's branch and what it changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<crate::workflow::change::Change>,
}

/// One code candidate in `result.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CandidateRecord {
    /// "candidate 1 (task, temperature 0)", "from test suite 2", "fix of candidate 1 (round 2)".
    pub origin: String,
    /// Its folder, relative to the workflow's.
    pub file: String,
    /// The task's own examples (`f(2) == 4` in its text) it passes: these rank first.
    pub examples: u32,
    /// Dual agreement over the model-written suites: the size of its group (candidates passing
    /// the same tests) × tests passed.
    pub score: u64,
    pub passed: u32,
    pub failed: u32,
    /// Candidates (itself included) that returned the same values on every probe.
    pub agreeing: u32,
    /// Input by input, the other candidates returning the value it returned, summed over the
    /// probes (what decides between equal scores).
    pub agreement: u32,
    /// The probes on which it returned a value rather than raising (what decides next).
    pub returned: u32,
    /// On a repository: the project's tests it makes fail that passed at the base.
    #[serde(skip_serializing_if = "is_zero")]
    pub breaks: u32,
    /// The one kept as the workflow's code.
    pub chosen: bool,
    /// False for a fix set aside because it did not score higher.
    pub kept: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// One test suite in `result.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuiteRecord {
    pub origin: String,
    /// Its folder, relative to the workflow's (empty for a refused reply).
    pub file: String,
    pub tests: u32,
    /// It parsed, imports the code, calls it, and loaded with at least one candidate.
    pub usable: bool,
    /// Why it is not used, when it is not.
    pub problem: Option<String>,
}

/// A record shared between a workflow's task and its pipeline.
#[derive(Debug, Default, Clone)]
pub struct SharedRecord(Arc<Mutex<Record>>);

impl SharedRecord {
    pub fn lock(&self) -> MutexGuard<'_, Record> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn add_tokens(&self, tier: &str, (tokens_in, tokens_out): (u64, u64)) {
        let mut record = self.lock();
        let t = record.tokens.entry(tier.to_owned()).or_default();
        t.tokens_in += tokens_in;
        t.tokens_out += tokens_out;
    }

    pub fn add_seconds(&self, stage: &str, seconds: f64) {
        *self.lock().seconds.entry(stage.to_owned()).or_default() += seconds;
    }

    pub fn add_file(&self, file: &str) {
        let mut record = self.lock();
        if !record.files.iter().any(|f| f == file) {
            record.files.push(file.to_owned());
        }
    }
}
