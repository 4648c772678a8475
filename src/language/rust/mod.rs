//! Rust: the body of a library crate `solution` (`src/lib.rs`), an integration test file under
//! `cargo test`. Its probe is a scratch test built from the signature's types (in the sandbox's
//! runner), not a script.

use super::project::{Layout, Project, ProjectRun, ProjectTests};
use super::{Language, Output, Probe, Rules, RunOn, TestRun, Tool, args};
use std::path::Path;

mod probe;
mod syntax;

pub const RULES: Rules = Rules {
    name: "rust",
    words: &["rs"],
    extensions: &["rs"],
    code_file: "src/lib.rs",
    test_file: "tests/solution.rs",
    test_conventions: "Write an integration test file with #[test] functions that use assert!/assert_eq!. \
         Import the code with: use solution::*;",
    test_example: "```rust\nuse solution::*;\n\nassert_eq!(repeat_word(\"ab\", 3), \"ababab\");\nassert_eq!(repeat_word(\"ab\", 0), \"\");\nassert_eq!(repeat_word(\"x\", 1), \"x\");\n```",
    code_conventions: "Write the body of a library crate (src/lib.rs) with `pub fn` items; no main function.",
    is_self_import: |import| import.contains("solution::"),
    alias_line: |want, have| format!("\npub use self::{have} as {want};\n"),
    literals: super::Literals {
        yes: "true",
        no: "false",
        nothing: None,
        double_quoted: true,
        unsayable: &['[', '{', ':'],
    },
    assert_equal: |call, expected| format!("assert_eq!({call}, {expected});"),
    tool: Tool::Cargo,
    test_run,
    probe: Probe::Typed(probe::arguments),
    imports_check: None,
    project: PROJECT,
    syntax: syntax::SYNTAX,
};

/// Under `cargo test`; on a project, the suite's own tests only, not the crate's.
fn test_run(on: RunOn) -> TestRun {
    let mut test = args(&["test", "--offline", "--color", "never"]);
    if on.project {
        test.extend(args(&["--test", "solution"]));
    }
    TestRun {
        args: test,
        support: None,
        runner: "cargo test",
        output: Output::Cargo,
    }
}

/// A crate: by its `Cargo.toml`; tested by `cargo test`; code a module of its library
/// (declared in `src/lib.rs`), tests an integration test file.
const PROJECT: Project = Project {
    name: "a Rust crate",
    manifests: &["Cargo.toml"],
    rank: 0,
    tests: |_, _| {
        Some(ProjectTests {
            line: "cargo test",
            why: "a Rust crate",
            run: ProjectRun::Tool {
                tool: Tool::Cargo,
                // The whole crate's tests: its suite's run without `--test solution`.
                args: |on, _| {
                    test_run(RunOn {
                        project: false,
                        ..on
                    })
                },
            },
        })
    },
    place,
    shim: |_| None,
    suite_in_project: |layout, suite| uses(suite, &layout.import),
    suite_in_run: |layout, suite| uses(suite, &layout.import),
};

/// `solution::x` and `use solution::*` in a suite, pointing at `import` instead (Rust has no
/// shim: the suite reaches the module itself, in the project and in the scratch copy).
fn uses(suite: &str, import: &str) -> String {
    suite
        .replace("solution::", &format!("{import}::"))
        .replace("use solution;", &format!("use {import};"))
}

/// Code in `src/<module>.rs`, a module of the library (a plan naming another file under
/// `src/` is kept when it is one level deep), declared in `src/lib.rs` when it is not yet.
fn place(root: &Path, _: &[String], module: &str, named: Option<String>) -> Layout {
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
        let text = std::fs::read_to_string(root.join("src/lib.rs")).unwrap_or_default();
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
    Layout {
        language: Language::Rust,
        test_path: format!("tests/{test_stem}_flotilla.rs"),
        code_path,
        import,
        extra,
        python_path: None,
    }
}
