//! The stages' part on a repository (see `project`): the map the plan sees, where the code
//! goes and what of the project the coder sees, candidates spliced into a file that exists,
//! the project's own tests at the base and for every candidate, and the commit on the
//! workflow's branch.

use super::StageContext;
use super::pool::Pool;
use super::select::Board;
use crate::event::Event;
use crate::extract::Code;
use crate::pipeline::plan::Plan;
use crate::project::{Layout, Project, map, splice};
use crate::sandbox::runner::{self, ProjectSpace, TestReport, Toolchain};
use crate::workflow::Failure;
use crate::workflow::change::Change;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

/// What the engine made for a workflow on a repository before its stages run.
#[derive(Debug, Clone)]
pub struct OnRepo {
    pub project: Project,
    /// The change as it stands: base, branch, worktree.
    pub change: Change,
    /// The files tracked at the base.
    pub files: Vec<String>,
}

/// Set once the plan has said where the code goes.
#[derive(Debug)]
pub struct Placed {
    pub layout: Layout,
    /// The runs' toolchain: the project's files copied into each scratch folder.
    pub tools: Toolchain,
    /// What the code requests say of the project.
    pub context: String,
    /// The file's contents at the base, when the code changes a file that exists.
    pub existing: Option<String>,
    /// The project's tests at the base.
    pub baseline: Mutex<Option<TestReport>>,
}

/// Characters of the repository map in the plan's prompt, and of the neighbours and the
/// existing file in the coder's (small models have small contexts).
const MAP_BUDGET: usize = 1600;
const NEIGHBOURS_BUDGET: usize = 600;
const EXISTING_BUDGET: usize = 2400;

/// Baselines already run, by repository, base commit and command: workflows started together
/// on one base share one run.
/// (repository, base commit, test command) → the baseline run.
type BaselineKey = (PathBuf, String, String);
static BASELINES: OnceLock<Mutex<HashMap<BaselineKey, TestReport>>> = OnceLock::new();

impl StageContext<'_> {
    /// The runs' toolchain: on a repository, the project's.
    pub(super) fn tools(&self) -> &Toolchain {
        match self.placed.get() {
            Some(placed) => &placed.tools,
            None => self.host.tools(),
        }
    }

    /// What the plan's prompt says of the repository: its map, and the question where the
    /// code goes.
    pub(super) fn plan_context(&self) -> String {
        let Some(repo) = self.repo else {
            return String::new();
        };
        let root = repo
            .change
            .worktree
            .as_deref()
            .unwrap_or(&repo.project.root);
        let entries = map::entries(root, &repo.files);
        let map = map::render(&entries, self.description, MAP_BUDGET);
        format!(
            "\n\nThe repository ({}), its files and definitions:\n{map}\nAlso answer, last:\nFile: <the path of the one file the code goes in, new or existing>",
            repo.project.kind.as_str()
        )
    }

    /// Decides where the code goes, from the plan's `File:` or the task's function, and readies
    /// the runs on the project's files.
    pub(super) fn place(&self, plan: &Plan, wanted: &[String]) -> Result<(), Failure> {
        let Some(repo) = self.repo else {
            return Ok(());
        };
        let root = repo
            .change
            .worktree
            .clone()
            .ok_or_else(|| Failure::Project("the workflow has no worktree".into()))?;
        let hint = wanted
            .first()
            .cloned()
            .or_else(|| self.record.lock().name.clone())
            .unwrap_or_else(|| "module".to_owned());
        let layout = Layout::choose(
            &root,
            &repo.files,
            plan.language,
            &hint,
            plan.file.as_deref(),
        );
        let existing = repo
            .files
            .contains(&layout.code_path)
            .then(|| std::fs::read_to_string(root.join(&layout.code_path)).ok())
            .flatten();
        let mut tools = self.host.tools().clone();
        let mut read_only = Vec::new();
        if let Some(venv) = &repo.project.venv {
            tools.python = venv.join("bin").join("python").display().to_string();
            read_only.push(venv.clone());
        }
        if let Some(modules) = &repo.project.node_modules {
            read_only.push(modules.clone());
        }
        let mut env = Vec::new();
        if let Some(dir) = &layout.python_path {
            env.push(("PYTHONPATH".to_owned(), dir.clone()));
        }
        if repo.project.node_modules.is_some() {
            env.push(("NODE_PATH".to_owned(), "node_modules".to_owned()));
        }
        tools.project = Some(Arc::new(ProjectSpace {
            root: root.clone(),
            files: repo.files.clone(),
            layout: layout.clone(),
            read_only,
            env,
            command: repo.project.test_command.clone(),
        }));
        let context = self.code_context(&layout, existing.as_deref(), &root, &repo.files);
        self.log.line(&format!(
            "the code goes in {}{}, its tests in {}; the project's tests: {}",
            layout.code_path,
            if existing.is_some() {
                " (a file that exists)"
            } else {
                " (a new file)"
            },
            layout.test_path,
            repo.project
                .test_command
                .as_ref()
                .map_or("none found".to_owned(), |c| format!(
                    "{} ({})",
                    c.display(),
                    c.origin
                ))
        ));
        let _ = self.placed.set(Placed {
            layout,
            tools,
            context,
            existing,
            baseline: Mutex::new(None),
        });
        Ok(())
    }

    /// What a code request says of the project: where the code goes, the file as it is when
    /// it exists, and the definitions beside it.
    fn code_context(
        &self,
        layout: &Layout,
        existing: Option<&str>,
        root: &std::path::Path,
        files: &[String],
    ) -> String {
        let folder = layout.code_path.rsplit_once('/').map_or("", |(d, _)| d);
        let beside: Vec<String> = files
            .iter()
            .filter(|f| {
                *f != &layout.code_path
                    && f.rsplit_once('/').map_or("", |(d, _)| d) == folder
                    && !f.contains("test")
            })
            .cloned()
            .collect();
        let neighbours = map::render(
            &map::entries(root, &beside),
            self.description,
            NEIGHBOURS_BUDGET,
        );
        let fence = layout.language.fence();
        let mut out = match existing {
            Some(text) => {
                let shown: String = text.chars().take(EXISTING_BUDGET).collect();
                format!(
                    "\n\nThe code goes in {} of the repository, which holds now:\n```{fence}\n{}\n```\nReply with the functions to add or change; the rest of the file stays as it is.",
                    layout.code_path,
                    shown.trim_end()
                )
            }
            None => format!(
                "\n\nThe code goes in a new file, {}, of the repository.",
                layout.code_path
            ),
        };
        if !neighbours.trim().is_empty() {
            out.push_str(&format!("\nBeside it:\n{}", neighbours.trim_end()));
        }
        out
    }

    /// What code requests say of the project (empty outside one).
    pub(super) fn project_context(&self) -> &str {
        self.placed.get().map_or("", |p| p.context.as_str())
    }

    /// A candidate for a file that exists, spliced into it (see `project::splice`).
    pub(super) fn splice_into_project(&self, plan: &Plan, code: &mut Code) {
        if let Some(existing) = self.placed.get().and_then(|p| p.existing.as_deref()) {
            code.text = splice::splice(plan.language, existing, &code.text);
        }
    }

    /// Runs the project's tests at the base (once) and for every active candidate not run yet;
    /// each candidate's tests that passed at the base and no longer do are its breaks.
    pub(super) async fn check_project(
        &self,
        pool: &Pool,
        board: &mut Board,
    ) -> Result<(), Failure> {
        let (Some(placed), Some(repo)) = (self.placed.get(), self.repo) else {
            return Ok(());
        };
        if repo.project.test_command.is_none() {
            return Ok(());
        }
        let baseline = self.baseline(placed, repo).await?;
        let limits = &self.host.config().pipeline.limits;
        let todo: Vec<usize> = pool
            .active_candidates()
            .into_iter()
            .filter(|c| !board.project_runs.contains_key(c))
            .collect();
        for c in todo {
            let code = pool.candidates[c].code.text.clone();
            let report =
                runner::project_tests(&placed.tools, Some(&code), limits, self.cancel, &mut |_| {})
                    .await
                    .map_err(|e| Failure::Sandbox(format!("running the project's tests: {e}")))?;
            let Some(report) = report else { continue };
            let broken = runner::regressions(&baseline, &report);
            self.log.line(&format!(
                "candidate {} × the project's tests: {}",
                c + 1,
                match broken.as_slice() {
                    [] => format!("{} of {} pass, none broken", report.passed, report.total()),
                    [one] => format!("breaks {one}"),
                    [one, rest @ ..] => format!("breaks {one} and {} more", rest.len()),
                }
            ));
            board.breaks.insert(c, broken);
            board.project_runs.insert(c, report);
        }
        Ok(())
    }

    /// The project's tests at the base: this workflow's, else a run another workflow on the
    /// same base made, else a run now (then logged, with what it means).
    async fn baseline(&self, placed: &Placed, repo: &OnRepo) -> Result<TestReport, Failure> {
        let lock =
            |m: &Mutex<Option<TestReport>>| m.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(known) = lock(&placed.baseline) {
            return Ok(known);
        }
        let command = repo
            .project
            .test_command
            .as_ref()
            .map_or("", |c| c.display());
        let key = (
            repo.project.root.clone(),
            repo.change.base.clone(),
            command.to_owned(),
        );
        let shared = || {
            BASELINES
                .get_or_init(Default::default)
                .lock()
                .unwrap_or_else(|p| p.into_inner())
        };
        let cached = shared().get(&key).cloned();
        let report = match cached {
            Some(r) => r,
            None => {
                let limits = &self.host.config().pipeline.limits;
                let r =
                    runner::project_tests(&placed.tools, None, limits, self.cancel, &mut |_| {})
                        .await
                        .map_err(|e| Failure::Sandbox(format!("running the project's tests: {e}")))?
                        .ok_or_else(|| {
                            Failure::Project("the project has no test command".into())
                        })?;
                shared().insert(key, r.clone());
                r
            }
        };
        let passing = report.cases.iter().filter(|(_, ok)| *ok).count();
        let meaning = if passing == 0 {
            "; they judge nothing"
        } else {
            ""
        };
        self.log.line(&format!(
            "the project's tests at the base ({command}): {passing} of {} pass{meaning}",
            report.cases.len(),
        ));
        *placed.baseline.lock().unwrap_or_else(|p| p.into_inner()) = Some(report.clone());
        Ok(report)
    }

    /// The kept code committed on the workflow's branch, with the generated suite that passes
    /// with it where the project keeps tests; the change it makes is recorded. `ending` says
    /// how the workflow ended, for the commit message.
    pub(super) fn commit(
        &self,
        pool: &Pool,
        best: usize,
        board: &Board,
        ending: &str,
    ) -> Result<(), Failure> {
        let (Some(repo), Some(placed)) = (self.repo, self.placed.get()) else {
            return Ok(());
        };
        let Some(candidate) = pool.candidates.get(best) else {
            return Ok(());
        };
        let Some(worktree) = &repo.change.worktree else {
            return Ok(());
        };
        let layout = &placed.layout;
        let mut files = vec![(layout.code_path.clone(), candidate.code.text.clone())];
        files.extend(layout.extra.iter().cloned());
        // The generated suite that passes with this code, most tests first.
        let passing = pool
            .usable_suites(board)
            .into_iter()
            .filter(|s| {
                board
                    .runs
                    .get(&(best, *s))
                    .is_some_and(|r| r.loaded && r.all_passed())
            })
            .max_by_key(|s| board.runs.get(&(best, *s)).map_or(0, |r| r.passed));
        if let Some(s) = passing {
            let path = free_path(&layout.test_path, &repo.files);
            files.push((path, layout.tests_for_project(&pool.suites[s].suite.text)));
        }
        let name = self.record.lock().name.clone().unwrap_or_default();
        let first_line = self.description.lines().next().unwrap_or("").trim();
        let title: String = format!("{name}: {first_line}").chars().take(72).collect();
        let message = format!(
            "{title}\n\n{}\n\n{ending}\n\nflotilla workflow {}, branch {}\n",
            self.description.trim(),
            self.id,
            repo.change.branch
        );
        let commit = crate::project::worktree::commit(worktree, &files, &message)
            .map_err(Failure::Project)?;
        let mut change = repo.change.clone();
        if let Some(commit) = commit {
            let git = repo.project.git();
            change.files = git.changed_files(&change.base, &commit).unwrap_or_default();
            change.lines = git.line_counts(&change.base, &commit).unwrap_or_default();
            change.commit = Some(commit);
            self.log.line(&format!(
                "committed on {}: {} ({})",
                change.branch,
                change.files.join(", "),
                change.stat()
            ));
            if let Ok(diff) = crate::project::land::diff_text(&change) {
                self.artifact(crate::event::ArtifactKind::Diff, &diff, None);
            }
        } else {
            self.log
                .line("the kept code changes nothing in the repository: no commit");
        }
        self.record.lock().change = Some(change.clone());
        self.host.emit(Event::Change {
            id: self.id.clone(),
            change,
        });
        Ok(())
    }
}

/// `path`, or `stem_2.ext`, `stem_3.ext`… when the repository has a file there already (a
/// generated test never replaces one of the project's).
fn free_path(path: &str, files: &[String]) -> String {
    if !files.iter().any(|f| f == path) {
        return path.to_owned();
    }
    let (stem, ext) = path.rsplit_once('.').unwrap_or((path, ""));
    (2..)
        .map(|n| format!("{stem}_{n}.{ext}"))
        .find(|p| !files.contains(p))
        .unwrap_or_else(|| path.to_owned())
}
