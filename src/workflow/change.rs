//! A workflow's change to a repository: where it started, its branch and worktree, the files
//! it touches, and what became of it (applied, staged or discarded). Kept in the history.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The repository's top folder: the user's checkout.
    pub project: PathBuf,
    /// The commit the workflow started from.
    pub base: String,
    /// Its branch, `flotilla/<n>-<name>`.
    pub branch: String,
    /// Its worktree, while it has one.
    pub worktree: Option<PathBuf>,
    /// The branch's commit holding the kept code, once made.
    pub commit: Option<String>,
    /// Files the commit changes, relative to the repository.
    #[serde(default)]
    pub files: Vec<String>,
    /// Lines added and removed.
    #[serde(default)]
    pub lines: (u32, u32),
    /// What became of it.
    #[serde(default)]
    pub landed: Option<Landed>,
}

/// What the user did with a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "as")]
pub enum Landed {
    /// One commit on the user's branch.
    Applied { commit: String, onto: String },
    /// Staged, uncommitted changes in the user's checkout.
    Staged,
    /// Worktree and branch removed.
    Discarded,
}

impl Change {
    /// "+12 −3 in 2 files".
    pub fn stat(&self) -> String {
        let (added, removed) = self.lines;
        let n = self.files.len();
        format!(
            "+{added} −{removed} in {n} file{}",
            if n == 1 { "" } else { "s" }
        )
    }

    /// Whether the user can still apply or discard it: it has a commit and nothing was done
    /// with it yet.
    pub fn pending(&self) -> bool {
        self.commit.is_some() && self.landed.is_none()
    }

    /// A word for the table: `branch`, `applied`, `staged`, `discarded`.
    pub fn state_word(&self) -> &'static str {
        match &self.landed {
            None if self.commit.is_some() => "on branch",
            None => "no change",
            Some(Landed::Applied { .. }) => "applied",
            Some(Landed::Staged) => "staged",
            Some(Landed::Discarded) => "discarded",
        }
    }
}
