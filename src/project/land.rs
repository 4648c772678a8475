//! Applying a workflow's change to the user's checkout, or discarding it. An apply is refused,
//! with nothing changed, when a file it touches has uncommitted changes in the checkout or
//! when the change does not apply to the checkout's `HEAD` (the conflicting files are named).
//! Otherwise the change is merged onto `HEAD` in a temporary index (`git read-tree`,
//! `git apply --3way --cached`, `git write-tree`), committed (`git commit-tree`) and the branch
//! moved in one step (`git update-ref` with the old value), and only then are the touched files
//! of the checkout and its index brought up to it (`git restore`). A journal written before the
//! step lets the next start finish an apply that was cut off, so the repository is either
//! before or after the apply, never between. With `staged`, no commit: the touched files are
//! brought to the merged tree, staged.

use super::git::{self, Git};
use crate::workflow::change::{Change, Landed};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Why an apply was refused; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The workflow made no commit.
    NothingToApply,
    /// Applied, staged or discarded already.
    Landed(&'static str),
    /// These files it touches have uncommitted changes in the checkout.
    Dirty(Vec<String>),
    /// The change does not apply cleanly to `HEAD` in these files.
    Conflict(Vec<String>),
    /// git failed.
    Git(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NothingToApply => f.write_str("the workflow left no change to apply"),
            Self::Landed(how) => write!(f, "the change was {how} already"),
            Self::Dirty(files) => write!(
                f,
                "{} uncommitted changes in your checkout: commit or stash them first",
                files_have(files)
            ),
            Self::Conflict(files) => write!(
                f,
                "the change conflicts with your checkout in {}: nothing was changed; re-run the task (r) to start from the new base",
                files.join(", ")
            ),
            Self::Git(e) => write!(f, "{e}"),
        }
    }
}

fn files_have(files: &[String]) -> String {
    match files {
        [one] => format!("{one} has"),
        _ => format!("{} have", files.join(", ")),
    }
}

/// What an apply left, for the journal and the history.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Journal {
    project: PathBuf,
    files: Vec<String>,
    /// The checkout's `HEAD` commit before.
    head: String,
    /// The merged tree.
    tree: String,
    /// The commit made (none when staging).
    commit: Option<String>,
}

fn journal_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.json"))
}

/// Applies `change` to its repository's checkout (see the module's comment); `message` is the
/// commit's. `journals` is where the journal is kept while it runs.
pub fn apply(
    change: &Change,
    id: &str,
    message: &str,
    staged: bool,
    journals: &Path,
) -> Result<Landed, Refusal> {
    let (tip, files) = what_lands(change)?;
    let user = Git::at(&change.project);
    let g = |e: git::GitError| Refusal::Git(e.to_string());
    let head = user.commit_of("HEAD").map_err(g)?;
    let tree = merged_tree(change, &head, &tip, &files, journals)?;
    let mut journal = Journal {
        project: change.project.clone(),
        files: files.clone(),
        head: head.clone(),
        tree: tree.clone(),
        commit: None,
    };
    let path = journal_path(journals, id);
    if staged {
        write_journal(&path, &journal)?;
        let restored = restore(&user, &tree, &files);
        let _ = std::fs::remove_file(&path);
        return match restored {
            Ok(()) => Ok(Landed::Staged),
            Err(e) => {
                // Staging is all or nothing: back to HEAD, which the touched files matched.
                let _ = restore(&user, "HEAD", &files);
                Err(Refusal::Git(e))
            }
        };
    }
    let commit = commit_tree(&change.project, &tree, &head, message)?;
    journal.commit = Some(commit.clone());
    write_journal(&path, &journal)?;
    // The one step that applies it: HEAD's branch moves only if it still is where it was.
    if let Err(e) = user.run(&[
        "update-ref",
        "-m",
        &format!("flotilla: apply {}", change.branch),
        "HEAD",
        &commit,
        &head,
    ]) {
        let _ = std::fs::remove_file(&path);
        return Err(Refusal::Git(e.to_string()));
    }
    let onto = user.current_branch().unwrap_or_else(|| "HEAD".to_owned());
    restore(&user, "HEAD", &files).map_err(|e| {
        Refusal::Git(format!(
            "applied as {} on {onto}, but the checkout's files could not be brought up to it ({e}); the next start of flotilla finishes it",
            short(&commit)
        ))
    })?;
    let _ = std::fs::remove_file(&path);
    Ok(Landed::Applied { commit, onto })
}

/// The change's commit and the files it touches, or why it cannot land: landed already,
/// nothing to apply, or a touched file with the user's uncommitted edits.
fn what_lands(change: &Change) -> Result<(String, Vec<String>), Refusal> {
    let how = match &change.landed {
        Some(Landed::Applied { .. }) => Some("applied"),
        Some(Landed::Staged) => Some("staged"),
        Some(Landed::Discarded) => Some("discarded"),
        None => None,
    };
    if let Some(how) = how {
        return Err(Refusal::Landed(how));
    }
    let Some(tip) = &change.commit else {
        return Err(Refusal::NothingToApply);
    };
    let user = Git::at(&change.project);
    let g = |e: git::GitError| Refusal::Git(e.to_string());
    let files = user.changed_files(&change.base, tip).map_err(g)?;
    if files.is_empty() {
        return Err(Refusal::NothingToApply);
    }
    let dirty = user.dirty(&files).map_err(g)?;
    if !dirty.is_empty() {
        return Err(Refusal::Dirty(dirty));
    }
    Ok((tip.clone(), files))
}

/// The tree of `head` with the change merged in (three-way), made in a temporary index so the
/// user's own index is never touched; a conflict names its files.
fn merged_tree(
    change: &Change,
    head: &str,
    tip: &str,
    files: &[String],
    journals: &Path,
) -> Result<String, Refusal> {
    let user = Git::at(&change.project);
    let g = |e: git::GitError| Refusal::Git(e.to_string());
    let patch = user
        .run(&[
            "diff",
            "--binary",
            "--no-renames",
            "--full-index",
            &change.base,
            tip,
        ])
        .map_err(g)?;
    std::fs::create_dir_all(journals)
        .map_err(|e| Refusal::Git(format!("cannot create {}: {e}", journals.display())))?;
    let index = tempfile::Builder::new()
        .prefix("index-")
        .tempfile_in(journals)
        .map_err(|e| Refusal::Git(format!("cannot make a temporary index: {e}")))?;
    let index_path = index.path().to_string_lossy().into_owned();
    let temp = Git::at(&change.project).with_env("GIT_INDEX_FILE", &index_path);
    temp.run(&["read-tree", head]).map_err(g)?;
    let merged = temp
        .output(
            &["apply", "--cached", "--3way", "--whitespace=nowarn", "-"],
            Some(patch.as_bytes()),
        )
        .map_err(g)?;
    if !merged.ok {
        return Err(Refusal::Conflict(conflicts(&temp, &merged.stderr, files)));
    }
    temp.line(&["write-tree"]).map_err(g)
}

/// A commit of `tree` on `head` with `message`, by the user's own identity.
fn commit_tree(project: &Path, tree: &str, head: &str, message: &str) -> Result<String, Refusal> {
    let user = Git::at(project);
    let mut committer = Git::at(project);
    for (k, v) in git::identity(&user) {
        committer = committer.with_env(k, &v);
    }
    let commit = committer
        .run_with(
            &["commit-tree", tree, "-p", head, "-F", "-"],
            Some(message.as_bytes()),
        )
        .map_err(|e| Refusal::Git(e.to_string()))?;
    Ok(commit.trim().to_owned())
}

/// The touched files of the checkout and its index brought to `source` (a commit or tree).
fn restore(git: &Git, source: &str, files: &[String]) -> Result<(), String> {
    let mut args = vec![
        "restore".to_owned(),
        format!("--source={source}"),
        "--staged".into(),
        "--worktree".into(),
        "--".into(),
    ];
    // A file that `source` lacks and the index never had is removed by hand.
    let listed = git
        .run(&["ls-tree", "-r", "--name-only", source])
        .unwrap_or_default();
    let in_source: Vec<&str> = listed.lines().collect();
    let tracked = git.run(&["ls-files"]).unwrap_or_default();
    let in_index: Vec<&str> = tracked.lines().collect();
    let mut any = false;
    for f in files {
        if in_source.contains(&f.as_str()) || in_index.contains(&f.as_str()) {
            args.push(f.clone());
            any = true;
        } else {
            let path = git.dir().join(f);
            if path.exists() {
                std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
    }
    if !any {
        return Ok(());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // Another git holding the index for a moment (`index.lock`) is waited out, briefly.
    let mut last = String::new();
    for attempt in 0..5 {
        match git.run(&args) {
            Ok(_) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(std::time::Duration::from_millis(100 << attempt));
    }
    Err(last)
}

fn write_journal(path: &Path, journal: &Journal) -> Result<(), Refusal> {
    let text = serde_json::to_vec(journal).map_err(|e| Refusal::Git(e.to_string()))?;
    let partial = path.with_extension("partial");
    std::fs::write(&partial, text)
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|e| Refusal::Git(format!("cannot write {}: {e}", path.display())))
}

/// The files of `files` that conflict: those the temporary index holds unmerged, and those
/// git named in its errors; all of them when it named none.
fn conflicts(temp: &Git, stderr: &str, files: &[String]) -> Vec<String> {
    let mut out: Vec<String> = temp
        .run(&["ls-files", "--unmerged"])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split('\t').nth(1))
        .map(str::to_owned)
        .collect();
    for f in files {
        if stderr.contains(f.as_str()) && !out.contains(f) {
            out.push(f.clone());
        }
    }
    out.dedup();
    if out.is_empty() {
        out = files.to_vec();
    }
    out
}

/// Finishes or undoes applies a crash cut off, from their journals in `journals`: one whose
/// commit the branch reached is brought to the checkout's files; any other never happened (a
/// staging is put back to `HEAD`, which its files matched). Returns what it did, for the log.
pub fn recover(journals: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(journals) else {
        return Vec::new();
    };
    let mut done = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            // A temporary index or a half-written journal: nothing was applied with it.
            let _ = std::fs::remove_file(&path);
            continue;
        }
        let Some(journal) = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Journal>(&b).ok())
        else {
            let _ = std::fs::remove_file(&path);
            continue;
        };
        let git = Git::at(&journal.project);
        let head = git.commit_of("HEAD").ok();
        let said = match &journal.commit {
            Some(commit) if head.as_deref() == Some(commit) => {
                match restore(&git, "HEAD", &journal.files) {
                    Ok(()) => format!(
                        "finished applying {} in {}",
                        short(commit),
                        journal.project.display()
                    ),
                    Err(e) => format!("could not finish applying {}: {e}", short(commit)),
                }
            }
            Some(_) => format!(
                "an apply in {} never happened; nothing to undo",
                journal.project.display()
            ),
            None => match restore(&git, "HEAD", &journal.files) {
                Ok(()) => format!("undid a staging cut off in {}", journal.project.display()),
                Err(e) => format!("could not undo a staging cut off: {e}"),
            },
        };
        let _ = std::fs::remove_file(&path);
        done.push(said);
    }
    done
}

/// The change as `git diff` shows it: from the base to the branch's commit (empty before it
/// has one).
pub fn diff_text(change: &Change) -> Result<String, String> {
    let Some(commit) = &change.commit else {
        return Ok(String::new());
    };
    Git::at(&change.project)
        .run(&["diff", "--no-color", "--no-ext-diff", &change.base, commit])
        .map_err(|e| e.to_string())
}

/// Removes a change's worktree and branch: what discarding a workflow does.
pub fn discard(change: &Change) -> Result<(), String> {
    if let Some(path) = &change.worktree {
        super::worktree::remove(&change.project, path)?;
    }
    super::worktree::delete_branch(&change.project, &change.branch)
}

/// After an apply the worktree goes; the branch stays until discarded.
pub fn drop_worktree(change: &Change) -> Result<(), String> {
    match &change.worktree {
        Some(path) => super::worktree::remove(&change.project, path),
        None => Ok(()),
    }
}

fn short(commit: &str) -> &str {
    commit.get(..10).unwrap_or(commit)
}

#[cfg(test)]
mod tests {
    use super::super::git::tests::repo;
    use super::super::worktree;
    use super::*;

    /// A change on a workflow branch of `dir` that writes `files`.
    fn change(dir: &Path, home: &Path, n: u64, files: &[(&str, &str)]) -> Change {
        let base = Git::at(dir).commit_of("HEAD").unwrap_or_default();
        let made = worktree::create(dir, &home.join(format!("wf{n}")), n, "w", &base)
            .unwrap_or_else(|e| panic!("{e}"));
        let owned: Vec<(String, String)> = files
            .iter()
            .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
            .collect();
        let commit = worktree::commit(&made.path, &owned, "w").unwrap_or_else(|e| panic!("{e}"));
        Change {
            project: dir.to_owned(),
            base,
            branch: made.branch,
            worktree: Some(made.path),
            commit,
            files: Vec::new(),
            lines: (0, 0),
            landed: None,
        }
    }

    fn state(dir: &Path) -> (String, String, String) {
        let git = Git::at(dir);
        (
            git.commit_of("HEAD").unwrap_or_default(),
            git.run(&["status", "--porcelain"]).unwrap_or_default(),
            git.run(&["diff", "HEAD"]).unwrap_or_default(),
        )
    }

    #[test]
    fn applies_as_one_commit_and_keeps_unrelated_edits() {
        let dir = repo(&[("a.py", "a = 1\n"), ("notes.txt", "mine\n")]);
        let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let c = change(
            dir.path(),
            home.path(),
            1,
            &[("b.py", "b = 2\n"), ("a.py", "a = 10\n")],
        );
        std::fs::write(dir.path().join("notes.txt"), "mine, edited\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let landed = apply(&c, "wf_1", "w: task", false, &home.path().join("j"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            matches!(&landed, Landed::Applied { onto, .. } if onto == "main"),
            "{landed:?}"
        );
        let git = Git::at(dir.path());
        assert_eq!(
            git.line(&["log", "-1", "--format=%s"]).ok().as_deref(),
            Some("w: task")
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a.py"))
                .ok()
                .as_deref(),
            Some("a = 10\n")
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("b.py"))
                .ok()
                .as_deref(),
            Some("b = 2\n")
        );
        assert_eq!(
            git.run(&["status", "--porcelain"]).ok().as_deref(),
            Some(" M notes.txt\n")
        );
        assert_eq!(
            apply(
                &Change {
                    landed: Some(landed),
                    ..c
                },
                "wf_1",
                "m",
                false,
                home.path()
            ),
            Err(Refusal::Landed("applied"))
        );
    }

    #[test]
    fn a_dirty_touched_file_or_a_conflict_refuses_and_changes_nothing() {
        let dir = repo(&[("a.py", "a = 1\n"), ("other.py", "o = 1\n")]);
        let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let c = change(dir.path(), home.path(), 1, &[("a.py", "a = 2\n")]);
        std::fs::write(dir.path().join("a.py"), "a = 3\n").unwrap_or_else(|e| panic!("{e}"));
        let before = state(dir.path());
        assert_eq!(
            apply(&c, "wf_1", "m", false, home.path()),
            Err(Refusal::Dirty(vec!["a.py".into()]))
        );
        assert_eq!(state(dir.path()), before);
        // Committed by the user, the same line differs: a conflict.
        let git = Git::at(dir.path());
        git.run(&["commit", "-qam", "mine"])
            .unwrap_or_else(|e| panic!("{e}"));
        let before = state(dir.path());
        let refused = apply(&c, "wf_1", "m", false, &home.path().join("j"));
        assert_eq!(refused, Err(Refusal::Conflict(vec!["a.py".into()])));
        assert_eq!(state(dir.path()), before);
        assert!(
            refused
                .err()
                .is_some_and(|r| r.to_string().contains("a.py"))
        );
    }

    #[test]
    fn staged_leaves_the_change_staged_and_uncommitted() {
        let dir = repo(&[("a.py", "a = 1\n")]);
        let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let c = change(
            dir.path(),
            home.path(),
            1,
            &[("a.py", "a = 2\n"), ("n.py", "n = 1\n")],
        );
        let head = Git::at(dir.path()).commit_of("HEAD").unwrap_or_default();
        assert_eq!(
            apply(&c, "wf_1", "m", true, home.path()),
            Ok(Landed::Staged)
        );
        let git = Git::at(dir.path());
        assert_eq!(git.commit_of("HEAD").ok(), Some(head));
        assert_eq!(
            git.run(&["status", "--porcelain"]).ok().as_deref(),
            Some("M  a.py\nA  n.py\n")
        );
    }

    #[test]
    fn an_apply_cut_off_after_its_commit_is_finished_at_the_next_start() {
        let dir = repo(&[("a.py", "a = 1\n")]);
        let git = Git::at(dir.path());
        let head = git.commit_of("HEAD").unwrap_or_default();
        std::fs::write(dir.path().join("a.py"), "a = 2\n").unwrap_or_else(|e| panic!("{e}"));
        git.run(&["add", "a.py"]).unwrap_or_else(|e| panic!("{e}"));
        let tree = git.line(&["write-tree"]).unwrap_or_default();
        let commit = git
            .line(&["commit-tree", &tree, "-p", &head, "-m", "w"])
            .unwrap_or_default();
        // Back to where the user was, then the branch moved as the cut-off apply did.
        git.run(&["reset", "-q", "--hard", &head])
            .unwrap_or_else(|e| panic!("{e}"));
        git.run(&["update-ref", "HEAD", &commit, &head])
            .unwrap_or_else(|e| panic!("{e}"));
        let journals = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let journal = Journal {
            project: dir.path().to_owned(),
            files: vec!["a.py".into()],
            head,
            tree,
            commit: Some(commit),
        };
        write_journal(&journal_path(journals.path(), "wf_1"), &journal)
            .unwrap_or_else(|e| panic!("{e}"));
        let said = recover(journals.path());
        assert!(said[0].starts_with("finished applying"), "{said:?}");
        assert_eq!(
            git.run(&["status", "--porcelain"]).ok().as_deref(),
            Some("")
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a.py"))
                .ok()
                .as_deref(),
            Some("a = 2\n")
        );
        assert!(recover(journals.path()).is_empty());
    }
}
