//! The languages a workflow can be written in. [`Language`] is the name stored in the history
//! and passed around; everything particular to one language — its files, fences, what the
//! models are told, how its tests are run and read, how it probes a function, its
//! repositories' layout and tests ([`Project`]) and its syntax (how replies in it are read with
//! tree-sitter and its files written back, `syntax::Syntax`) — is one table of [`Rules`] in
//! its own module (`python/`, `javascript/`, `rust/`: `mod.rs` the rules, `syntax.rs` the
//! readers), registered by one line in the `languages!` list below. The vocabulary the tables
//! are written in (items, checks, the tree-sitter helpers) is `syntax`, which names no
//! language.
//!
//! Adding a language: a module with its `RULES` (one file; these three are folders because
//! their readers are long) and its line in `languages!`. Nothing else names a language: the
//! registry test (`extract::tests::suites`) and the layouts' test (`project::layout::tests`) go
//! through [`Language::ALL`] and check the new one too. Its tests must run under one of the
//! tools the sandbox confines ([`Tool`]) and print a format its runner reads ([`Output`]); a
//! new toolchain is a `Tool` of the sandbox's (what it may read is the sandbox's to decide).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

mod project;
pub(crate) mod syntax;

pub use project::{Layout, Project, ProjectRun, ProjectTests, module_name};

/// Registers the languages: each line is a variant of [`Language`] and the module whose
/// `RULES` describe it. The variant's order is [`Language::ALL`]'s, the order a reply's
/// language is guessed in.
macro_rules! languages {
    ($($variant:ident => $module:ident),+ $(,)?) => {
        $(mod $module;)+

        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Language {
            $($variant,)+
        }

        impl Language {
            /// Every language, in registration order.
            pub const ALL: [Language; [$(stringify!($variant)),+].len()] = [$(Self::$variant),+];

            /// The language's rules.
            pub fn rules(self) -> &'static Rules {
                match self {
                    $(Self::$variant => &$module::RULES,)+
                }
            }
        }
    };
}

languages! {
    Python => python,
    Javascript => javascript,
    Rust => rust,
}

/// Stored and sent by its name (`python`).
impl Serialize for Language {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Read by its name or one of its words (`javascript`, `js`, `node`).
impl<'de> Deserialize<'de> for Language {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let word = String::deserialize(deserializer)?;
        Self::from_word(&word).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown language `{word}`, expected one of: {}",
                Self::names()
            ))
        })
    }
}

/// The program a language's tests and probes run under; the sandbox's toolchain finds it and
/// the folders it needs to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Python,
    Node,
    Cargo,
}

/// How a test runner's output reads: which tests ran, which passed, and whether the test file
/// loaded at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// pytest's `-rA` lines and summary (flotilla's own Python runner prints the same).
    Pytest,
    /// TAP, as `node --test --test-reporter=tap` prints it.
    Tap,
    /// libtest's lines under `cargo test`.
    Cargo,
}

/// Where a suite runs: whether pytest can be used, and whether the code is in a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOn {
    pub pytest: bool,
    pub project: bool,
}

/// One run of a suite: the tool's arguments (run in the scratch folder), a file of flotilla's
/// to write beside the tests first, the runner's name as the log shows it, and how its output
/// reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRun {
    pub args: Vec<String>,
    pub support: Option<(&'static str, &'static str)>,
    pub runner: &'static str,
    pub output: Output,
}

/// How a language spells the literals a task's examples are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Literals {
    /// `True` / `true`, `False` / `false`.
    pub yes: &'static str,
    pub no: &'static str,
    /// `None` / `null`; `None` when the language has no such literal (Rust).
    pub nothing: Option<&'static str>,
    /// Strings are double-quoted only (Rust: `'a"b'` is `"a\"b"`).
    pub double_quoted: bool,
    /// Characters outside a string that begin a literal it cannot state as a task's example
    /// (JavaScript's `{`, `:` and tuples' `(`; Rust's lists and maps).
    pub unsayable: &'static [char],
}

/// How a language's candidates are run on calls (the behaviour probes).
#[derive(Debug, Clone, Copy)]
pub enum Probe {
    /// A script (its file name and text) that calls the code on each input and prints each
    /// result; the inputs are plain values written alike in every such language.
    Script(&'static str, &'static str),
    /// The calls compiled into a scratch test of the code (Rust's: `assets/rust_probe.rs`,
    /// built by cargo), their plain values made of the types its signature names: the
    /// function gives the arguments of those calls from the signature.
    Typed(fn(&str) -> Vec<String>),
}

/// Which top-level imports of a candidate fail in the sandbox and can go.
#[derive(Debug, Clone, Copy)]
pub struct ImportsCheck {
    /// Whether the code has an import that could fail (one of the standard library's that
    /// always loads needs no run).
    pub worth_checking: fn(&str) -> bool,
    /// The script (its file name and text) that prints the failing lines.
    pub script: (&'static str, &'static str),
}

/// Everything particular to one language.
pub struct Rules {
    /// The name stored and shown (`python`), also the fence tag and the highlighter's syntax.
    pub name: &'static str,
    /// The words a user or a plan may name it by (`py`, `node`…), lower case.
    pub words: &'static [&'static str],
    /// Its source files' extensions, the one flotilla writes first (`py`; `js`, `mjs`, `cjs`).
    pub extensions: &'static [&'static str],
    /// The file the code goes in, relative to the workflow's folder.
    pub code_file: &'static str,
    /// The file the tests go in.
    pub test_file: &'static str,
    /// How the tests reach the code, told to the model that writes them.
    pub test_conventions: &'static str,
    /// A short example of the test file's form, for the test writer. Its function is in no
    /// task set flotilla is measured on.
    pub test_example: &'static str,
    /// How the code must expose itself to the tests, told to the model that writes it.
    pub code_conventions: &'static str,
    /// Whether an import line of a suite imports the code under test.
    pub is_self_import: fn(&str) -> bool,
    /// The line that makes `have` (the code's name, second) callable as `want` (the tests'
    /// name, first).
    pub alias_line: fn(&str, &str) -> String,
    /// Its literals, for stating a task's examples in it.
    pub literals: Literals,
    /// An assertion that a call's value equals an expected one, as the language writes it.
    pub assert_equal: fn(&str, &str) -> String,
    /// The program its tests run under.
    pub tool: Tool,
    /// How its suite runs.
    pub test_run: fn(RunOn) -> TestRun,
    /// How a candidate is run on calls to see what it returns.
    pub probe: Probe,
    /// The check of which top-level imports fail in the sandbox, when the language has one.
    pub imports_check: Option<ImportsCheck>,
    /// Its repositories: how one is recognised and tested, where code goes in it.
    pub project: Project,
    /// How replies in it are read and its files written.
    pub(crate) syntax: syntax::Syntax,
}

/// Arguments as a [`TestRun`] holds them.
fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|a| (*a).to_owned()).collect()
}

impl Language {
    pub fn as_str(self) -> &'static str {
        self.rules().name
    }

    /// Every language's name, for a message: `python, javascript, rust`.
    pub fn names() -> String {
        let names: Vec<&str> = Self::ALL.iter().map(|l| l.as_str()).collect();
        names.join(", ")
    }

    /// How replies in the language are read and its files written.
    pub(crate) fn syntax(self) -> &'static syntax::Syntax {
        &self.rules().syntax
    }

    /// A language named by one word: `python`, `py`, `js`, `node`, `rust`…
    pub fn from_word(word: &str) -> Option<Self> {
        let word = word.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|l| l.as_str() == word || l.rules().words.contains(&word.as_str()))
    }

    /// The language of a source file, by its extension.
    pub fn of_path(path: &str) -> Option<Self> {
        let (_, extension) = path.rsplit_once('.')?;
        Self::ALL
            .into_iter()
            .find(|l| l.rules().extensions.contains(&extension))
    }

    /// The language a description asks for, if it names one ("in rust", "a node script").
    pub fn mentioned_in(text: &str) -> Option<Self> {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
            .map(|w| w.trim_end_matches('.'))
            .find_map(Self::from_word)
    }

    /// The file the code goes in, relative to the workflow's folder.
    pub fn code_file(self) -> &'static str {
        self.rules().code_file
    }

    /// The file the tests go in.
    pub fn test_file(self) -> &'static str {
        self.rules().test_file
    }

    /// The fence tag and syntax name for highlighting.
    pub fn fence(self) -> &'static str {
        self.rules().name
    }

    /// How the tests reach the code, told to the model that writes them.
    pub fn test_conventions(self) -> &'static str {
        self.rules().test_conventions
    }

    /// A short example of the test file's form, for the test writer.
    pub fn test_example(self) -> &'static str {
        self.rules().test_example
    }

    /// How the code must expose itself to the tests, told to the model that writes it.
    pub fn code_conventions(self) -> &'static str {
        self.rules().code_conventions
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
    fn every_language_answers_to_its_name_and_its_words() {
        for language in Language::ALL {
            assert_eq!(Language::from_word(language.as_str()), Some(language));
            for word in language.rules().words {
                assert_eq!(Language::from_word(word), Some(language), "{word}");
            }
        }
    }

    #[test]
    fn a_language_is_stored_by_its_name_and_read_by_its_words() {
        for language in Language::ALL {
            let stored = serde_json::to_string(&language).expect("a name serializes");
            assert_eq!(stored, format!("\"{}\"", language.as_str()));
            let read: Language = serde_json::from_str(&stored).expect("its name reads back");
            assert_eq!(read, language);
        }
        let read: Language = serde_json::from_str("\"node\"").expect("a word reads");
        assert_eq!(read, Language::Javascript);
        let error = serde_json::from_str::<Language>("\"cobol\"")
            .expect_err("an unknown name is refused")
            .to_string();
        assert!(
            error.contains("unknown language `cobol`")
                && error.contains("python, javascript, rust"),
            "{error}"
        );
    }

    #[test]
    fn files_are_fixed_per_language() {
        assert_eq!(Language::Python.test_file(), "test_solution.py");
        assert_eq!(Language::Rust.code_file(), "src/lib.rs");
        assert_eq!(Language::from_word("JS"), Some(Language::Javascript));
    }
}
