//! How a project is laid out: its kind and its own tests, and (from the language's rules,
//! [`crate::language::Project`]) where a workflow's code and tests go in it.

use super::git::Git;
pub use crate::language::Layout;
use crate::language::{Language, ProjectRun};
use std::path::Path;

/// What kind of project a repository is: a language's, by its manifest (or its files), or
/// none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind(pub Option<Language>);

impl Kind {
    /// The language whose project it is; `None` when the code's language decides, and only a
    /// set command tests it.
    pub fn language(self) -> Option<Language> {
        self.0
    }

    pub fn as_str(self) -> &'static str {
        self.0.map_or("a repository", |l| l.rules().project.name)
    }
}

/// The repository's kind: a language's manifest (`Cargo.toml`, `package.json`, a Python
/// manifest), else its most common source files; by the languages' rank where several match.
pub fn kind_of(root: &Path) -> Kind {
    let mut languages = Language::ALL;
    languages.sort_by_key(|l| l.rules().project.rank);
    let by_manifest = languages.into_iter().find(|l| {
        l.rules()
            .project
            .manifests
            .iter()
            .any(|m| root.join(m).is_file())
    });
    if by_manifest.is_some() {
        return Kind(by_manifest);
    }
    let files = Git::at(root).tracked_files().unwrap_or_default();
    let count = |l: Language| {
        files
            .iter()
            .filter(|f| Language::of_path(f) == Some(l))
            .count()
    };
    // The most files; the first by rank among as many (the last maximum of the reversed
    // order).
    let most = languages
        .into_iter()
        .rev()
        .map(|l| (count(l), l))
        .filter(|(n, _)| *n > 0)
        .max_by_key(|(n, _)| *n);
    Kind(most.map(|(_, l)| l))
}

/// The project's test command.
#[derive(Debug, Clone)]
pub struct TestCommand {
    /// The command line: as a user would type it, and what runs under `sh -c` for a shell
    /// command.
    pub line: String,
    /// Where it came from: "detected: …", "config.toml", ".flotilla.toml".
    pub origin: String,
    pub run: ProjectRun,
}

impl TestCommand {
    /// A command set by hand: run with `sh -c`, its output read with every parser.
    pub fn shell(line: &str, origin: &str) -> Self {
        Self {
            line: line.trim().to_owned(),
            origin: origin.to_owned(),
            run: ProjectRun::Shell(None),
        }
    }

    /// The command as a user would type it.
    pub fn display(&self) -> &str {
        &self.line
    }
}

/// The project's tests, when it has some, as its language detects them (pytest for a Python
/// project with test files, cargo test for a crate, `npm test` for a package whose test
/// script is set, `node --test` for one with test files).
pub fn detect_tests(root: &Path, kind: Kind) -> Option<TestCommand> {
    let language = kind.language()?;
    let files = Git::at(root).tracked_files().unwrap_or_default();
    let found = (language.rules().project.tests)(root, &files)?;
    Some(TestCommand {
        line: found.line.to_owned(),
        origin: format!("detected: {}", found.why),
        run: found.run,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn every_language_is_found_by_its_manifest_and_lays_out_its_own_files() {
        let all = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for language in Language::ALL {
            let project = &language.rules().project;
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            for manifest in project.manifests {
                for d in [dir.path(), all.path()] {
                    std::fs::write(d.join(manifest), "").unwrap_or_else(|e| panic!("{e}"));
                }
            }
            assert_eq!(kind_of(dir.path()).language(), Some(language));
            assert_eq!(kind_of(dir.path()).as_str(), project.name);
            let l = Layout::choose(dir.path(), &[], language, "Slug Maker!", None);
            assert_eq!(l.language, language);
            for path in [&l.code_path, &l.test_path] {
                assert_eq!(Language::of_path(path), Some(language), "{path}");
            }
            assert!(
                l.code_path
                    .ends_with(&format!("slug_maker.{}", language.rules().extensions[0]))
            );
            if let Some((shim, _)) = l.shim() {
                assert_eq!(Language::of_path(shim), Some(language), "{shim}");
            }
            // The test writer's example, in the project, reaches the code where it is.
            let example = language.rules().test_example;
            let example = example.lines().filter(|l| !l.starts_with("```"));
            let example = example.collect::<Vec<_>>().join("\n") + "\n";
            assert_ne!(l.tests_for_project(&example), example, "{language}");
        }
        // A repository with every manifest is the language ranked first.
        let first = Language::ALL
            .into_iter()
            .min_by_key(|l| l.rules().project.rank);
        assert_eq!(kind_of(all.path()).language(), first);
        assert_eq!(kind_of(Path::new("/nonexistent")), Kind(None));
    }

    #[test]
    fn python_code_goes_in_the_package_and_tests_in_tests() {
        let f = files(&[
            "textkit/__init__.py",
            "textkit/core.py",
            "tests/test_core.py",
        ]);
        let l = Layout::choose(Path::new("/x"), &f, Language::Python, "slugify", None);
        assert_eq!(l.code_path, "textkit/slugify.py");
        assert_eq!(l.test_path, "tests/test_slugify.py");
        assert_eq!(l.import, "textkit.slugify");
        let suite = "from solution import *\nimport solution\n\ndef test_a():\n    assert slugify('A') == 'a'\n";
        let t = l.tests_for_project(suite);
        assert!(
            t.starts_with("from textkit.slugify import *\nimport textkit.slugify as solution\n"),
            "{t}"
        );
        // A src layout, and a path the plan named.
        let f = files(&["src/kit/__init__.py", "test/test_x.py"]);
        let l = Layout::choose(Path::new("/x"), &f, Language::Python, "Word Count!", None);
        assert_eq!(l.code_path, "src/kit/word_count.py");
        assert_eq!(
            (l.import.as_str(), l.python_path.as_deref()),
            ("kit.word_count", Some("src"))
        );
        assert_eq!(l.test_path, "test/test_word_count.py");
        let l = Layout::choose(
            Path::new("/x"),
            &f,
            Language::Python,
            "x",
            Some("src/kit/core.py"),
        );
        assert_eq!(l.code_path, "src/kit/core.py");
        for bad in [
            "../evil.py",
            "/etc/x.py",
            "tests/test_x.py",
            "a.js",
            ".git/x.py",
            "x y.py",
        ] {
            let l = Layout::choose(Path::new("/x"), &f, Language::Python, "m", Some(bad));
            assert_eq!(l.code_path, "src/kit/m.py", "{bad}");
        }
    }

    #[test]
    fn javascript_tests_require_the_code_by_its_relative_path() {
        let f = files(&["package.json", "src/index.js", "test/index.test.js"]);
        let l = Layout::choose(Path::new("/x"), &f, Language::Javascript, "slug", None);
        assert_eq!(
            (l.code_path.as_str(), l.test_path.as_str()),
            ("src/slug.js", "test/slug.test.js")
        );
        let t = l.tests_for_project("const s = require('./solution.js');\n");
        assert_eq!(t, "const s = require(\"../src/slug.js\");\n");
    }

    #[test]
    fn rust_code_is_a_module_of_the_library() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[package]\nname = \"my-crate\"\nversion = \"0.1.0\"\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir_all(dir.path().join("src")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("src/lib.rs"), "pub mod util;")
            .unwrap_or_else(|e| panic!("{e}"));
        let l = Layout::choose(dir.path(), &[], Language::Rust, "slug", None);
        assert_eq!(l.code_path, "src/slug.rs");
        assert_eq!(l.import, "my_crate::slug");
        assert_eq!(
            l.extra,
            [(
                "src/lib.rs".to_owned(),
                "pub mod util;\npub mod slug;\n".to_owned()
            )]
        );
        assert_eq!(
            l.tests_for_run("use solution::*;\nfn t() { solution::f(); }"),
            "use my_crate::slug::*;\nfn t() { my_crate::slug::f(); }"
        );
        let l = Layout::choose(dir.path(), &[], Language::Rust, "util", None);
        assert!(l.extra.is_empty());
    }
}
