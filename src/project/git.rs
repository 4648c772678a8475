//! The git command line, as every peer uses it and as the user's own config expects. Reading
//! commands run with `GIT_OPTIONAL_LOCKS=0`, so even `git status` never rewrites the user's
//! index; flotilla's own commits and worktrees run with hooks off (a hook would run generated
//! code outside the sandbox).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A git command that failed, with what git said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("git {command}: {message}")]
pub struct GitError {
    pub command: String,
    pub message: String,
}

/// git in one folder (`git -C dir`).
#[derive(Debug, Clone)]
pub struct Git {
    dir: PathBuf,
    env: Vec<(String, String)>,
    /// Hooks off (`core.hooksPath=/dev/null`).
    quiet_hooks: bool,
}

/// What a git command printed.
pub struct Output {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Git {
    pub fn at(dir: &Path) -> Self {
        Self {
            dir: dir.to_owned(),
            env: Vec::new(),
            quiet_hooks: false,
        }
    }

    /// The same folder, with hooks off: for flotilla's own worktrees and commits.
    pub fn without_hooks(mut self) -> Self {
        self.quiet_hooks = true;
        self
    }

    /// The same folder with one more environment variable.
    pub fn with_env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        cmd.arg("-C").arg(&self.dir);
        if self.quiet_hooks {
            cmd.args(["-c", "core.hooksPath=/dev/null"]);
        }
        cmd.args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_OPTIONAL_LOCKS", "0")
            .env("LC_ALL", "C")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs git with `args` (and `input` on its stdin), whatever it exits with.
    pub fn output(&self, args: &[&str], input: Option<&[u8]>) -> Result<Output, GitError> {
        let mut cmd = self.command(args);
        let spawn_error = |e: std::io::Error| GitError {
            command: args.join(" "),
            message: format!("cannot run git: {e}"),
        };
        let out = match input {
            None => cmd.output().map_err(spawn_error)?,
            Some(bytes) => {
                cmd.stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                let mut child = cmd.spawn().map_err(spawn_error)?;
                if let Some(mut stdin) = child.stdin.take() {
                    // A command that stops reading early says why on stderr.
                    let _ = stdin.write_all(bytes);
                }
                child.wait_with_output().map_err(spawn_error)?
            }
        };
        Ok(Output {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// Runs git and returns its stdout, or what it said on failure.
    pub fn run(&self, args: &[&str]) -> Result<String, GitError> {
        self.run_with(args, None)
    }

    /// As `run`, with `input` on stdin.
    pub fn run_with(&self, args: &[&str], input: Option<&[u8]>) -> Result<String, GitError> {
        let out = self.output(args, input)?;
        if out.ok {
            Ok(out.stdout)
        } else {
            Err(GitError {
                command: args.join(" "),
                message: first_lines(&out.stderr, &out.stdout),
            })
        }
    }

    /// One line of output, trimmed (a commit id, a path).
    pub fn line(&self, args: &[&str]) -> Result<String, GitError> {
        Ok(self.run(args)?.trim().to_owned())
    }

    /// The repository's top folder, when `dir` is inside a work tree.
    pub fn toplevel(&self) -> Option<PathBuf> {
        self.line(&["rev-parse", "--show-toplevel"])
            .ok()
            .filter(|l| !l.is_empty())
            .map(PathBuf::from)
    }

    /// The commit `rev` names.
    pub fn commit_of(&self, rev: &str) -> Result<String, GitError> {
        self.line(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ])
        .map_err(|e| GitError {
            message: format!("{rev:?} names no commit"),
            ..e
        })
    }

    /// The branch checked out (`main`), or `None` on a detached HEAD.
    pub fn current_branch(&self) -> Option<String> {
        self.line(&["symbolic-ref", "--quiet", "--short", "HEAD"])
            .ok()
            .filter(|b| !b.is_empty())
    }

    pub fn branch_exists(&self, branch: &str) -> bool {
        self.run(&[
            "show-ref",
            "--verify",
            "--quiet",
            &format!("refs/heads/{branch}"),
        ])
        .is_ok()
    }

    /// The files tracked at `HEAD` of this work tree, relative to it.
    pub fn tracked_files(&self) -> Result<Vec<String>, GitError> {
        let out = self.run(&["ls-files", "-z"])?;
        Ok(out
            .split('\0')
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect())
    }

    /// Files of `paths` with changes not committed in this work tree (staged, unstaged or
    /// untracked), relative to it.
    pub fn dirty(&self, paths: &[String]) -> Result<Vec<String>, GitError> {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        let mut args = vec![
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--",
        ];
        args.extend(paths.iter().map(String::as_str));
        let out = self.run(&args)?;
        let mut dirty = Vec::new();
        let mut entries = out.split('\0').filter(|e| !e.is_empty());
        while let Some(entry) = entries.next() {
            let code = entry.get(..2).unwrap_or("");
            if let Some(path) = entry.get(3..) {
                dirty.push(path.to_owned());
            }
            // A rename's second path (its source) follows it.
            if code.contains('R') || code.contains('C') {
                entries.next();
            }
        }
        Ok(dirty)
    }

    /// The files that differ between two commits.
    pub fn changed_files(&self, from: &str, to: &str) -> Result<Vec<String>, GitError> {
        let out = self.run(&["diff", "--name-only", "-z", "--no-renames", from, to])?;
        Ok(out
            .split('\0')
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect())
    }

    /// Lines added and removed between two commits.
    pub fn line_counts(&self, from: &str, to: &str) -> Result<(u32, u32), GitError> {
        let out = self.run(&["diff", "--numstat", "--no-renames", from, to])?;
        let mut added = 0;
        let mut removed = 0;
        for line in out.lines() {
            let mut parts = line.split('\t');
            added += parts
                .next()
                .and_then(|n| n.parse::<u32>().ok())
                .unwrap_or(0);
            removed += parts
                .next()
                .and_then(|n| n.parse::<u32>().ok())
                .unwrap_or(0);
        }
        Ok((added, removed))
    }
}

/// What git said, in a few lines: stderr first, else stdout.
fn first_lines(stderr: &str, stdout: &str) -> String {
    let text = if stderr.trim().is_empty() {
        stdout
    } else {
        stderr
    };
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("hint:"))
        .take(4)
        .collect();
    if lines.is_empty() {
        "failed".to_owned()
    } else {
        crate::sanitize::strip(&lines.join("; "))
    }
}

/// Environment for a commit when the user has no identity configured: git refuses to commit
/// without one, and flotilla's own commits should not fail for it.
pub fn identity(git: &Git) -> Vec<(&'static str, String)> {
    let has = |key: &str| {
        git.line(&["config", "--get", key])
            .is_ok_and(|v| !v.is_empty())
    };
    let mut env = Vec::new();
    if !has("user.name") {
        env.push(("GIT_AUTHOR_NAME", "flotilla".to_owned()));
        env.push(("GIT_COMMITTER_NAME", "flotilla".to_owned()));
    }
    if !has("user.email") {
        env.push(("GIT_AUTHOR_EMAIL", "flotilla@localhost".to_owned()));
        env.push(("GIT_COMMITTER_EMAIL", "flotilla@localhost".to_owned()));
    }
    env
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A repository with one commit holding `files`, made with the git command line.
    pub(crate) fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let git = Git::at(dir.path());
        for args in [
            &["init", "-q", "-b", "main"][..],
            &["config", "user.name", "Test User"],
            &["config", "user.email", "test@example.com"],
            &["config", "commit.gpgsign", "false"],
        ] {
            git.run(args).unwrap_or_else(|e| panic!("{e}"));
        }
        for (path, text) in files {
            let p = dir.path().join(path);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
            }
            std::fs::write(p, text).unwrap_or_else(|e| panic!("{e}"));
        }
        git.run(&["add", "-A"]).unwrap_or_else(|e| panic!("{e}"));
        git.run(&["commit", "-q", "-m", "start"])
            .unwrap_or_else(|e| panic!("{e}"));
        dir
    }

    #[test]
    fn reads_a_repository_without_touching_it() {
        let dir = repo(&[("a.py", "x = 1\n"), ("pkg/b.py", "y = 2\n")]);
        let git = Git::at(dir.path());
        assert_eq!(
            git.toplevel().map(|p| p.canonicalize().ok()),
            Some(dir.path().canonicalize().ok())
        );
        assert_eq!(git.current_branch().as_deref(), Some("main"));
        assert!(git.commit_of("HEAD").is_ok_and(|c| c.len() == 40));
        assert!(git.commit_of("nope").is_err());
        assert_eq!(
            git.tracked_files().unwrap_or_default(),
            ["a.py", "pkg/b.py"]
        );
        std::fs::write(dir.path().join("a.py"), "x = 2\n").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("new.txt"), "n\n").unwrap_or_else(|e| panic!("{e}"));
        let all = [
            "a.py".to_owned(),
            "pkg/b.py".to_owned(),
            "new.txt".to_owned(),
        ];
        let mut dirty = git.dirty(&all).unwrap_or_default();
        dirty.sort();
        assert_eq!(dirty, ["a.py", "new.txt"]);
        assert!(Git::at(Path::new("/")).toplevel().is_none());
    }
}
