//! Python: a module `solution.py`, tests under pytest when it can be imported and otherwise
//! under flotilla's own runner (which prints pytest's lines), a probe script that calls the
//! code on inputs.

use super::project::{self, Layout, Project, ProjectRun, ProjectTests};
use super::{ImportsCheck, Language, Output, Probe, Rules, RunOn, TestRun, Tool, args};
use std::path::Path;

mod syntax;

/// The fallback runner, embedded at build time.
const RUNNER: &str = include_str!("../../../assets/python_test_runner.py");
const PROBE: &str = include_str!("../../../assets/python_probe.py");
/// Which top-level imports fail in the sandbox and bind no name the code reads but a
/// builtin's.
const IMPORTS: &str = include_str!("../../../assets/python_imports.py");

pub const RULES: Rules = Rules {
    name: "python",
    words: &["python3", "py"],
    extensions: &["py"],
    code_file: "solution.py",
    test_file: "test_solution.py",
    test_conventions: "Write plain pytest-style test functions named test_* that use assert. \
         Import the code with: from solution import *",
    test_example: "```python\nfrom solution import repeat_word\n\nassert repeat_word(\"ab\", 3) == \"ababab\"\nassert repeat_word(\"ab\", 0) == \"\"\nassert repeat_word(\"x\", 1) == \"x\"\n```",
    code_conventions: "Write a Python module; the tests will do `from solution import *`.",
    is_self_import: |import| {
        let import = import.trim();
        import.starts_with("from solution ")
            || import == "import solution"
            || import.starts_with("import solution as ")
    },
    alias_line: |want, have| format!("\n\n{want} = {have}\n"),
    literals: super::Literals {
        yes: "True",
        no: "False",
        nothing: Some("None"),
        double_quoted: false,
        unsayable: &[],
    },
    assert_equal: |call, expected| format!("assert {call} == {expected}"),
    tool: Tool::Python,
    test_run,
    probe: Probe::Script("_flotilla_probe.py", PROBE),
    imports_check: Some(ImportsCheck {
        worth_checking: has_import,
        script: ("_flotilla_imports.py", IMPORTS),
    }),
    project: PROJECT,
    syntax: syntax::SYNTAX,
};

/// Under pytest when it can be imported, else under flotilla's runner; both print pytest's
/// lines.
fn test_run(on: RunOn) -> TestRun {
    let file = RULES.test_file;
    if on.pytest {
        TestRun {
            args: args(&["-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", file]),
            support: None,
            runner: "pytest",
            output: Output::Pytest,
        }
    } else {
        TestRun {
            args: args(&["_flotilla_runner.py", file]),
            support: Some(("_flotilla_runner.py", RUNNER)),
            runner: "flotilla's python runner",
            output: Output::Pytest,
        }
    }
}

/// A Python project: by its manifest; its tests under pytest (flotilla's runner over its test
/// files when pytest is missing); code in its package, tests in `tests/`.
const PROJECT: Project = Project {
    name: "a Python project",
    manifests: &["pyproject.toml", "setup.py", "setup.cfg"],
    rank: 2,
    tests: |_, files| {
        files
            .iter()
            .any(|f| is_test_file(f))
            .then_some(ProjectTests {
                line: "python -m pytest",
                why: "a Python project with test files",
                run: ProjectRun::Tool {
                    tool: Tool::Python,
                    args: project_run,
                },
            })
    },
    place,
    shim: |import| {
        Some((
            "solution.py",
            format!(
                "import {import} as _flotilla_module\nglobals().update({{k: v for k, v in vars(_flotilla_module).items() if not k.startswith('__')}})\n"
            ),
        ))
    },
    suite_in_project,
    suite_in_run: project::suite_as_is,
};

/// Whether code has a top-level import other than `typing`'s and `__future__`'s (the only
/// ones that never fail).
fn has_import(code: &str) -> bool {
    code.lines().any(|l| {
        (l.starts_with("import ") || l.starts_with("from "))
            && !l.starts_with("from typing ")
            && !l.starts_with("import typing")
            && !l.starts_with("from __future__ ")
    })
}

/// A Python file pytest collects.
fn is_test_file(path: &str) -> bool {
    let name = project::file_name(path);
    path.ends_with(".py") && (name.starts_with("test_") || name.ends_with("_test.py"))
}

/// A project's tests under pytest, which finds them, or under flotilla's runner, given them.
fn project_run(on: RunOn, files: &[String]) -> TestRun {
    if on.pytest {
        return TestRun {
            args: args(&["-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider"]),
            support: None,
            runner: "pytest",
            output: Output::Pytest,
        };
    }
    let run = test_run(on);
    let mut args: Vec<String> = run.support.iter().map(|(n, _)| (*n).to_owned()).collect();
    args.extend(files.iter().filter(|f| is_test_file(f)).cloned());
    TestRun { args, ..run }
}

/// Code in the first package (a folder with an `__init__.py`, at the top or under `src/`), or
/// at the top; importable by its dotted path, with `src` first on the path for a src layout.
fn place(_: &Path, files: &[String], module: &str, named: Option<String>) -> Layout {
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
        test_path: format!("{}/test_{stem}.py", project::test_dir(files)),
        code_path,
        import,
        extra: Vec::new(),
        python_path,
    }
}

/// `from solution import …`, `import solution [as x]` pointed at the code's module.
fn suite_in_project(layout: &Layout, suite: &str) -> String {
    let import = &layout.import;
    suite
        .lines()
        .map(|l| {
            let t = l.trim_start();
            if let Some(rest) = t.strip_prefix("from solution import ") {
                format!("from {import} import {rest}")
            } else if let Some(alias) = t.strip_prefix("import solution as ") {
                format!("import {import} as {alias}")
            } else if t == "import solution" {
                format!("import {import} as solution")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}
