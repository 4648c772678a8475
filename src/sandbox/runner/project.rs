//! The project's own tests, run in the sandbox on a copy of the workflow's worktree (with a
//! candidate in place, or at the base for the baseline), read test by test.

use super::{
    PYTHON_RUNNER, TestReport, Toolchain, cargo_job, cases_cargo, cases_tap, count_cargo,
    count_node, count_pytest, place_code, python_load_failed, scratch, toolchain_job, write,
};
use crate::language::Language;
use crate::project::Runner;
use crate::sandbox::{self, Limits};
use std::collections::BTreeSet;
use tokio_util::sync::CancellationToken;

/// Runs the project's test command on the worktree's files, with `code` in its place when
/// given (`None`: the base, for the baseline). `Ok(None)` when the project has no tests.
pub async fn project_tests(
    tools: &Toolchain,
    code: Option<&str>,
    limits: &Limits,
    cancel: &CancellationToken,
    on_output: &mut (dyn FnMut(&str) + Send),
) -> std::io::Result<Option<TestReport>> {
    let Some(space) = tools.project.clone() else {
        return Ok(None);
    };
    let Some(command) = space.command.clone() else {
        return Ok(None);
    };
    let scratch = scratch(tools, "project-")?;
    let dir = scratch.path();
    if let Some(code) = code {
        place_code(tools, space.layout.language, dir, code)?;
        // The shim is for flotilla's own suites; the project's tests never see it.
        if let Some((name, _)) = space.layout.shim() {
            let _ = std::fs::remove_file(dir.join(name));
        }
    }
    let (job, runner) = match command.runner {
        Runner::Pytest if tools.prefer_pytest && tools.has_pytest() => (
            toolchain_job(
                tools,
                Language::Python,
                dir,
                &["-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider"],
            ),
            "pytest",
        ),
        Runner::Pytest => {
            write(dir, "_flotilla_runner.py", PYTHON_RUNNER)?;
            let mut args = vec!["_flotilla_runner.py".to_owned()];
            args.extend(space.files.iter().filter(|f| is_python_test(f)).cloned());
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            (
                toolchain_job(tools, Language::Python, dir, &args),
                "flotilla's python runner",
            )
        }
        Runner::Cargo => (
            cargo_job(tools, dir, &["test", "--offline", "--color", "never"])?,
            "cargo test",
        ),
        Runner::Node => (
            toolchain_job(
                tools,
                Language::Javascript,
                dir,
                &["--test", "--test-reporter=tap"],
            ),
            "node --test",
        ),
        Runner::Npm | Runner::Shell => {
            let line = if command.runner == Runner::Npm {
                "npm test".to_owned()
            } else {
                command.line.clone()
            };
            let mut job = toolchain_job(tools, space.layout.language, dir, &["-c", &line]);
            // The toolchain's folders lead the PATH, so `python`, `node`, `npm` and `cargo` are
            // the ones the sandbox can read.
            let mut path: Vec<String> = Vec::new();
            let program = std::path::Path::new(&job.program);
            if let Some(bin) = program.parent() {
                path.push(bin.display().to_string());
            }
            for p in &space.read_only {
                path.push(p.join("bin").display().to_string());
            }
            path.push("/usr/local/bin:/usr/bin:/bin".to_owned());
            job.program = "/bin/sh".to_owned();
            job.env.push(("PATH".into(), path.join(":")));
            job.env.push(("CI".into(), "1".into()));
            (job, "the project's test command")
        }
    };
    let finished = sandbox::run(&job, limits, cancel, on_output).await?;
    let output = &finished.output;
    let (cases, (passed, failed)) = match command.runner {
        Runner::Pytest => (test_ids(output), count_pytest(output)),
        Runner::Cargo => (cases_cargo(output), count_cargo(output)),
        Runner::Node | Runner::Npm => (cases_tap(output, ""), count_node(output)),
        Runner::Shell => {
            // Read with every parser; the one that names the most tests wins.
            let readings = [
                (test_ids(output), count_pytest(output)),
                (cases_cargo(output), count_cargo(output)),
                (cases_tap(output, ""), count_node(output)),
            ];
            readings
                .into_iter()
                .max_by_key(|(c, (p, f))| (c.len(), p + f))
                .unwrap_or_default()
        }
    };
    let broken = command.runner == Runner::Pytest && python_load_failed(output);
    let loaded = !(cases.is_empty() || broken || finished.timed_out || finished.cancelled);
    Ok(Some(TestReport {
        passed,
        failed,
        cases,
        loaded,
        runner,
        finished,
    }))
}

/// pytest's `-rA` lines with the whole test id (`tests/test_a.py::test_x`): a project's test
/// files can hold tests of the same name.
fn test_ids(output: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for (passed, id) in super::pytest_lines(output, true) {
        match out.iter_mut().find(|(n, _)| n == id) {
            Some(existing) => existing.1 = passed && existing.1,
            None => out.push((id.to_owned(), passed)),
        }
    }
    out
}

fn is_python_test(file: &str) -> bool {
    let name = file.rsplit('/').next().unwrap_or(file);
    file.ends_with(".py") && (name.starts_with("test_") || name.ends_with("_test.py"))
}

/// The tests that passed at the base and do not pass with the candidate: failed, or gone
/// (a file that no longer loads takes its tests with it).
pub fn regressions(baseline: &TestReport, run: &TestReport) -> Vec<String> {
    let passing = |r: &TestReport| -> BTreeSet<String> {
        r.cases
            .iter()
            .filter(|(_, ok)| *ok)
            .map(|(n, _)| n.clone())
            .collect()
    };
    let now = passing(run);
    passing(baseline)
        .into_iter()
        .filter(|t| !now.contains(t))
        .collect()
}
