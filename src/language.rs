//! The languages a workflow can be written in, and how each names its files.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    Python,
    #[serde(alias = "js", alias = "node")]
    Javascript,
    Rust,
}

impl Language {
    pub const ALL: [Language; 3] = [Self::Python, Self::Javascript, Self::Rust];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Python => "python",
            Self::Javascript => "javascript",
            Self::Rust => "rust",
        }
    }

    /// A language named by one word: `python`, `py`, `js`, `node`, `rust`…
    pub fn from_word(word: &str) -> Option<Self> {
        match word.trim().to_ascii_lowercase().as_str() {
            "python" | "python3" | "py" => Some(Self::Python),
            "javascript" | "js" | "node" | "nodejs" | "node.js" => Some(Self::Javascript),
            "rust" | "rs" => Some(Self::Rust),
            _ => None,
        }
    }

    /// The language a description asks for, if it names one ("in rust", "a node script").
    pub fn mentioned_in(text: &str) -> Option<Self> {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
            .map(|w| w.trim_end_matches('.'))
            .find_map(Self::from_word)
    }

    /// The file the code goes in, relative to the workflow's folder.
    pub fn code_file(self) -> &'static str {
        match self {
            Self::Python => "solution.py",
            Self::Javascript => "solution.js",
            Self::Rust => "src/lib.rs",
        }
    }

    /// The file the tests go in.
    pub fn test_file(self) -> &'static str {
        match self {
            Self::Python => "test_solution.py",
            Self::Javascript => "solution.test.js",
            Self::Rust => "tests/solution.rs",
        }
    }

    /// The fence tag and syntax name for highlighting.
    pub fn fence(self) -> &'static str {
        match self {
            Self::Python => "python",
            Self::Javascript => "javascript",
            Self::Rust => "rust",
        }
    }

    /// How the tests reach the code, told to the model that writes them.
    pub fn test_conventions(self) -> &'static str {
        match self {
            Self::Python => {
                "Write plain pytest-style test functions named test_* that use assert. \
                 Import the code with: from solution import *"
            }
            Self::Javascript => {
                "Use node's built-in test runner: const test = require('node:test'); \
                 const assert = require('node:assert'); and import the code with \
                 const solution = require('./solution.js');"
            }
            Self::Rust => {
                "Write an integration test file with #[test] functions that use assert!/assert_eq!. \
                 Import the code with: use solution::*;"
            }
        }
    }

    /// A short example of the test file's form, for the test writer. Its function is in no task
    /// set flotilla is measured on (it was `word_count`, one of the own set's tasks, whose
    /// suites could then be copied from the prompt).
    pub fn test_example(self) -> &'static str {
        match self {
            Self::Python => {
                "```python\nfrom solution import repeat_word\n\nassert repeat_word(\"ab\", 3) == \"ababab\"\nassert repeat_word(\"ab\", 0) == \"\"\nassert repeat_word(\"x\", 1) == \"x\"\n```"
            }
            Self::Javascript => {
                "```javascript\nconst assert = require('node:assert');\nconst { repeatWord } = require('./solution.js');\n\nassert.strictEqual(repeatWord('ab', 3), 'ababab');\nassert.strictEqual(repeatWord('ab', 0), '');\nassert.strictEqual(repeatWord('x', 1), 'x');\n```"
            }
            Self::Rust => {
                "```rust\nuse solution::*;\n\nassert_eq!(repeat_word(\"ab\", 3), \"ababab\");\nassert_eq!(repeat_word(\"ab\", 0), \"\");\nassert_eq!(repeat_word(\"x\", 1), \"x\");\n```"
            }
        }
    }

    /// How the code must expose itself to the tests, told to the model that writes it.
    pub fn code_conventions(self) -> &'static str {
        match self {
            Self::Python => "Write a Python module; the tests will do `from solution import *`.",
            Self::Javascript => {
                "Write a CommonJS module for node and export the public functions with module.exports = { ... }."
            }
            Self::Rust => {
                "Write the body of a library crate (src/lib.rs) with `pub fn` items; no main function."
            }
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_language_a_description_names() {
        assert_eq!(
            Language::mentioned_in("write a tetris game in rust"),
            Some(Language::Rust)
        );
        assert_eq!(
            Language::mentioned_in("a node script that resizes images"),
            Some(Language::Javascript)
        );
        assert_eq!(
            Language::mentioned_in("a Node.js module for dates"),
            Some(Language::Javascript)
        );
        assert_eq!(
            Language::mentioned_in("Python function to sum a list"),
            Some(Language::Python)
        );
        assert_eq!(Language::mentioned_in("validate email addresses"), None);
        // Words that merely contain a language's name don't count.
        assert_eq!(Language::mentioned_in("trust the rusty nodes"), None);
    }

    #[test]
    fn files_are_fixed_per_language() {
        assert_eq!(Language::Python.test_file(), "test_solution.py");
        assert_eq!(Language::Rust.code_file(), "src/lib.rs");
        assert_eq!(Language::from_word("JS"), Some(Language::Javascript));
    }
}
