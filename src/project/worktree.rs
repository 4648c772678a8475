//! A workflow's worktree and branch: `git worktree add` under flotilla's home on a branch
//! `flotilla/<n>-<name>`, its commit of the kept code, and its removal. The user's checkout,
//! index and branches are never touched here; hooks are off for all of it.

use super::git::{self, Git};
use std::path::{Path, PathBuf};

/// The branch prefix every workflow's branch has.
pub const BRANCH_PREFIX: &str = "flotilla/";

/// A workflow's worktree, made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Made {
    pub path: PathBuf,
    pub branch: String,
}

/// Makes the worktree at `path` on a new branch `flotilla/<seq>-<name>` (`-2`, `-3`… when the
/// name is taken) at `base`.
pub fn create(root: &Path, path: &Path, seq: u64, name: &str, base: &str) -> Result<Made, String> {
    let git = Git::at(root).without_hooks();
    let stem = format!("{BRANCH_PREFIX}{seq}-{name}");
    let mut branch = stem.clone();
    let mut n = 2;
    while git.branch_exists(&branch) {
        branch = format!("{stem}-{n}");
        n += 1;
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let target = path.to_string_lossy();
    git.run(&["worktree", "add", "--quiet", "-b", &branch, &target, base])
        .map_err(|e| format!("cannot make the workflow's worktree: {e}"))?;
    Ok(Made {
        path: path.to_owned(),
        branch,
    })
}

/// Writes `files` (path relative to the worktree, contents) into the worktree at `path` and
/// commits them on its branch with `message`; the new commit, or `None` when they change
/// nothing.
pub fn commit(
    path: &Path,
    files: &[(String, String)],
    message: &str,
) -> Result<Option<String>, String> {
    for (rel, text) in files {
        let file = path.join(rel);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&file, text).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    }
    let mut wt = Git::at(path).without_hooks();
    for (k, v) in git::identity(&wt) {
        wt = wt.with_env(k, &v);
    }
    let mut add = vec!["add", "--"];
    add.extend(files.iter().map(|(p, _)| p.as_str()));
    wt.run(&add).map_err(|e| e.to_string())?;
    if wt.run(&["diff", "--cached", "--quiet"]).is_ok() {
        return Ok(None);
    }
    wt.run_with(
        &["commit", "--quiet", "--no-verify", "-F", "-"],
        Some(message.as_bytes()),
    )
    .map_err(|e| format!("cannot commit on the workflow's branch: {e}"))?;
    wt.commit_of("HEAD").map(Some).map_err(|e| e.to_string())
}

/// Removes the worktree at `path` from the repository at `root` (its files and git's record of
/// it); a folder git no longer knows is removed and git's records pruned.
pub fn remove(root: &Path, path: &Path) -> Result<(), String> {
    let git = Git::at(root).without_hooks();
    let target = path.to_string_lossy();
    let removed = git.run(&["worktree", "remove", "--force", "--force", &target]);
    if removed.is_err() && path.exists() {
        std::fs::remove_dir_all(path)
            .map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
    }
    git.run(&["worktree", "prune"]).map_err(|e| e.to_string())?;
    Ok(())
}

/// Deletes a workflow's branch (only ever one of flotilla's own).
pub fn delete_branch(root: &Path, branch: &str) -> Result<(), String> {
    if !branch.starts_with(BRANCH_PREFIX) {
        return Err(format!("{branch} is not a flotilla branch"));
    }
    let git = Git::at(root).without_hooks();
    if !git.branch_exists(branch) {
        return Ok(());
    }
    git.run(&["branch", "--quiet", "-D", branch])
        .map(drop)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::git::tests::repo;
    use super::*;

    #[test]
    fn a_worktree_and_branch_each_and_the_checkout_untouched() {
        let dir = repo(&[("a.py", "x = 1\n")]);
        let root = dir.path();
        let user = Git::at(root);
        let base = user.commit_of("HEAD").unwrap_or_default();
        let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let one = create(root, &home.path().join("wf_1"), 1, "adds", &base)
            .unwrap_or_else(|e| panic!("{e}"));
        let two = create(root, &home.path().join("wf_2"), 1, "adds", &base)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (one.branch.as_str(), two.branch.as_str()),
            ("flotilla/1-adds", "flotilla/1-adds-2")
        );
        let made = commit(&one.path, &[("b.py".into(), "y = 2\n".into())], "adds: b")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(made.is_some());
        assert_eq!(
            commit(&two.path, &[("a.py".into(), "x = 1\n".into())], "same"),
            Ok(None)
        );
        // The user's checkout: same branch, same HEAD, nothing to commit.
        assert_eq!(user.current_branch().as_deref(), Some("main"));
        assert_eq!(user.commit_of("HEAD").ok(), Some(base.clone()));
        assert_eq!(
            user.run(&["status", "--porcelain"]).ok().as_deref(),
            Some("")
        );
        assert_eq!(
            user.changed_files(&base, &one.branch).unwrap_or_default(),
            ["b.py"]
        );
        remove(root, &one.path).unwrap_or_else(|e| panic!("{e}"));
        assert!(!one.path.exists());
        assert!(user.branch_exists(&one.branch), "the branch stays");
        delete_branch(root, &one.branch).unwrap_or_else(|e| panic!("{e}"));
        assert!(!user.branch_exists(&one.branch));
        assert!(delete_branch(root, "main").is_err());
    }
}
