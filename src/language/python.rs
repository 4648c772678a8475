//! Python: a module `solution.py`, tests under pytest when it can be imported and otherwise
//! under flotilla's own runner (which prints pytest's lines), a probe script that calls the
//! code on inputs.

use super::{Output, Rules, RunOn, TestRun, Tool};

/// The fallback runner, embedded at build time.
const RUNNER: &str = include_str!("../../assets/python_test_runner.py");
const PROBE: &str = include_str!("../../assets/python_probe.py");

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
        import.starts_with("from solution ") || import.trim() == "import solution"
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
    probe_script: Some(("_flotilla_probe.py", PROBE)),
};

/// Under pytest when it can be imported, else under flotilla's runner; both print pytest's
/// lines.
fn test_run(on: RunOn) -> TestRun {
    let file = RULES.test_file;
    if on.pytest {
        TestRun {
            args: vec!["-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", file],
            support: None,
            runner: "pytest",
            output: Output::Pytest,
        }
    } else {
        TestRun {
            args: vec!["_flotilla_runner.py", file],
            support: Some(("_flotilla_runner.py", RUNNER)),
            runner: "flotilla's python runner",
            output: Output::Pytest,
        }
    }
}
