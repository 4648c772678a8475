//! The project's own tests, run in the sandbox on a copy of the workflow's worktree (with a
//! candidate in place, or at the base for the baseline), read test by test.

use super::{
    ProjectSpace, Read, TestReport, Toolchain, place_code, read_output, scratch, tool_job,
    toolchain_job, write,
};
use crate::language::{Output, ProjectRun, RunOn};
use crate::project::TestCommand;
use crate::sandbox::{self, Job, Limits};
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
    let (job, runner, format) = project_job(tools, &space, &command, dir)?;
    let finished = sandbox::run(&job, limits, cancel, on_output).await?;
    let read = read_project(format, &finished.output);
    let loaded =
        read.loaded && !(read.cases.is_empty() || finished.timed_out || finished.cancelled);
    Ok(Some(TestReport {
        passed: read.passed,
        failed: read.failed,
        cases: read.cases,
        loaded,
        runner,
        finished,
    }))
}

/// The job that runs the project's test command in `dir`, the runner's name, and the format
/// its output reads in (`None`: a command of the user's, read in every format).
fn project_job(
    tools: &Toolchain,
    space: &ProjectSpace,
    command: &TestCommand,
    dir: &std::path::Path,
) -> std::io::Result<(Job, &'static str, Option<Output>)> {
    let on = RunOn {
        pytest: tools.prefer_pytest && tools.has_pytest(),
        project: true,
    };
    Ok(match command.run {
        ProjectRun::Tool { tool, args } => {
            let run = args(on, &space.files);
            if let Some((name, text)) = run.support {
                write(dir, name, text)?;
            }
            let job = tool_job(tools, tool, dir, &run.args)?;
            (job, run.runner, Some(run.output))
        }
        ProjectRun::Shell(output) => (
            shell_job(tools, space, command, dir),
            "the project's test command",
            output,
        ),
    })
}

/// A detected command (`npm test`) or the user's own, under `sh -c`.
fn shell_job(
    tools: &Toolchain,
    space: &ProjectSpace,
    command: &TestCommand,
    dir: &std::path::Path,
) -> Job {
    let tool = space.layout.language.rules().tool;
    let mut job = toolchain_job(tools, tool, dir, &["-c", &command.line]);
    // The toolchain's folders lead the PATH, so `python`, `node`, `npm` and `cargo` are the
    // ones the sandbox can read.
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
    job
}

/// Reads the project's test output in its runner's format; a command of the user's is read
/// in each format, and the one that names the most tests wins.
fn read_project(format: Option<Output>, output: &str) -> Read {
    // pytest's cases by whole id: a project's test files can hold tests of the same name.
    let pytest = || {
        let read = read_output(Output::Pytest, output, "");
        Read {
            cases: test_ids(output),
            ..read
        }
    };
    match format {
        Some(Output::Pytest) => pytest(),
        Some(format) => read_output(format, output, ""),
        None => [
            pytest(),
            read_output(Output::Cargo, output, ""),
            read_output(Output::Tap, output, ""),
        ]
        .into_iter()
        .max_by_key(|r| (r.cases.len(), r.passed + r.failed))
        .map(|r| Read { loaded: true, ..r })
        .unwrap_or_else(|| read_output(Output::Tap, output, "")),
    }
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
