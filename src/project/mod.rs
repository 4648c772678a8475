//! Workflows on the user's repository. Inside a git repository (the folder flotilla starts in,
//! `--project DIR`, or `project = "…"` in config.toml) every workflow gets a worktree of its own
//! on a branch `flotilla/<n>-<name>`, sees a map of the repository, puts its code where the
//! project keeps code, is judged by the project's own tests as well as its own, and leaves a
//! commit on its branch that the user applies or discards. Nothing but an explicit apply
//! changes the user's checkout, index or branches.

pub mod git;
pub mod land;
pub mod layout;
pub mod map;
pub mod splice;
pub mod worktree;

use git::Git;
pub use layout::{Kind, Layout, TestCommand};
use std::path::{Path, PathBuf};

/// What config.toml says of the project (empty: decided by where flotilla starts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectSettings {
    /// `project = "…"`: the repository to work on.
    pub project: Option<PathBuf>,
    /// `base = "main"`: what workflows start from (else the commit of `HEAD`).
    pub base: Option<String>,
    /// `test_command = "…"`: the project's tests (else detected).
    pub test_command: Option<String>,
}

/// The repository flotilla works on.
#[derive(Debug, Clone)]
pub struct Project {
    /// Its top folder: the user's checkout.
    pub root: PathBuf,
    /// What workflows start from: a branch or commit, `None` for `HEAD`.
    pub base: Option<String>,
    /// Where `base` was set (config.toml or `.flotilla.toml`).
    pub base_origin: Option<String>,
    pub kind: Kind,
    /// The project's tests, when it has any or a command was set.
    pub test_command: Option<TestCommand>,
    /// The project's own virtual environment (`.venv`, `venv`), used read-only.
    pub venv: Option<PathBuf>,
    /// Its installed node packages, used read-only.
    pub node_modules: Option<PathBuf>,
}

/// `.flotilla.toml` in the repository: what the project says of itself.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RepoFile {
    test_command: Option<String>,
    base: Option<String>,
}

/// The name of the file a repository may carry to set its test command and base.
pub const REPO_FILE: &str = ".flotilla.toml";

impl Project {
    /// The repository to work on: `flag` (`--project DIR`, which must be one), else the
    /// config's `project`, else the repository `cwd` is in; `None` outside one. A bad
    /// `.flotilla.toml` is an error naming its line.
    pub fn find(
        flag: Option<&Path>,
        settings: &ProjectSettings,
        cwd: &Path,
    ) -> Result<Option<Self>, String> {
        let named = flag.or(settings.project.as_deref());
        let start = named.unwrap_or(cwd);
        let Some(root) = Git::at(start).toplevel() else {
            return match named {
                Some(dir) => Err(format!(
                    "{} is not inside a git repository (flotilla works on a repository's worktrees)",
                    dir.display()
                )),
                None => Ok(None),
            };
        };
        let repo_file = read_repo_file(&root)?;
        let (base, base_origin) = match (&settings.base, &repo_file.base) {
            (Some(b), _) => (Some(b.clone()), Some("config.toml".to_owned())),
            (None, Some(b)) => (Some(b.clone()), Some(REPO_FILE.to_owned())),
            (None, None) => (None, None),
        };
        let venv = [".venv", "venv"]
            .into_iter()
            .map(|d| root.join(d))
            .find(|d| d.join("bin").join("python").exists());
        let node_modules = Some(root.join("node_modules")).filter(|d| d.is_dir());
        let kind = layout::kind_of(&root);
        let test_command = match (&settings.test_command, &repo_file.test_command) {
            (Some(c), _) => Some(TestCommand::shell(c, "config.toml")),
            (None, Some(c)) => Some(TestCommand::shell(c, REPO_FILE)),
            (None, None) => layout::detect_tests(&root, kind),
        };
        Ok(Some(Self {
            root,
            base,
            base_origin,
            kind,
            test_command,
            venv,
            node_modules,
        }))
    }

    pub fn git(&self) -> Git {
        Git::at(&self.root)
    }

    /// The commit workflows start from now: `base`, or `HEAD`.
    pub fn base_commit(&self) -> Result<String, String> {
        let rev = self.base.as_deref().unwrap_or("HEAD");
        self.git().commit_of(rev).map_err(|e| {
            if rev == "HEAD" {
                "the repository has no commit yet: commit something first".to_owned()
            } else {
                format!("base = {rev:?}: {}", e.message)
            }
        })
    }
}

fn read_repo_file(root: &Path) -> Result<RepoFile, String> {
    let path = root.join(REPO_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(RepoFile::default()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| {
                format!(
                    ", line {}",
                    text[..s.start.min(text.len())].matches('\n').count() + 1
                )
            })
            .unwrap_or_default();
        format!(
            "{}{line}: {} (expected test_command = \"…\" or base = \"…\")",
            path.display(),
            e.message().trim()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::git::tests::repo;
    use super::*;

    #[test]
    fn a_repository_is_found_from_inside_it_and_nothing_outside() {
        let dir = repo(&[
            ("pkg/__init__.py", ""),
            ("tests/test_a.py", "def test_a():\n    assert True\n"),
        ]);
        let inside = dir.path().join("pkg");
        let found = Project::find(None, &ProjectSettings::default(), &inside)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("not found"));
        assert_eq!(
            found.root.canonicalize().ok(),
            dir.path().canonicalize().ok()
        );
        assert_eq!(
            found.kind.language(),
            Some(crate::language::Language::Python)
        );
        assert!(found.test_command.is_some());
        assert!(found.base_commit().is_ok());
        let outside = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            Project::find(None, &ProjectSettings::default(), outside.path()),
            Ok(None)
        ));
        let err = Project::find(
            Some(outside.path()),
            &ProjectSettings::default(),
            Path::new("/"),
        )
        .err()
        .unwrap_or_default();
        assert!(err.contains("is not inside a git repository"), "{err}");
    }

    #[test]
    fn the_repository_file_sets_the_test_command_and_a_bad_one_names_its_line() {
        let dir = repo(&[(REPO_FILE, "test_command = \"make check\"\n")]);
        let found = Project::find(None, &ProjectSettings::default(), dir.path())
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("not found"));
        let command = found.test_command.unwrap_or_else(|| panic!("no command"));
        assert_eq!(command.display(), "make check");
        assert_eq!(command.origin, REPO_FILE);
        std::fs::write(dir.path().join(REPO_FILE), "\ntest_comand = 1\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let err = Project::find(None, &ProjectSettings::default(), dir.path())
            .err()
            .unwrap_or_default();
        assert!(err.contains(".flotilla.toml, line 2"), "{err}");
        let settings = ProjectSettings {
            base: Some("no-such-branch".into()),
            ..ProjectSettings::default()
        };
        std::fs::remove_file(dir.path().join(REPO_FILE)).unwrap_or_else(|e| panic!("{e}"));
        let found = Project::find(None, &settings, dir.path())
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("not found"));
        assert!(
            found
                .base_commit()
                .is_err_and(|e| e.contains("no-such-branch"))
        );
    }
}
