//! JavaScript: a CommonJS module `solution.js` for node, tests under `node --test` read as TAP,
//! a probe script that calls the code on inputs.

use super::project::{self, Layout, Project, ProjectRun, ProjectTests};
use super::{Language, Output, Probe, Rules, TestRun, Tool, args};
use std::path::Path;

mod syntax;

const PROBE: &str = include_str!("../../../assets/node_probe.js");

pub const RULES: Rules = Rules {
    name: "javascript",
    words: &["js", "node", "nodejs", "node.js"],
    extensions: &["js", "mjs", "cjs"],
    code_file: "solution.js",
    test_file: "solution.test.js",
    test_conventions: "Use node's built-in test runner: const test = require('node:test'); \
         const assert = require('node:assert'); and import the code with \
         const solution = require('./solution.js');",
    test_example: "```javascript\nconst assert = require('node:assert');\nconst { repeatWord } = require('./solution.js');\n\nassert.strictEqual(repeatWord('ab', 3), 'ababab');\nassert.strictEqual(repeatWord('ab', 0), '');\nassert.strictEqual(repeatWord('x', 1), 'x');\n```",
    code_conventions: "Write a CommonJS module for node and export the public functions with module.exports = { ... }.",
    is_self_import: |import| import.contains("./solution"),
    alias_line: |want, have| format!("module.exports.{want} = {have};\n"),
    literals: super::Literals {
        yes: "true",
        no: "false",
        nothing: Some("null"),
        double_quoted: false,
        // No tuples, and objects are not compared by `deepStrictEqual` the way Python
        // compares dicts; a call's own `(` is split off before.
        unsayable: &['{', ':', '('],
    },
    assert_equal: |call, expected| format!("assert.deepStrictEqual({call}, {expected});"),
    tool: Tool::Node,
    test_run: |_| TestRun {
        args: args(&["--test", "--test-reporter=tap", RULES.test_file]),
        support: None,
        runner: "node --test",
        output: Output::Tap,
    },
    probe: Probe::Script("_flotilla_probe.js", PROBE),
    imports_check: None,
    project: PROJECT,
    syntax: syntax::SYNTAX,
};

/// A JavaScript package: by its `package.json`; its tests by the test script it sets, else
/// under `node --test` when it has test files; code in `src/` or `lib/`, tests in `test/` or
/// `tests/`, reached by a relative `require`.
const PROJECT: Project = Project {
    name: "a JavaScript package",
    manifests: &["package.json"],
    rank: 1,
    tests: project_tests,
    place,
    shim: |import| {
        Some((
            "solution.js",
            format!("module.exports = require({import:?});\n"),
        ))
    },
    suite_in_project: |layout, suite| {
        let from = format!("{:?}", relative(&layout.test_path, &layout.code_path));
        suite
            .replace("require('./solution.js')", &format!("require({from})"))
            .replace("require(\"./solution.js\")", &format!("require({from})"))
    },
    suite_in_run: project::suite_as_is,
};

/// `npm test` when package.json sets a test script, else `node --test` over its test files.
fn project_tests(root: &Path, files: &[String]) -> Option<ProjectTests> {
    let manifest = std::fs::read_to_string(root.join("package.json")).unwrap_or_default();
    let script = serde_json::from_str::<serde_json::Value>(&manifest)
        .ok()
        .and_then(|v| v["scripts"]["test"].as_str().map(str::to_owned));
    if script.is_some_and(|s| !s.contains("no test specified")) {
        return Some(ProjectTests {
            line: "npm test",
            why: "package.json's test script",
            run: ProjectRun::Shell(Some(Output::Tap)),
        });
    }
    files
        .iter()
        .any(|f| {
            f.ends_with(".test.js")
                || f.ends_with(".spec.js")
                || (f.starts_with("test/") && f.ends_with(".js"))
        })
        .then_some(ProjectTests {
            line: "node --test",
            why: "a package with test files",
            run: ProjectRun::Tool {
                tool: Tool::Node,
                args: |_, _| TestRun {
                    args: args(&["--test", "--test-reporter=tap"]),
                    support: None,
                    runner: "node --test",
                    output: Output::Tap,
                },
            },
        })
}

/// Code in `src/`, else `lib/`, else at the top.
fn place(_: &Path, files: &[String], module: &str, named: Option<String>) -> Layout {
    let code_path = named.unwrap_or_else(|| {
        if files.iter().any(|f| f.starts_with("src/")) {
            format!("src/{module}.js")
        } else if files.iter().any(|f| f.starts_with("lib/")) {
            format!("lib/{module}.js")
        } else {
            format!("{module}.js")
        }
    });
    let stem = project::file_name(&code_path)
        .trim_end_matches(".js")
        .to_owned();
    Layout {
        language: Language::Javascript,
        test_path: format!("{}/{stem}.test.js", project::test_dir(files)),
        import: format!("./{code_path}"),
        code_path,
        extra: Vec::new(),
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
    #[test]
    fn a_require_is_relative_to_the_test_file() {
        assert_eq!(super::relative("a.test.js", "b.js"), "./b.js");
        assert_eq!(super::relative("test/a.test.js", "src/b.js"), "../src/b.js");
    }
}
