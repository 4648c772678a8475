//! The vocabulary a language's syntax is written in: the [`Syntax`] table (how flotilla reads
//! replies in a language with tree-sitter and writes its files back), the top-level [`Item`]s
//! a reader returns, what a test checks ([`Checks`]), the tree-sitter helpers ([`tree`]) and
//! the entries several languages share. It names no language: each one's table is in its own
//! module (`language/python/syntax.rs`…), part of its [`Rules`](super::Rules).

mod checks;
pub(crate) mod tree;

pub(crate) use checks::{Checks, Flow, Method, traced};
use std::collections::HashSet;

/// Tests, fixtures and bound names in; the runnable tests and why each other one is not, out.
pub(crate) type Runnable = fn(Vec<Item>, &[&str], Option<&[&str]>) -> (Vec<Item>, Vec<String>);
/// Imports, helpers, tests and the code's public names in; the file and whether an import of
/// the code was added, out.
pub(crate) type RenderSuite = fn(&[Item], &[Item], &[Item], &[&str]) -> (String, bool);

/// The readers and writers of one language's syntax.
pub(crate) struct Syntax {
    pub grammar: fn() -> tree_sitter::Language,
    /// The node kinds of the top-level definitions a project's map shows, one signature each.
    pub definitions: &'static [&'static str],
    /// The top-level items of one source, as they parse.
    pub items: fn(&str) -> Vec<Item>,
    /// The code's file from its imports and definitions (the last: the public names).
    pub render_code: fn(&[Item], &[Item], &[String]) -> String,
    /// Takes out definitions of the code that are the task's example data, not code; says
    /// what it took.
    pub drop_example_data: fn(&mut Vec<Item>) -> Vec<String>,
    /// A suite's import, pointed at the code under test where it names another module (the
    /// set: the code's public names).
    pub suite_import: fn(Item, &HashSet<&str>) -> Item,
    /// A bare assertion as a test of its own, the `n`th: its name and text.
    pub wrap_assert: fn(&str, usize) -> (String, String),
    /// The tests that can run (given the fixtures, and every name a test may read, `None`
    /// when a star import could bind anything), and why each other one cannot.
    pub runnable: Runnable,
    /// The names an import binds, for `runnable`.
    pub imported_names: fn(&str) -> Vec<String>,
    /// The suite's file from imports, helpers, tests and the code's public names, and whether
    /// an import of the code had to be added.
    pub render_suite: RenderSuite,
    /// The names the runner gives a test's cases (a class's methods, for Python).
    pub test_names: fn(&Item) -> Vec<String>,
    /// What in a test counts as checking a value, and what it calls.
    pub checks: fn(&str) -> Checks,
    /// The test methods of a test class (Python's unittest classes), each with its checks;
    /// empty for a plain test.
    pub test_methods: fn(&str) -> Vec<Method>,
    /// Calls of the public functions with literal arguments in a source.
    pub probe_calls: fn(&str, &[&str]) -> Vec<String>,
    /// A top-level node of a project's file as a piece to splice into: an import (`true`, its
    /// text) or a definition (its name); `None` for anything else.
    pub piece: fn(tree_sitter::Node<'_>, &str) -> Option<(bool, String)>,
    /// What goes between two top-level definitions after a line's end (a blank line, or two).
    pub definition_gap: &'static str,
    /// A top-level definition's signature, up to its body, for a project's map; `None` for a
    /// declaration that defines no function or type.
    pub signature: fn(tree_sitter::Node<'_>, &str) -> Option<String>,
    /// A project file after a splice appended definitions (their names last), with those
    /// exported where the language exports by hand; the file before comes first.
    pub export_new: fn(&str, &str, &[String]) -> String,
}

/// For a language whose definitions need no export.
pub(crate) fn exports_itself(_: &str, spliced: &str, _: &[String]) -> String {
    spliced.to_owned()
}

/// A signature up to the body's `{`, the `;` that ends a declaration or an arrow's `=>`; a
/// `const`/`let` that binds no function is none.
pub(crate) fn braced_signature(node: tree_sitter::Node<'_>, source: &str) -> Option<String> {
    let text = tree::text(node, source);
    if node.kind() == "lexical_declaration" && !text.contains("=>") && !text.contains("function") {
        return None;
    }
    let head = text
        .split(['{', ';'])
        .next()
        .unwrap_or(text)
        .split("=>")
        .next()
        .unwrap_or(text);
    Some(one_line(head))
}

/// A signature on one line, its spaces collapsed, at most 160 characters.
pub(crate) fn one_line(head: &str) -> String {
    let line: String = head.split_whitespace().collect::<Vec<_>>().join(" ");
    line.chars().take(160).collect()
}

/// For a language whose replies hold no example data to take out.
pub(crate) fn no_example_data(_: &mut Vec<Item>) -> Vec<String> {
    Vec::new()
}

/// For a language whose runner runs every test it is given.
pub(crate) fn all_runnable(
    tests: Vec<Item>,
    _: &[&str],
    _: Option<&[&str]>,
) -> (Vec<Item>, Vec<String>) {
    (tests, Vec::new())
}

/// For a language whose imports are not checked for unbound names.
pub(crate) fn no_names(_: &str) -> Vec<String> {
    Vec::new()
}

/// A test named as it is written: one case.
pub(crate) fn own_name(test: &Item) -> Vec<String> {
    test.name.clone().into_iter().collect()
}

/// For a language without test classes.
pub(crate) fn no_methods(_: &str) -> Vec<Method> {
    Vec::new()
}

/// What a top-level item of a reply is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `import x`, `const x = require(...)`, `use x;`.
    Import,
    /// A function, class, struct, enum, impl or trait.
    Definition,
    /// A module-level value that runs no code of its own.
    Constant,
    /// A test function, class or `test(...)` call.
    Test,
    /// Anything else: kept out of the file.
    Dropped,
}

/// One top-level item, its text ready to be written into a file.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub kind: Kind,
    pub name: Option<String>,
    pub text: String,
    /// Names this item calls (`f(...)`, `m.f(...)`).
    pub calls: Vec<String>,
    /// 1-based line in its source, for the log.
    pub line: usize,
}

impl Item {
    /// An import flotilla adds itself.
    pub fn import(text: &str) -> Self {
        Self {
            kind: Kind::Import,
            name: None,
            text: text.to_owned(),
            calls: Vec::new(),
            line: 0,
        }
    }

    pub fn describe(&self) -> String {
        let first = self.text.lines().next().unwrap_or("").trim();
        let short: String = first.chars().take(60).collect();
        format!("line {}: {short}", self.line)
    }
}

/// A file: the imports, one a line, then each item after the gap `gap` gives it.
pub(crate) fn render(
    imports: &[Item],
    defs: &[Item],
    tests: &[Item],
    gap: fn(&Item) -> &'static str,
) -> String {
    let mut out = String::new();
    for i in imports {
        out.push_str(i.text.trim_end());
        out.push('\n');
    }
    for d in defs.iter().chain(tests) {
        if !out.is_empty() {
            out.push_str(gap(d));
        }
        out.push_str(d.text.trim_end());
        out.push('\n');
    }
    out
}

/// Removes `column` leading spaces from every line but the first (which the parser already
/// started at that column).
pub(crate) fn dedent(text: &str, column: usize) -> String {
    if column == 0 {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i == 0 {
            out.push_str(line);
            continue;
        }
        let strip = line
            .chars()
            .take(column)
            .take_while(|c| *c == ' ' || *c == '\t')
            .count();
        out.push_str(&line[strip..]);
    }
    out
}
