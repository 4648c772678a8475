//! Rust: the body of a library crate `solution` (`src/lib.rs`), an integration test file under
//! `cargo test`. Its probe is a scratch test built from the signature's types (in the sandbox's
//! runner), not a script.

use super::{Output, Rules, RunOn, TestRun, Tool};

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
    probe_script: None,
};

/// Under `cargo test`; on a project, the suite's own tests only, not the crate's.
fn test_run(on: RunOn) -> TestRun {
    let args = if on.project {
        vec![
            "test",
            "--offline",
            "--color",
            "never",
            "--test",
            "solution",
        ]
    } else {
        vec!["test", "--offline", "--color", "never"]
    };
    TestRun {
        args,
        support: None,
        runner: "cargo test",
        output: Output::Cargo,
    }
}
