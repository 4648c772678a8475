//! Runs a workflow's tests in the sandbox, per language: Python with pytest when it can be
//! imported and otherwise the runner shipped in `assets/`; JavaScript with `node --test`; Rust as
//! a scratch crate under `cargo test`, sharing one target directory between workflows.

use crate::language::Language;
use crate::sandbox::{self, Finished, Job, Limits};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tokio_util::sync::CancellationToken;

/// The fallback Python runner, embedded at build time.
pub const PYTHON_RUNNER: &str = include_str!("../assets/python_test_runner.py");

/// The programs and folders the runners use.
#[derive(Debug, Clone)]
pub struct Toolchain {
    pub python: String,
    pub node: String,
    pub cargo: String,
    /// Use pytest for Python when it can be imported (else flotilla's own runner).
    pub prefer_pytest: bool,
    /// Where scratch copies are made.
    pub scratch_dir: PathBuf,
    /// The `CARGO_TARGET_DIR` every Rust workflow shares.
    pub rust_target_dir: PathBuf,
}

impl Toolchain {
    pub fn new(cache_dir: &Path) -> Self {
        Self {
            python: "python3".into(),
            node: "node".into(),
            cargo: "cargo".into(),
            prefer_pytest: true,
            scratch_dir: cache_dir.join("scratch"),
            rust_target_dir: cache_dir.join("rust-target"),
        }
    }

    /// Whether `python -c "import pytest"` works (asked once per interpreter).
    pub fn has_pytest(&self) -> bool {
        static CACHE: OnceLock<std::sync::Mutex<std::collections::HashMap<String, bool>>> =
            OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
        *cache.entry(self.python.clone()).or_insert_with(|| {
            std::process::Command::new(&self.python)
                .args(["-c", "import pytest"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        })
    }
}

/// One test run: what the runner counted and how the process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestReport {
    pub passed: u32,
    pub failed: u32,
    /// Which runner ran (`pytest`, `flotilla's python runner`, `node --test`, `cargo test`).
    pub runner: &'static str,
    pub finished: Finished,
}

impl TestReport {
    pub fn total(&self) -> u32 {
        self.passed + self.failed
    }

    /// Every test passed, and there was at least one.
    pub fn all_passed(&self) -> bool {
        self.finished.success() && self.failed == 0 && self.passed > 0
    }

    /// "2 of 5 failing", "no tests ran (exit code 1)", "timed out after 60s"…
    pub fn describe(&self, limits: &Limits) -> String {
        if self.finished.timed_out || self.finished.cancelled {
            return self.finished.describe(limits);
        }
        if self.total() == 0 {
            return format!("no tests ran ({})", self.finished.describe(limits));
        }
        if self.failed == 0 && !self.finished.success() {
            return format!(
                "{} passed but the run failed ({})",
                self.passed,
                self.finished.describe(limits)
            );
        }
        format!("{} of {} failing", self.failed, self.total())
    }
}

/// Runs `tests` against `code` in a fresh scratch copy.
pub async fn run(
    language: Language,
    code: &str,
    tests: &str,
    tools: &Toolchain,
    limits: &Limits,
    cancel: &CancellationToken,
    on_output: &mut (dyn FnMut(&str) + Send),
) -> std::io::Result<TestReport> {
    std::fs::create_dir_all(&tools.scratch_dir)?;
    let scratch = tempfile::Builder::new()
        .prefix("run-")
        .tempdir_in(&tools.scratch_dir)?;
    let dir = scratch.path();
    write(dir, language.code_file(), code)?;
    write(dir, language.test_file(), tests)?;
    let (job, runner) = match language {
        Language::Python if tools.prefer_pytest && tools.has_pytest() => (
            job(
                dir,
                &tools.python,
                &[
                    "-m",
                    "pytest",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    language.test_file(),
                ],
            ),
            "pytest",
        ),
        Language::Python => {
            write(dir, "_flotilla_runner.py", PYTHON_RUNNER)?;
            (
                job(
                    dir,
                    &tools.python,
                    &["_flotilla_runner.py", language.test_file()],
                ),
                "flotilla's python runner",
            )
        }
        Language::Javascript => (
            job(dir, &tools.node, &["--test", language.test_file()]),
            "node --test",
        ),
        Language::Rust => {
            write(dir, "Cargo.toml", RUST_MANIFEST)?;
            std::fs::create_dir_all(&tools.rust_target_dir)?;
            let mut job = job(
                dir,
                &tools.cargo,
                &["test", "--offline", "--color", "never"],
            );
            job.env.push((
                "CARGO_TARGET_DIR".into(),
                tools.rust_target_dir.display().to_string(),
            ));
            job.env
                .push(("CARGO_TERM_PROGRESS_WHEN".into(), "never".into()));
            (job, "cargo test")
        }
    };
    let finished = sandbox::run(&job, limits, cancel, on_output).await?;
    let (passed, failed) = match language {
        Language::Python => count_pytest(&finished.output),
        Language::Javascript => count_node(&finished.output),
        Language::Rust => count_cargo(&finished.output),
    };
    Ok(TestReport {
        passed,
        failed,
        runner,
        finished,
    })
}

const RUST_MANIFEST: &str =
    "[package]\nname = \"solution\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n";

fn job(dir: &Path, program: &str, args: &[&str]) -> Job {
    Job {
        program: program.to_owned(),
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        dir: dir.to_owned(),
        env: vec![
            ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
            ("NO_COLOR".into(), "1".into()),
        ],
    }
}

fn write(dir: &Path, name: &str, text: &str) -> std::io::Result<()> {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)
}

/// The number before `word` in "… 3 passed, 1 failed …", on the last line that has one.
fn number_before(line: &str, words: &[&str]) -> Option<u32> {
    let tokens: Vec<&str> = line
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|t| !t.is_empty())
        .collect();
    tokens
        .windows(2)
        .rev()
        .filter(|w| {
            words
                .iter()
                .any(|word| w[1].trim_end_matches(['.', ':']) == *word)
        })
        .find_map(|w| w[0].parse().ok())
}

/// pytest's (and flotilla's runner's) summary: "2 passed, 1 failed, 1 error in 0.1s".
fn count_pytest(output: &str) -> (u32, u32) {
    for line in output.lines().rev() {
        let passed = number_before(line, &["passed"]);
        let failed = number_before(line, &["failed"]);
        let errors = number_before(line, &["error", "errors"]);
        if passed.is_some() || failed.is_some() || errors.is_some() {
            return (
                passed.unwrap_or(0),
                failed.unwrap_or(0) + errors.unwrap_or(0),
            );
        }
    }
    (0, 0)
}

/// node's test runner: "# pass 2" and "# fail 1" (or "ℹ pass 2" from the spec reporter).
fn count_node(output: &str) -> (u32, u32) {
    let find = |key: &str| {
        output.lines().rev().find_map(|l| {
            let l = l.trim_start_matches(['#', 'ℹ', ' ']);
            l.strip_prefix(key)
                .and_then(|n| n.trim().parse::<u32>().ok())
        })
    };
    (find("pass ").unwrap_or(0), find("fail ").unwrap_or(0))
}

/// cargo test: every "test result: … N passed; M failed;" line, added up.
fn count_cargo(output: &str) -> (u32, u32) {
    output
        .lines()
        .filter(|l| l.starts_with("test result:"))
        .map(|l| {
            (
                number_before(l, &["passed"]).unwrap_or(0),
                number_before(l, &["failed"]).unwrap_or(0),
            )
        })
        .fold((0, 0), |(p, f), (lp, lf)| (p + lp, f + lf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_pytest_and_flotilla_runner_summaries() {
        assert_eq!(count_pytest("..F\n1 failed, 2 passed in 0.03s\n"), (2, 1));
        assert_eq!(count_pytest("=== 3 passed in 0.01s ===\n"), (3, 0));
        assert_eq!(count_pytest("E   SyntaxError\n1 error in 0.02s\n"), (0, 1));
        assert_eq!(count_pytest("PASSED t::a\n4 passed, 0 failed\n"), (4, 0));
        assert_eq!(count_pytest("nothing here\n"), (0, 0));
    }

    #[test]
    fn counts_node_summaries() {
        let tap = "# tests 3\n# suites 0\n# pass 2\n# fail 1\n# cancelled 0\n";
        assert_eq!(count_node(tap), (2, 1));
        assert_eq!(count_node("ℹ tests 1\nℹ pass 1\nℹ fail 0\n"), (1, 0));
    }

    #[test]
    fn counts_cargo_summaries() {
        let out = "test result: ok. 0 passed; 0 failed; 0 ignored\n\
                   test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured\n";
        assert_eq!(count_cargo(out), (2, 1));
    }
}
