//! Runs a workflow's tests in the sandbox, per language: Python with pytest when it can be
//! imported and otherwise the runner shipped in `assets/`; JavaScript with `node --test`; Rust as
//! a scratch crate under `cargo test`.

use crate::language::Language;
mod toolchain;

pub use crate::sandbox::find_program;
pub use toolchain::Toolchain;

use crate::sandbox::{self, Finished, Job, Limits};
use std::path::Path;
use tokio_util::sync::CancellationToken;

/// The fallback Python runner, embedded at build time.
pub const PYTHON_RUNNER: &str = include_str!("../../assets/python_test_runner.py");
/// The behaviour probes: the values a candidate returns for given calls.
pub const PYTHON_PROBE: &str = include_str!("../../assets/python_probe.py");
pub const NODE_PROBE: &str = include_str!("../../assets/node_probe.js");
pub const RUST_PROBE: &str = include_str!("../../assets/rust_probe.rs");
/// Which top-level imports of Python code fail in the sandbox and can go.
pub const PYTHON_IMPORTS: &str = include_str!("../../assets/python_imports.py");

/// One test run: what the runner counted and how the process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestReport {
    pub passed: u32,
    pub failed: u32,
    /// Each test the runner named, and whether it passed.
    pub cases: Vec<(String, bool)>,
    /// False when the test file could not be loaded or compiled, so no test of it ran.
    pub loaded: bool,
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
    let scratch = scratch(tools, "run-")?;
    let dir = scratch.path();
    write(dir, language.code_file(), code)?;
    write(dir, language.test_file(), tests)?;
    let (job, runner) = match language {
        Language::Python if tools.prefer_pytest && tools.has_pytest() => (
            toolchain_job(
                tools,
                language,
                dir,
                &[
                    "-m",
                    "pytest",
                    "-q",
                    "-rA",
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
                toolchain_job(
                    tools,
                    language,
                    dir,
                    &["_flotilla_runner.py", language.test_file()],
                ),
                "flotilla's python runner",
            )
        }
        Language::Javascript => (
            toolchain_job(
                tools,
                language,
                dir,
                &["--test", "--test-reporter=tap", language.test_file()],
            ),
            "node --test",
        ),
        Language::Rust => (
            cargo_job(tools, dir, &["test", "--offline", "--color", "never"])?,
            "cargo test",
        ),
    };
    let finished = sandbox::run(&job, limits, cancel, on_output).await?;
    let (passed, failed) = match language {
        Language::Python => count_pytest(&finished.output),
        Language::Javascript => count_node(&finished.output),
        Language::Rust => count_cargo(&finished.output),
    };
    let cases = match language {
        Language::Python => cases_pytest(&finished.output),
        Language::Javascript => cases_tap(&finished.output, language.test_file()),
        Language::Rust => cases_cargo(&finished.output),
    };
    let loaded = match language {
        Language::Python => !python_load_failed(&finished.output),
        Language::Javascript => !cases.iter().any(|(n, _)| n == language.test_file()),
        Language::Rust => finished
            .output
            .lines()
            .any(|l| l.starts_with("test result:")),
    } && !finished.timed_out
        && !finished.cancelled;
    Ok(TestReport {
        passed,
        failed,
        cases,
        loaded,
        runner,
        finished,
    })
}

/// A `cargo` job in the scratch crate at `dir` (its manifest written), building into a target
/// directory of its own there. A shared one ran the wrong code: every candidate is a crate
/// named `solution`, and one written while another was building looked built already (its
/// source older than the other's artifacts). With no dependencies, nothing is lost.
fn cargo_job(tools: &Toolchain, dir: &Path, args: &[&str]) -> std::io::Result<Job> {
    write(dir, "Cargo.toml", RUST_MANIFEST)?;
    let mut job = toolchain_job(tools, Language::Rust, dir, args);
    job.env.push((
        "CARGO_TARGET_DIR".into(),
        dir.join("target").display().to_string(),
    ));
    job.env
        .push(("CARGO_TERM_PROGRESS_WHEN".into(), "never".into()));
    Ok(job)
}

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probed {
    /// What `code` returned for each call (a repr, or `!Exception`; Rust's `{:?}`, `!panic`,
    /// `!Timeout`); `None` when the run gave no answer (a timeout, a crash).
    pub values: Option<Vec<String>>,
    /// The sandbox's protections line for the run (empty when nothing ran).
    pub protections: String,
}

impl Probed {
    fn nothing() -> Self {
        Self {
            values: None,
            protections: String::new(),
        }
    }
}

/// Runs `code` on each call in `exprs` in the sandbox.
pub async fn probe(
    language: Language,
    code: &str,
    exprs: &[String],
    tools: &Toolchain,
    limits: &Limits,
    cancel: &CancellationToken,
) -> std::io::Result<Probed> {
    if exprs.is_empty() {
        return Ok(Probed::nothing());
    }
    let (script, text) = match language {
        Language::Python => ("_flotilla_probe.py", PYTHON_PROBE),
        Language::Javascript => ("_flotilla_probe.js", NODE_PROBE),
        Language::Rust => return probe_rust(code, exprs, tools, limits, cancel).await,
    };
    let scratch = scratch(tools, "probe-")?;
    let dir = scratch.path();
    write(dir, language.code_file(), code)?;
    write(dir, script, text)?;
    let list = serde_json::to_string(exprs).map_err(std::io::Error::other)?;
    write(dir, "_flotilla_probe.json", &list)?;
    let mut limits = *limits;
    limits.timeout = limits.timeout.min(std::time::Duration::from_secs(30));
    let job = toolchain_job(tools, language, dir, &[script]);
    let finished = sandbox::run(&job, &limits, cancel, &mut |_| {}).await?;
    let values = probe_values(&finished.output).filter(|v| v.len() == exprs.len());
    Ok(Probed {
        values,
        protections: finished.protections,
    })
}

/// The top-level imports of Python `code` that fail in the sandbox's Python (`import numpy`,
/// `from itertools import intersperse`) and bind no name the code reads but a builtin's (see
/// `assets/python_imports.py`): 1-based, inclusive line ranges. Such a line stops the code from
/// loading at all, and without it nothing else changes. Other languages: none.
pub async fn failing_imports(
    language: Language,
    code: &str,
    tools: &Toolchain,
    limits: &Limits,
    cancel: &CancellationToken,
) -> std::io::Result<Vec<(usize, usize)>> {
    if language != Language::Python {
        return Ok(Vec::new());
    }
    let scratch = scratch(tools, "imports-")?;
    let dir = scratch.path();
    write(dir, language.code_file(), code)?;
    let script = "_flotilla_imports.py";
    write(dir, script, PYTHON_IMPORTS)?;
    let mut limits = *limits;
    limits.timeout = limits.timeout.min(std::time::Duration::from_secs(30));
    let job = toolchain_job(tools, language, dir, &[script]);
    let finished = sandbox::run(&job, &limits, cancel, &mut |_| {}).await?;
    Ok(import_lines(&finished.output))
}

/// The ranges after the import check's marker: `FLOTILLA_IMPORTS [[1, 1], [3, 4]]`.
fn import_lines(output: &str) -> Vec<(usize, usize)> {
    output
        .lines()
        .rev()
        .find_map(|l| l.split_once("FLOTILLA_IMPORTS ").map(|(_, json)| json))
        .and_then(|json| serde_json::from_str::<Vec<(usize, usize)>>(json).ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|(start, end)| *start >= 1 && start <= end)
        .collect()
}

/// The file of the Rust probe, an integration test of the candidate's crate.
const RUST_PROBE_FILE: &str = "tests/_flotilla_probe.rs";
/// What every probe records for a call whose arguments the code rejects by type: Python's and
/// JavaScript's exception, and a Rust call that does not compile.
pub const TYPE_ERROR: &str = "!TypeError";

/// Rust's probe: the calls are compiled into one test (`assets/rust_probe.rs`). A call the
/// compiler rejects is answered `!TypeError` and the test built again without it (at most
/// twice more); code that does not compile answers `!CompileError` for every call.
async fn probe_rust(
    code: &str,
    exprs: &[String],
    tools: &Toolchain,
    limits: &Limits,
    cancel: &CancellationToken,
) -> std::io::Result<Probed> {
    let scratch = scratch(tools, "probe-")?;
    let dir = scratch.path();
    write(dir, Language::Rust.code_file(), code)?;
    let job = cargo_job(
        tools,
        dir,
        &[
            "test",
            "--offline",
            "--color",
            "never",
            "--message-format",
            "short",
            "--test",
            "_flotilla_probe",
            "--",
            "--nocapture",
        ],
    )?;
    let mut rejected = vec![false; exprs.len()];
    let mut protections = String::new();
    for _build in 0..3 {
        let (test, first_line) = rust_probe_test(exprs, &rejected);
        write(dir, RUST_PROBE_FILE, &test)?;
        let finished = sandbox::run(&job, limits, cancel, &mut |_| {}).await?;
        protections = finished.protections.clone();
        if let Some(values) = probe_values(&finished.output).filter(|v| v.len() == exprs.len()) {
            return Ok(Probed {
                values: Some(values),
                protections,
            });
        }
        let errors = compile_errors(&finished.output);
        if errors
            .iter()
            .any(|(file, _)| file == Language::Rust.code_file())
        {
            return Ok(Probed {
                values: Some(vec!["!CompileError".to_owned(); exprs.len()]),
                protections,
            });
        }
        let mut more = false;
        for (file, line) in errors {
            let Some(i) = line.checked_sub(first_line) else {
                continue;
            };
            if file == RUST_PROBE_FILE && i < exprs.len() && !rejected[i] {
                rejected[i] = true;
                more = true;
            }
        }
        if !more {
            break;
        }
    }
    Ok(Probed {
        values: None,
        protections,
    })
}

/// The probe test with one line per call from `first_line` on (1-based), the rejected ones
/// answered `!TypeError` without being compiled.
fn rust_probe_test(exprs: &[String], rejected: &[bool]) -> (String, usize) {
    let marker = "    // FLOTILLA_PROBES\n";
    let (head, tail) = RUST_PROBE.split_once(marker).unwrap_or((RUST_PROBE, ""));
    let first_line = head.lines().count() + 1;
    let mut test = head.to_owned();
    for (expr, rejected) in exprs.iter().zip(rejected) {
        if *rejected {
            test.push_str(&format!("    out.push({TYPE_ERROR:?}.to_owned());\n"));
        } else {
            let expr = expr.replace(['\n', '\r'], " ");
            test.push_str(&format!("    out.push(flotilla_show(move || ({expr})));\n"));
        }
    }
    test.push_str(tail);
    (test, first_line)
}

/// The values a probe printed after its marker (the last such line).
fn probe_values(output: &str) -> Option<Vec<String>> {
    output
        .lines()
        .rev()
        .find_map(|l| l.split_once("FLOTILLA_PROBE ").map(|(_, json)| json))
        .and_then(|json| serde_json::from_str::<Vec<String>>(json).ok())
}

/// Where `cargo --message-format short` reported errors: `src/lib.rs:3:5: error[E0308]: …`
/// → (`src/lib.rs`, 3).
fn compile_errors(output: &str) -> Vec<(String, usize)> {
    output
        .lines()
        .filter_map(|l| {
            let (place, _) = l.split_once(": error")?;
            let mut parts = place.rsplitn(3, ':');
            let _column = parts.next()?;
            let line = parts.next()?.parse().ok()?;
            let file = parts.next()?.trim().to_owned();
            Some((file, line))
        })
        .collect()
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
        ..Job::default()
    }
}

/// A job for `language`'s toolchain: its program, resolved outside the sandbox (so a pyenv
/// shim is not needed inside), and the folders of the toolchain it may read.
fn toolchain_job(tools: &Toolchain, language: Language, dir: &Path, args: &[&str]) -> Job {
    let (program, read_only) = tools.confinement(language);
    let mut job = job(dir, &program, args);
    job.read_only = read_only;
    job
}

/// A fresh scratch folder under the toolchain's, removed when dropped.
fn scratch(tools: &Toolchain, prefix: &str) -> std::io::Result<tempfile::TempDir> {
    std::fs::create_dir_all(&tools.scratch_dir)?;
    // The pid in the name tells a later flotilla whether the folder's owner is still alive.
    tempfile::Builder::new()
        .prefix(&format!("{prefix}{}-", std::process::id()))
        .tempdir_in(&tools.scratch_dir)
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

/// pytest's `-rA` summary lines (and flotilla's runner's): `PASSED test_solution.py::test_a`,
/// `FAILED test_solution.py::TestX::test_b - assert …`.
fn cases_pytest(output: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for line in output.lines() {
        let (passed, rest) = if let Some(r) = line.strip_prefix("PASSED ") {
            (true, r)
        } else if let Some(r) = line.strip_prefix("FAILED ") {
            (false, r)
        } else {
            continue;
        };
        let id = rest.split(" - ").next().unwrap_or(rest).trim();
        let name = id.split_once("::").map_or(id, |(_, n)| n).to_owned();
        if let Some(existing) = out.iter_mut().find(|(n, _)| *n == name) {
            existing.1 = passed;
        } else {
            out.push((name, passed));
        }
    }
    out
}

/// The test file (or the code it imports) failed before any test ran.
fn python_load_failed(output: &str) -> bool {
    output.contains("error during collection")
        || output.contains("ERROR collecting")
        || output
            .lines()
            .any(|l| l.starts_with("ERROR ") && !l.contains("::"))
}

/// TAP from `node --test --test-reporter=tap`: `ok 1 - name`, `not ok 2 - name`, nested
/// subtests indented (their names keep the parent's, `describe > it`).
fn cases_tap(output: &str, test_file: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut subtests: Vec<(usize, String)> = Vec::new();
    for line in output.lines() {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim_start();
        if let Some(name) = t.strip_prefix("# Subtest: ") {
            subtests.retain(|(i, _)| *i < indent);
            subtests.push((indent, name.to_owned()));
            continue;
        }
        let (passed, rest) = if let Some(r) = t.strip_prefix("not ok ") {
            (false, r)
        } else if let Some(r) = t.strip_prefix("ok ") {
            (true, r)
        } else {
            continue;
        };
        let Some((_, name)) = rest.split_once(" - ") else {
            continue;
        };
        let name = name.split(" # ").next().unwrap_or(name).trim();
        let parents: Vec<&str> = subtests
            .iter()
            .filter(|(i, _)| *i < indent)
            .map(|(_, n)| n.as_str())
            .collect();
        let full = if parents.is_empty() || name.ends_with(test_file) {
            name.to_owned()
        } else {
            format!("{} > {name}", parents.join(" > "))
        };
        out.push((full, passed));
    }
    out
}

/// cargo test: `test tests::a ... ok`, `test b ... FAILED`.
fn cases_cargo(output: &str) -> Vec<(String, bool)> {
    output
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("test ")?;
            let (name, verdict) = rest.rsplit_once(" ... ")?;
            match verdict.trim() {
                "ok" => Some((name.trim().to_owned(), true)),
                "FAILED" => Some((name.trim().to_owned(), false)),
                _ => None,
            }
        })
        .collect()
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

    #[test]
    fn names_each_case() {
        let pytest = "..F\n=== short test summary info ===\nPASSED test_solution.py::test_a\nPASSED test_solution.py::TestX::test_b\nFAILED test_solution.py::test_c - assert 1 == 2\n1 failed, 2 passed\n";
        assert_eq!(
            cases_pytest(pytest),
            [
                ("test_a".into(), true),
                ("TestX::test_b".into(), true),
                ("test_c".into(), false)
            ]
        );
        assert!(!python_load_failed(pytest));
        assert!(python_load_failed(
            "ERROR test_solution.py - NameError\n!!! Interrupted: 1 error during collection !!!\n"
        ));
        let tap = "TAP version 13\n# Subtest: adds\nok 1 - adds\n  ---\n# Subtest: group\n    # Subtest: inner\n    not ok 1 - inner\n    1..1\nnot ok 2 - group\n1..2\n";
        assert_eq!(
            cases_tap(tap, "solution.test.js"),
            [
                ("adds".into(), true),
                ("group > inner".into(), false),
                ("group".into(), false)
            ]
        );
        let cargo = "running 2 tests\ntest adds ... ok\ntest tests::neg ... FAILED\ntest slow ... ignored\n";
        assert_eq!(
            cases_cargo(cargo),
            [("adds".into(), true), ("tests::neg".into(), false)]
        );
    }
}
