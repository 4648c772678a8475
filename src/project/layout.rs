//! How a project is laid out: its kind, its tests and how to run them, and where a workflow's
//! code and tests go in it (the package's folder, `src/`, `tests/`), with the import that
//! reaches the code from the tests.

use super::git::Git;
use crate::language::Language;
use std::path::Path;

/// What kind of project a repository is, by its manifest (or its files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Python,
    Rust,
    Javascript,
    /// None of those: the code's language decides, and only a set command tests it.
    Other,
}

impl Kind {
    pub fn language(self) -> Option<Language> {
        match self {
            Self::Python => Some(Language::Python),
            Self::Rust => Some(Language::Rust),
            Self::Javascript => Some(Language::Javascript),
            Self::Other => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Python => "a Python project",
            Self::Rust => "a Rust crate",
            Self::Javascript => "a JavaScript package",
            Self::Other => "a repository",
        }
    }
}

/// The repository's kind: Cargo.toml, package.json, a Python manifest, else its most common
/// source files.
pub fn kind_of(root: &Path) -> Kind {
    if root.join("Cargo.toml").is_file() {
        return Kind::Rust;
    }
    if root.join("package.json").is_file() {
        return Kind::Javascript;
    }
    if ["pyproject.toml", "setup.py", "setup.cfg"]
        .iter()
        .any(|f| root.join(f).is_file())
    {
        return Kind::Python;
    }
    let files = Git::at(root).tracked_files().unwrap_or_default();
    let count = |ext: &str| files.iter().filter(|f| f.ends_with(ext)).count();
    let (py, js, rs) = (count(".py"), count(".js"), count(".rs"));
    match py.max(js).max(rs) {
        0 => Kind::Other,
        n if n == py => Kind::Python,
        n if n == rs => Kind::Rust,
        _ => Kind::Javascript,
    }
}

/// Which runner a test command is, for reading its output test by test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runner {
    Pytest,
    Cargo,
    Node,
    Npm,
    /// A command set by hand: its output is read with every parser.
    Shell,
}

/// The project's test command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCommand {
    pub runner: Runner,
    /// For `Shell`, the command line (run with `sh -c`).
    pub line: String,
    /// Where it came from: "detected: …", "config.toml", ".flotilla.toml".
    pub origin: String,
}

impl TestCommand {
    pub fn shell(line: &str, origin: &str) -> Self {
        Self {
            runner: Runner::Shell,
            line: line.trim().to_owned(),
            origin: origin.to_owned(),
        }
    }

    fn detected(runner: Runner, why: &str) -> Self {
        let line = match runner {
            Runner::Pytest => "python -m pytest",
            Runner::Cargo => "cargo test",
            Runner::Node => "node --test",
            Runner::Npm => "npm test",
            Runner::Shell => "",
        };
        Self {
            runner,
            line: line.to_owned(),
            origin: format!("detected: {why}"),
        }
    }

    /// The command as a user would type it.
    pub fn display(&self) -> &str {
        &self.line
    }
}

/// The project's tests, when it has some: pytest for a Python project with test files, cargo
/// test for a crate, `npm test` for a package whose test script is set, `node --test` for one
/// with test files.
pub fn detect_tests(root: &Path, kind: Kind) -> Option<TestCommand> {
    let files = Git::at(root).tracked_files().unwrap_or_default();
    let name_of = |f: &str| f.rsplit('/').next().unwrap_or(f).to_owned();
    match kind {
        Kind::Python => {
            let tests = files.iter().any(|f| {
                let name = name_of(f);
                f.ends_with(".py") && (name.starts_with("test_") || name.ends_with("_test.py"))
            });
            tests.then(|| TestCommand::detected(Runner::Pytest, "a Python project with test files"))
        }
        Kind::Rust => Some(TestCommand::detected(Runner::Cargo, "a Rust crate")),
        Kind::Javascript => {
            let manifest = std::fs::read_to_string(root.join("package.json")).unwrap_or_default();
            let script = serde_json::from_str::<serde_json::Value>(&manifest)
                .ok()
                .and_then(|v| v["scripts"]["test"].as_str().map(str::to_owned));
            match script {
                Some(s) if !s.contains("no test specified") => Some(TestCommand::detected(
                    Runner::Npm,
                    "package.json's test script",
                )),
                _ => files
                    .iter()
                    .any(|f| {
                        f.ends_with(".test.js")
                            || f.ends_with(".spec.js")
                            || (f.starts_with("test/") && f.ends_with(".js"))
                    })
                    .then(|| TestCommand::detected(Runner::Node, "a package with test files")),
            }
        }
        Kind::Other => None,
    }
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
        match language {
            Language::Python => python(files, &module, named),
            Language::Javascript => javascript(files, &module, named),
            Language::Rust => rust(root, files, &module, named),
        }
    }

    /// A file flotilla's runners load in the scratch copy that re-exports the code under the
    /// name the tests and probes use (`solution`), when the language has one.
    pub fn shim(&self) -> Option<(&'static str, String)> {
        match self.language {
            Language::Python => Some((
                "solution.py",
                format!(
                    "import {m} as _flotilla_module\nglobals().update({{k: v for k, v in vars(_flotilla_module).items() if not k.startswith('__')}})\n",
                    m = self.import
                ),
            )),
            Language::Javascript => Some((
                "solution.js",
                format!("module.exports = require({:?});\n", self.import),
            )),
            Language::Rust => None,
        }
    }

    /// A suite written against `solution` as it goes in the project, importing the code where it
    /// is (`from solution import *` → `from pkg.slugify import *`).
    pub fn tests_for_project(&self, suite: &str) -> String {
        match self.language {
            Language::Python => {
                suite
                    .lines()
                    .map(|l| {
                        let t = l.trim_start();
                        if let Some(rest) = t.strip_prefix("from solution import ") {
                            format!("from {} import {rest}", self.import)
                        } else if let Some(alias) = t.strip_prefix("import solution as ") {
                            format!("import {} as {alias}", self.import)
                        } else if t == "import solution" {
                            format!("import {} as solution", self.import)
                        } else {
                            l.to_owned()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
                    + "\n"
            }
            Language::Javascript => {
                let from = relative(&self.test_path, &self.code_path);
                suite
                    .replace("require('./solution.js')", &format!("require({from:?})"))
                    .replace("require(\"./solution.js\")", &format!("require({from:?})"))
            }
            Language::Rust => rust_uses(suite, &self.import),
        }
    }

    /// A suite as it runs in the scratch copy: Rust has no shim, so its `use solution::…`
    /// points at the module; the others import the shim.
    pub fn tests_for_run(&self, suite: &str) -> String {
        match self.language {
            Language::Rust => rust_uses(suite, &self.import),
            _ => suite.to_owned(),
        }
    }
}

/// `solution::x` and `use solution::*` in a Rust suite, pointing at `import` instead.
fn rust_uses(suite: &str, import: &str) -> String {
    suite
        .replace("solution::", &format!("{import}::"))
        .replace("use solution;", &format!("use {import};"))
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
    let name = path.rsplit('/').next().unwrap_or(path);
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
fn test_dir(files: &[String]) -> &'static str {
    if files.iter().any(|f| f.starts_with("tests/")) {
        "tests"
    } else if files.iter().any(|f| f.starts_with("test/")) {
        "test"
    } else {
        "tests"
    }
}

fn python(files: &[String], module: &str, named: Option<String>) -> Layout {
    // Packages: folders holding an `__init__.py`, at the top or under src/ (not tests).
    let mut packages: Vec<String> = files
        .iter()
        .filter_map(|f| f.strip_suffix("/__init__.py"))
        .filter(|p| {
            let depth = p.matches('/').count();
            (depth == 0 || (depth == 1 && p.starts_with("src/")))
                && !p.starts_with("test")
                && !p.contains("/test")
        })
        .map(str::to_owned)
        .collect();
    packages.sort();
    let code_path = named.unwrap_or_else(|| match packages.first() {
        Some(pkg) => format!("{pkg}/{module}.py"),
        None => format!("{module}.py"),
    });
    let (python_path, dotted) = match code_path.strip_prefix("src/") {
        Some(rest) => (Some("src".to_owned()), rest.to_owned()),
        None => (None, code_path.clone()),
    };
    let import = dotted.trim_end_matches(".py").replace('/', ".");
    let stem = import.rsplit('.').next().unwrap_or(module).to_owned();
    Layout {
        language: Language::Python,
        test_path: format!("{}/test_{stem}.py", test_dir(files)),
        code_path,
        import,
        extra: Vec::new(),
        python_path,
    }
}

fn javascript(files: &[String], module: &str, named: Option<String>) -> Layout {
    let code_path = named.unwrap_or_else(|| {
        if files.iter().any(|f| f.starts_with("src/")) {
            format!("src/{module}.js")
        } else if files.iter().any(|f| f.starts_with("lib/")) {
            format!("lib/{module}.js")
        } else {
            format!("{module}.js")
        }
    });
    let stem = code_path
        .rsplit('/')
        .next()
        .unwrap_or(module)
        .trim_end_matches(".js")
        .to_owned();
    Layout {
        language: Language::Javascript,
        test_path: format!("{}/{stem}.test.js", test_dir(files)),
        import: format!("./{code_path}"),
        code_path,
        extra: Vec::new(),
        python_path: None,
    }
}

fn rust(root: &Path, files: &[String], module: &str, named: Option<String>) -> Layout {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap_or_default();
    let krate = toml::from_str::<toml::Value>(&manifest)
        .ok()
        .and_then(|v| {
            v.get("lib")
                .and_then(|l| l.get("name"))
                .or_else(|| v.get("package").and_then(|p| p.get("name")))
                .and_then(|n| n.as_str().map(str::to_owned))
        })
        .unwrap_or_else(|| "solution".to_owned())
        .replace('-', "_");
    // Code in src/<module>.rs, a module of the library; a plan naming another file under src/
    // is kept when it is one level deep.
    let code_path = named
        .filter(|p| p.starts_with("src/") && p.matches('/').count() == 1)
        .unwrap_or_else(|| format!("src/{module}.rs"));
    let stem = code_path
        .trim_start_matches("src/")
        .trim_end_matches(".rs")
        .to_owned();
    let mut extra = Vec::new();
    let (import, test_stem) = if stem == "lib" {
        (krate.clone(), krate.clone())
    } else {
        let lib = root.join("src/lib.rs");
        let text = std::fs::read_to_string(&lib).unwrap_or_default();
        let declared = text.lines().any(|l| {
            let l = l.trim();
            l == format!("pub mod {stem};") || l == format!("mod {stem};")
        });
        if !declared {
            let mut new = text.clone();
            if !new.is_empty() && !new.ends_with('\n') {
                new.push('\n');
            }
            new.push_str(&format!("pub mod {stem};\n"));
            extra.push(("src/lib.rs".to_owned(), new));
        }
        (format!("{krate}::{stem}"), stem.clone())
    };
    let _ = files;
    Layout {
        language: Language::Rust,
        test_path: format!("tests/{test_stem}_flotilla.rs"),
        code_path,
        import,
        extra,
        python_path: None,
    }
}

/// The path from the folder of `from` to `to`, as a `require` takes it (`../src/x.js`).
fn relative(from: &str, to: &str) -> String {
    let from_dir: Vec<&str> = from.split('/').collect::<Vec<_>>();
    let from_dir = &from_dir[..from_dir.len().saturating_sub(1)];
    let to_parts: Vec<&str> = to.split('/').collect();
    let common = from_dir
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let ups = from_dir.len() - common;
    let rest = to_parts[common..].join("/");
    if ups == 0 {
        format!("./{rest}")
    } else {
        format!("{}{rest}", "../".repeat(ups))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
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
        assert_eq!(relative("a.test.js", "b.js"), "./b.js");
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
