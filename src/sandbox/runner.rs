//! Runs a workflow's tests in the sandbox, per language: Python with pytest when it can be
//! imported and otherwise the runner shipped in `assets/`; JavaScript with `node --test`; Rust as
//! a scratch crate under `cargo test`.

use crate::language::{Language, Output, RunOn, Tool};
mod probe;
mod toolchain;

pub use crate::sandbox::find_program;
pub use probe::{Probed, TYPE_ERROR, failing_imports, probe};
pub use toolchain::{ProjectSpace, Toolchain};
mod project;
pub use project::{project_tests, regressions};

use crate::sandbox::{self, Finished, Job, Limits};
use std::path::Path;
use tokio_util::sync::CancellationToken;

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
    place_code(tools, language, dir, code)?;
    write(dir, language.test_file(), &tests_for_run(tools, tests))?;
    let rules = language.rules();
    let on = RunOn {
        pytest: tools.prefer_pytest && tools.has_pytest(),
        project: tools.project.is_some(),
    };
    let run = (rules.test_run)(on);
    if let Some((name, text)) = run.support {
        write(dir, name, text)?;
    }
    let job = tool_job(tools, rules.tool, dir, &run.args)?;
    let finished = sandbox::run(&job, limits, cancel, on_output).await?;
    let read = read_output(run.output, &finished.output, rules.test_file);
    let (passed, failed, cases) = (read.passed, read.failed, read.cases);
    let loaded = read.loaded && !finished.timed_out && !finished.cancelled;
    let runner = run.runner;
    Ok(TestReport {
        passed,
        failed,
        cases,
        loaded,
        runner,
        finished,
    })
}

/// What a test runner's output says.
pub(super) struct Read {
    pub passed: u32,
    pub failed: u32,
    pub cases: Vec<(String, bool)>,
    /// The test file loaded (or compiled): its tests could run.
    pub loaded: bool,
}

/// Reads a runner's output in its format; `test_file` is the suite's file, which TAP names as a
/// failed case when it could not load.
pub(super) fn read_output(format: Output, output: &str, test_file: &str) -> Read {
    let ((passed, failed), cases, loaded) = match format {
        Output::Pytest => (
            count_pytest(output),
            cases_pytest(output),
            !python_load_failed(output),
        ),
        Output::Tap => {
            let cases = cases_tap(output, test_file);
            let loaded = test_file.is_empty() || !cases.iter().any(|(n, _)| n == test_file);
            (count_node(output), cases, loaded)
        }
        Output::Cargo => (
            count_cargo(output),
            cases_cargo(output),
            output.lines().any(|l| l.starts_with("test result:")),
        ),
    };
    Read {
        passed,
        failed,
        cases,
        loaded,
    }
}

/// A `cargo` job in the scratch crate at `dir` (its manifest written), building into a target
/// directory of its own there. A shared one ran the wrong code: every candidate is a crate
/// named `solution`, and one written while another was building looked built already (its
/// source older than the other's artifacts). With no dependencies, nothing is lost.
/// The job that runs `tool` with `args` in `dir`.
fn tool_job(tools: &Toolchain, tool: Tool, dir: &Path, args: &[String]) -> std::io::Result<Job> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match tool {
        Tool::Cargo => cargo_job(tools, dir, &args),
        tool => Ok(toolchain_job(tools, tool, dir, &args)),
    }
}

fn cargo_job(tools: &Toolchain, dir: &Path, args: &[&str]) -> std::io::Result<Job> {
    // A project's crate has its own manifest.
    if tools.project.is_none() {
        write(dir, "Cargo.toml", RUST_MANIFEST)?;
    }
    let mut job = toolchain_job(tools, Tool::Cargo, dir, args);
    job.env.push((
        "CARGO_TARGET_DIR".into(),
        dir.join("target").display().to_string(),
    ));
    job.env
        .push(("CARGO_TERM_PROGRESS_WHEN".into(), "never".into()));
    Ok(job)
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
fn toolchain_job(tools: &Toolchain, tool: Tool, dir: &Path, args: &[&str]) -> Job {
    let (program, read_only) = tools.confinement(tool);
    let mut job = job(dir, &program, args);
    job.read_only = read_only;
    if let Some(space) = &tools.project {
        job.read_only.extend(space.read_only.iter().cloned());
        for (key, value) in &space.env {
            job.env
                .push((key.clone(), dir.join(value).display().to_string()));
        }
    }
    job
}

/// A fresh scratch folder under the toolchain's, removed when dropped; on a project, holding a
/// copy of the project's files.
fn scratch(tools: &Toolchain, prefix: &str) -> std::io::Result<tempfile::TempDir> {
    std::fs::create_dir_all(&tools.scratch_dir)?;
    // The pid in the name tells a later flotilla whether the folder's owner is still alive.
    let scratch = tempfile::Builder::new()
        .prefix(&format!("{prefix}{}-", std::process::id()))
        .tempdir_in(&tools.scratch_dir)?;
    if let Some(space) = &tools.project {
        space.copy_into(scratch.path())?;
    }
    Ok(scratch)
}

/// Writes a candidate where the runs load it: the language's file of its own, or on a project
/// its place in the project, the changes every candidate brings, and the shim that makes it
/// `solution` to the tests and probes.
fn place_code(
    tools: &Toolchain,
    language: Language,
    dir: &Path,
    code: &str,
) -> std::io::Result<()> {
    let Some(space) = &tools.project else {
        return write(dir, language.code_file(), code);
    };
    write(dir, &space.layout.code_path, code)?;
    for (path, text) in &space.layout.extra {
        write(dir, path, text)?;
    }
    if let Some((name, text)) = space.layout.shim() {
        write(dir, name, &text)?;
    }
    Ok(())
}

/// A suite as it runs: on a project, pointing at the code where it is (Rust has no shim).
fn tests_for_run<'t>(tools: &Toolchain, tests: &'t str) -> std::borrow::Cow<'t, str> {
    match &tools.project {
        Some(space) => std::borrow::Cow::Owned(space.layout.tests_for_run(tests)),
        None => std::borrow::Cow::Borrowed(tests),
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

/// pytest's `-rA` summary lines (`PASSED a.py::test_x`, `FAILED a.py::T::test_y - assert …`,
/// and with `errors` also `ERROR …`): whether each passed, and its whole test id.
pub(super) fn pytest_lines(output: &str, errors: bool) -> impl Iterator<Item = (bool, &str)> {
    output.lines().filter_map(move |line| {
        let (passed, rest) = if let Some(r) = line.strip_prefix("PASSED ") {
            (true, r)
        } else if let Some(r) = line.strip_prefix("FAILED ") {
            (false, r)
        } else if let Some(r) = line.strip_prefix("ERROR ").filter(|_| errors) {
            (false, r)
        } else {
            return None;
        };
        Some((passed, rest.split(" - ").next().unwrap_or(rest).trim()))
    })
}

/// pytest's `-rA` summary lines (and flotilla's runner's): `PASSED test_solution.py::test_a`,
/// `FAILED test_solution.py::TestX::test_b - assert …`, by test name.
fn cases_pytest(output: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for (passed, id) in pytest_lines(output, false) {
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
