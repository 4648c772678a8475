//! Where flotilla keeps its files: `--home DIR`, else `FLOTILLA_HOME`, else the XDG directories.

use std::path::{Path, PathBuf};

/// The files and folders of one home.
#[derive(Debug, Clone)]
pub struct Home {
    /// `config.toml`.
    pub config_file: PathBuf,
    /// The user's `keybindings.toml` (overrides of the defaults).
    pub keybindings_file: PathBuf,
    /// `workflows/<id>/`: artifacts and a `log.txt` per workflow.
    pub workflows_dir: PathBuf,
    /// `logs/`: flotilla's own rolling logs.
    pub logs_dir: PathBuf,
    /// `cache/`: scratch copies for test runs (a Rust one builds into its own target).
    pub cache_dir: PathBuf,
    /// `flotilla.db`: the history.
    pub db_file: PathBuf,
    /// `worktrees/<id>/`: each workflow's worktree of the repository it works on.
    pub worktrees_dir: PathBuf,
    /// `engine/`: the embedded engine every flotilla on this home shares (its address, its
    /// users' lock, its log).
    pub engine_dir: PathBuf,
}

impl Home {
    /// Everything under one folder.
    pub fn at(root: &Path) -> Self {
        Self {
            config_file: root.join("config.toml"),
            keybindings_file: root.join("keybindings.toml"),
            workflows_dir: root.join("workflows"),
            logs_dir: root.join("logs"),
            cache_dir: root.join("cache"),
            db_file: root.join("flotilla.db"),
            worktrees_dir: root.join("worktrees"),
            engine_dir: root.join("engine"),
        }
    }

    /// `--home`, else `FLOTILLA_HOME`, else the XDG config, data and state directories.
    pub fn resolve(flag: Option<&Path>) -> Self {
        if let Some(dir) = flag {
            return Self::at(dir);
        }
        if let Some(dir) = std::env::var_os("FLOTILLA_HOME").filter(|d| !d.is_empty()) {
            return Self::at(Path::new(&dir));
        }
        match directories::ProjectDirs::from("", "", "flotilla") {
            Some(dirs) => {
                let state = dirs.state_dir().unwrap_or(dirs.data_dir());
                Self {
                    config_file: dirs.config_dir().join("config.toml"),
                    keybindings_file: dirs.config_dir().join("keybindings.toml"),
                    workflows_dir: dirs.data_dir().join("workflows"),
                    logs_dir: state.join("logs"),
                    cache_dir: dirs.cache_dir().to_owned(),
                    db_file: dirs.data_dir().join("flotilla.db"),
                    worktrees_dir: dirs.data_dir().join("worktrees"),
                    engine_dir: state.join("engine"),
                }
            }
            // No home directory at all: keep everything beside the current directory.
            None => Self::at(Path::new(".flotilla")),
        }
    }

    /// `flotilla.lock`, beside the history: held (shared) by each flotilla running workflows.
    pub fn lock_file(&self) -> PathBuf {
        self.db_file.with_extension("lock")
    }

    /// Where an apply keeps its journal until it is done (see `project::land`).
    pub fn journals_dir(&self) -> PathBuf {
        self.worktrees_dir.join(".applying")
    }

    pub fn workflow_dir(&self, id: &crate::workflow::WorkflowId) -> PathBuf {
        self.workflows_dir.join(id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_puts_everything_under_one_folder() {
        let home = Home::resolve(Some(Path::new("/tmp/fh")));
        assert_eq!(home.config_file, Path::new("/tmp/fh/config.toml"));
        assert_eq!(home.keybindings_file, Path::new("/tmp/fh/keybindings.toml"));
        assert_eq!(home.workflows_dir, Path::new("/tmp/fh/workflows"));
        assert_eq!(home.logs_dir, Path::new("/tmp/fh/logs"));
    }
}
