//! JavaScript: a CommonJS module `solution.js` for node, tests under `node --test` read as TAP,
//! a probe script that calls the code on inputs.

use super::{Output, Rules, TestRun, Tool};

const PROBE: &str = include_str!("../../assets/node_probe.js");

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
        args: vec!["--test", "--test-reporter=tap", RULES.test_file],
        support: None,
        runner: "node --test",
        output: Output::Tap,
    },
    probe_script: Some(("_flotilla_probe.js", PROBE)),
};
