//! A language's repositories: how one is recognised, how its own tests run, and where a
//! workflow's code and tests go in it (the package's folder, `src/`, `tests/`) with the
//! import that reaches the code from the tests. Each language's [`Project`] is part of its
//! [`super::Rules`]; [`Layout`] reads it.

use super::{Language, Output, RunOn, TestRun, Tool};
use std::path::Path;

/// Everything particular to one language's repositories.
pub struct Project {
    /// What a repository of it is called (`a Rust crate`).
    pub name: &'static str,
    /// The files that make a repository one of this language (`Cargo.toml`).
    pub manifests: &'static [&'static str],
    /// Which language a repository is when it has manifests of several, or as many source
    /// files of each (lower first): a crate with a `pyproject.toml` for its Python bindings
    /// is still a crate.
    pub rank: u8,
    /// The project's own tests, given its folder and tracked files, when it has some.
    pub tests: fn(&Path, &[String]) -> Option<ProjectTests>,
    /// Where code named `module` (a safe file stem) goes, or at the path the plan named when
    /// it is usable; given the repository's folder and tracked files.
    pub place: fn(&Path, &[String], &str, Option<String>) -> Layout,
    /// A file flotilla's runners load in the scratch copy that re-exports the code (at this
    /// import) under the name the tests and probes use (`solution`), when the language needs
    /// one.
    pub shim: fn(&str) -> Option<(&'static str, String)>,
    /// A suite written against `solution` as it goes in the project, reaching the code where
    /// it is.
    pub suite_in_project: fn(&Layout, &str) -> String,
    /// A suite as it runs in the scratch copy (where the shim, if any, stands for the code).
    pub suite_in_run: fn(&Layout, &str) -> String,
}

/// A project's own test command, as detected.
pub struct ProjectTests {
    /// The command as a user would type it.
    pub line: &'static str,
    /// Why it was chosen.
    pub why: &'static str,
    pub run: ProjectRun,
}

/// How a project's test command runs and reads.
#[derive(Debug, Clone, Copy)]
pub enum ProjectRun {
    /// Under a tool with the arguments `args` gives for the run and the tracked files.
    Tool {
        tool: Tool,
        args: fn(RunOn, &[String]) -> TestRun,
    },
    /// The command line under `sh -c`, its output read in one format, or in every format
    /// (the one that names the most tests wins) when it is a command set by hand.
    Shell(Option<Output>),
}

/// Where one workflow's code and tests go in the project, and how the tests reach the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub language: Language,
    /// The code's file, relative to the repository (`pkg/slugify.py`).
    pub code_path: String,
    /// The generated tests' file (`tests/test_slugify.py`).
    pub test_path: String,
    /// How code imports it: `pkg.slugify`, `./src/slugify.js`, `mycrate::slugify`.
    pub import: String,
    /// Other files every candidate changes the same way (`src/lib.rs` gains `pub mod slugify;`).
    pub extra: Vec<(String, String)>,
    /// A folder to put first on Python's path (`src` for a src layout).
    pub python_path: Option<String>,
}

impl Layout {
    /// The layout for code in `language` named `module` (a file stem), or at `named` when the
    /// plan named a usable path. `files` are the repository's tracked files.
    pub fn choose(
        root: &Path,
        files: &[String],
        language: Language,
        module: &str,
        named: Option<&str>,
    ) -> Self {
        let module = module_name(module);
        let named = named.and_then(|p| usable_path(p, language));
        (language.rules().project.place)(root, files, &module, named)
    }

    /// A file flotilla's runners load in the scratch copy that re-exports the code under the
    /// name the tests and probes use (`solution`), when the language has one.
    pub fn shim(&self) -> Option<(&'static str, String)> {
        (self.language.rules().project.shim)(&self.import)
    }

    /// A suite written against `solution` as it goes in the project, importing the code where it
    /// is (`from solution import *` → `from pkg.slugify import *`).
    pub fn tests_for_project(&self, suite: &str) -> String {
        (self.language.rules().project.suite_in_project)(self, suite)
    }

    /// A suite as it runs in the scratch copy: Rust has no shim, so its `use solution::…`
    /// points at the module; the others import the shim.
    pub fn tests_for_run(&self, suite: &str) -> String {
        (self.language.rules().project.suite_in_run)(self, suite)
    }
}

/// For a language whose suites run in the scratch copy as they are (the shim stands for the
/// code).
pub(super) fn suite_as_is(_: &Layout, suite: &str) -> String {
    suite.to_owned()
}

/// A file stem usable as a module name in every language: lower case, `_` for anything else.
pub fn module_name(hint: &str) -> String {
    let mut out: String = hint
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    out = out.trim_matches('_').to_owned();
    while out.contains("__") {
        out = out.replace("__", "_");
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "module_");
    }
    out
}

/// A path the plan named, when it is relative, stays inside the repository, is no test file
/// and has the language's extension.
fn usable_path(path: &str, language: Language) -> Option<String> {
    let path = path
        .trim()
        .trim_matches(['`', '"', '\''])
        .trim_start_matches("./");
    let ext = format!(".{}", language.rules().extensions[0]);
    let name = file_name(path);
    let ok = path.ends_with(&ext)
        && !path.starts_with('/')
        && !path
            .split('/')
            .any(|p| p == ".." || p == ".git" || p.is_empty())
        && !name.starts_with("test")
        && !path.contains(".test.")
        && !path.starts_with("tests/")
        && name.len() > ext.len()
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'));
    ok.then(|| path.to_owned())
}

/// The folder tests live in: `tests/`, else `test/`, else `tests/` (new).
pub(super) fn test_dir(files: &[String]) -> &'static str {
    if files.iter().any(|f| f.starts_with("tests/")) {
        "tests"
    } else if files.iter().any(|f| f.starts_with("test/")) {
        "test"
    } else {
        "tests"
    }
}

/// A file's name without its folders.
pub(super) fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}
