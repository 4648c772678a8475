//! `flotilla doctor`'s repository checks: whether flotilla sees a repository, its test command,
//! and how its tests fare at the base.

use super::{Report, Verdict};
use crate::engine::Engine;
use crate::project::{Project, TestCommand};
use crate::sandbox::runner::{ProjectSpace, Toolchain};
use std::path::Path;

/// Whether flotilla sees a repository, its test command, and how its tests fare at the base
/// (run in the sandbox on the base commit's files, exported with `git archive`: nothing of the
/// checkout is touched). The repository as JSON, or null outside one.
pub(super) async fn check_project(engine: &Engine, report: &mut Report<'_>) -> serde_json::Value {
    let Some(project) = &engine.config().project else {
        report.add(
            "repository".into(),
            Verdict::Ok,
            "none: started outside a git repository, workflows write standalone files".into(),
            Some("start flotilla inside a repository, or pass --project DIR, to work on it".into()),
        );
        return serde_json::Value::Null;
    };
    let base = project.base_commit();
    let command = project.test_command.as_ref();
    let mut value = serde_json::json!({
        "root": project.root,
        "kind": project.kind.as_str(),
        "base": base.as_ref().ok(),
        "test_command": command.map(|c| c.display()),
        "test_command_from": command.map(|c| c.origin.clone()),
        "venv": project.venv,
        "baseline": null,
    });
    let base = match base {
        Ok(b) => b,
        Err(e) => {
            report.add(
                "repository".into(),
                Verdict::Failed,
                format!("{}: {e}", project.root.display()),
                None,
            );
            return value;
        }
    };
    report.add(
        "repository".into(),
        Verdict::Ok,
        format!(
            "{} ({}), workflows start from {} ({})",
            project.root.display(),
            project.kind.as_str(),
            base.get(..10).unwrap_or(&base),
            project.base.as_deref().unwrap_or("HEAD")
        ),
        None,
    );
    let Some(command) = command else {
        report.add(
            "project tests".into(),
            Verdict::Warning,
            "none found: only the generated tests judge the code".into(),
            Some(format!(
                "set test_command in {} or in .flotilla.toml",
                engine.home().config_file.display()
            )),
        );
        return value;
    };
    if let Some(passing) = check_tests(engine, project, &base, command, report).await {
        value["baseline"] = passing;
    }
    value
}

/// The project's tests at the base, reported; how many pass of how many as JSON when they ran.
async fn check_tests(
    engine: &Engine,
    project: &Project,
    base: &str,
    command: &TestCommand,
    report: &mut Report<'_>,
) -> Option<serde_json::Value> {
    let named = format!("{} ({})", command.display(), command.origin);
    match baseline(engine, project, base).await {
        Ok((passing, total)) => {
            let verdict = if passing == 0 {
                Verdict::Warning
            } else {
                Verdict::Ok
            };
            report.add(
                "project tests".into(),
                verdict,
                format!("{named}: {passing} of {total} pass at the base"),
                (passing == 0).then(|| "a test must pass at the base to judge anything".to_owned()),
            );
            Some(serde_json::json!({"passing": passing, "tests": total}))
        }
        Err(e) => {
            report.add(
                "project tests".into(),
                Verdict::Failed,
                format!("{named}: could not run: {e}"),
                None,
            );
            None
        }
    }
}

/// The project's tests on the base commit's files: how many pass, of how many.
async fn baseline(
    engine: &Engine,
    project: &Project,
    base: &str,
) -> Result<(usize, usize), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let files_dir = dir.path().join("files");
    let files = export(project, base, dir.path(), &files_dir)?;
    let tools = project_tools(engine, project, &files_dir, files);
    let cancel = tokio_util::sync::CancellationToken::new();
    let report = crate::sandbox::runner::project_tests(
        &tools,
        None,
        &engine.config().pipeline.limits,
        &cancel,
        &mut |_| {},
    )
    .await
    .map_err(|e| e.to_string())?
    .ok_or_else(|| "no test command".to_owned())?;
    let passing = report.cases.iter().filter(|(_, ok)| *ok).count();
    Ok((passing, report.cases.len()))
}

/// The base commit's files in `files_dir` (by `git archive`, a tar in `scratch`), and their
/// paths.
fn export(
    project: &Project,
    base: &str,
    scratch: &Path,
    files_dir: &Path,
) -> Result<Vec<String>, String> {
    let tar = scratch.join("base.tar");
    std::fs::create_dir_all(files_dir).map_err(|e| e.to_string())?;
    project
        .git()
        .run(&[
            "archive",
            "--format=tar",
            "-o",
            &tar.to_string_lossy(),
            base,
        ])
        .map_err(|e| e.to_string())?;
    let untar = std::process::Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(files_dir)
        .status()
        .map_err(|e| format!("tar: {e}"))?;
    if !untar.success() {
        return Err(format!("tar: {untar}"));
    }
    Ok(crate::project::git::Git::at(&project.root)
        .run(&["ls-tree", "-r", "-z", "--name-only", base])
        .map_err(|e| e.to_string())?
        .split('\0')
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect())
}

/// The runs' toolchain on the exported files, as a workflow's would be: the project's
/// virtualenv and node_modules readable, Python's path as the layout wants it.
fn project_tools(
    engine: &Engine,
    project: &Project,
    files_dir: &Path,
    files: Vec<String>,
) -> Toolchain {
    let language = project
        .kind
        .language()
        .unwrap_or(engine.config().pipeline.default_language);
    let layout = crate::project::Layout::choose(files_dir, &files, language, "doctor", None);
    let mut tools = engine.tools().clone();
    let mut read_only = Vec::new();
    if let Some(venv) = &project.venv {
        tools.python = venv.join("bin").join("python").display().to_string();
        read_only.push(venv.clone());
    }
    if let Some(modules) = &project.node_modules {
        read_only.push(modules.clone());
    }
    let env = layout
        .python_path
        .iter()
        .map(|d| ("PYTHONPATH".to_owned(), d.clone()))
        .collect();
    tools.project = Some(std::sync::Arc::new(ProjectSpace {
        root: files_dir.to_path_buf(),
        files,
        layout,
        read_only,
        env,
        command: project.test_command.clone(),
    }));
    tools
}
