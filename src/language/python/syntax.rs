//! Python replies: imports, `def`/`class` (decorated or not), constants, and pytest-style tests.

use crate::language::syntax::tree::{self, calls, field, text};
use crate::language::syntax::{self as shared, Item, Kind, dedent};
use tree_sitter::Node;

mod checks;
mod scope;
mod suite;
pub(crate) use checks::{checks, test_methods};
use scope::global_reads;
pub use scope::names_in;
pub use suite::{
    import_all_if_unknown, redirect_import, render_suite, runnable_test, test_names, wrap_assert,
};

/// The tree-sitter grammar.
pub(crate) fn grammar() -> tree_sitter::Language {
    tree_sitter_python::LANGUAGE.into()
}

/// Modules a test may import that are not the code under test.
const KNOWN_MODULES: &[&str] = &[
    "__future__",
    "abc",
    "array",
    "ast",
    "base64",
    "bisect",
    "builtins",
    "calendar",
    "cmath",
    "collections",
    "contextlib",
    "copy",
    "csv",
    "dataclasses",
    "datetime",
    "decimal",
    "difflib",
    "doctest",
    "enum",
    "fractions",
    "functools",
    "gc",
    "hashlib",
    "heapq",
    "hmac",
    "html",
    "hypothesis",
    "inspect",
    "io",
    "ipaddress",
    "itertools",
    "json",
    "keyword",
    "locale",
    "logging",
    "math",
    "numbers",
    "operator",
    "os",
    "pathlib",
    "pprint",
    "pytest",
    "queue",
    "random",
    "re",
    "secrets",
    "shlex",
    "statistics",
    "string",
    "struct",
    "sys",
    "tempfile",
    "textwrap",
    "time",
    "timeit",
    "types",
    "typing",
    "unicodedata",
    "unittest",
    "urllib",
    "uuid",
    "warnings",
    "weakref",
    "zlib",
];

/// Calls allowed in a module-level constant: they build values and run nothing else.
const VALUE_BUILDERS: &[&str] = &[
    "compile",
    "frozenset",
    "set",
    "dict",
    "tuple",
    "list",
    "namedtuple",
    "defaultdict",
    "OrderedDict",
    "Counter",
    "TypeVar",
    "Decimal",
    "Fraction",
    "range",
    "object",
    "str",
    "int",
    "float",
    "deque",
    "field",
    "getLogger",
];

pub fn items(source: &str) -> Vec<Item> {
    let Some(parsed) = tree::parse(&grammar(), source) else {
        return Vec::new();
    };
    tree::top_level(parsed.root_node())
        .into_iter()
        .filter(|n| n.kind() != "comment")
        .map(|node| classify(node, source))
        .collect()
}

fn classify(node: Node<'_>, source: &str) -> Item {
    let column = node.start_position().column;
    let mut item = Item {
        kind: Kind::Dropped,
        name: None,
        text: dedent(text(node, source), column),
        calls: tree::calls(node, source, &["call"], "function"),
        line: node.start_position().row + 1,
    };
    // Indented code only lands at the top level inside a broken reply.
    if node.has_error() || column != 0 {
        return item;
    }
    match node.kind() {
        "import_statement" | "import_from_statement" | "future_import_statement" => {
            item.kind = Kind::Import
        }
        "function_definition" | "class_definition" | "decorated_definition" => {
            let def = if node.kind() == "decorated_definition" {
                node.child_by_field_name("definition").unwrap_or(node)
            } else {
                node
            };
            // `def f():` with nothing under it (a reply cut off at its token limit), or an
            // `if x:` whose statement sits at the `if`'s own level, parses here, yet Python
            // refuses the whole file ("expected an indented block").
            if has_empty_block(def) {
                return item;
            }
            let name = field(def, "name", source).unwrap_or("").to_owned();
            item.kind = if is_test(def, &name, source) {
                Kind::Test
            } else {
                Kind::Definition
            };
            item.name = Some(name);
        }
        // A bare `assert f(x) == y` is a test case: it becomes a test function of its own.
        "assert_statement" => item.kind = Kind::Test,
        "expression_statement" => {
            if let Some(name) = constant_name(node, source) {
                item.kind = Kind::Constant;
                item.name = Some(name);
            }
        }
        _ => {}
    }
    item
}

/// Whether a function or class, or a block anywhere in it, has no statement (a comment is
/// none).
fn has_empty_block(def: Node<'_>) -> bool {
    let empty = |block: Node<'_>| {
        let mut cursor = block.walk();
        !block
            .named_children(&mut cursor)
            .any(|n| n.kind() != "comment")
    };
    def.child_by_field_name("body").is_none_or(empty)
        || tree::descendants(def, &["block"]).into_iter().any(empty)
}

fn is_test(def: Node<'_>, name: &str, source: &str) -> bool {
    if def.kind() == "function_definition" {
        return name.starts_with("test");
    }
    let bases = field(def, "superclasses", source).unwrap_or("");
    name.starts_with("Test") || bases.contains("TestCase")
}

/// `NAME = value` (or `NAME: T = value`) whose value calls nothing but value builders.
fn constant_name(node: Node<'_>, source: &str) -> Option<String> {
    let mut cursor = node.walk();
    let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
    let [assignment] = children.as_slice() else {
        return None;
    };
    if assignment.kind() != "assignment" {
        return None;
    }
    let left = assignment.child_by_field_name("left")?;
    if left.kind() != "identifier" {
        return None;
    }
    let runs_code = assignment
        .child_by_field_name("right")
        .is_some_and(|right| {
            calls(right, source, &["call"], "function")
                .iter()
                .any(|c| !VALUE_BUILDERS.contains(&c.as_str()))
                || !tree::descendants(right, &["await", "yield"]).is_empty()
        });
    (!runs_code).then(|| text(left, source).to_owned())
}

/// The calls of the code's functions, with literal arguments only, anywhere in `text`:
/// `is_even(4)`, `clamp(5, lo=0, hi=3)`.
pub fn probe_calls(text: &str, public: &[&str]) -> Vec<String> {
    let Some(parsed) = tree::parse(&grammar(), text) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for call in tree::descendants(parsed.root_node(), &["call"]) {
        let Some(function) = call.child_by_field_name("function") else {
            continue;
        };
        if function.kind() != "identifier" || !public.contains(&tree::text(function, text)) {
            continue;
        }
        let Some(args) = call.child_by_field_name("arguments") else {
            continue;
        };
        let literal = !args.has_error()
            && tree::descendants(args, &["identifier", "call", "lambda"])
                .iter()
                .all(|n| {
                    n.kind() == "identifier"
                        && n.parent().is_some_and(|p| {
                            p.kind() == "keyword_argument"
                                && p.child_by_field_name("name") == Some(*n)
                        })
                });
        let expr = tree::text(call, text);
        if literal && expr.len() <= 300 && !out.iter().any(|e| e == expr) {
            out.push(expr.to_owned());
        }
    }
    out
}

/// The names of `typing` a model writes in annotations as if they were built in.
const TYPING: &[&str] = &[
    "Any",
    "Callable",
    "Deque",
    "DefaultDict",
    "Dict",
    "FrozenSet",
    "Generator",
    "Iterable",
    "Iterator",
    "List",
    "Mapping",
    "Optional",
    "Sequence",
    "Set",
    "Tuple",
    "Type",
    "Union",
];

/// `from typing import …` for the typing names `code` uses but neither imports nor defines
/// (HumanEval's signatures use `List[int]`, and a reply often leaves out the import the task's
/// prompt had); `None` when nothing is missing.
pub fn missing_typing_import(code: &str) -> Option<String> {
    let parsed = tree::parse(&grammar(), code)?;
    let root = parsed.root_node();
    let mut bound: Vec<&str> = Vec::new();
    for node in tree::descendants(root, &["import_from_statement", "import_statement"]) {
        for name in tree::descendants(node, &["identifier"]) {
            bound.push(tree::text(name, code));
        }
    }
    for node in tree::descendants(root, &["function_definition", "class_definition"]) {
        if let Some(name) = node.child_by_field_name("name") {
            bound.push(tree::text(name, code));
        }
    }
    for node in tree::descendants(root, &["assignment"]) {
        if let Some(left) = node.child_by_field_name("left") {
            bound.push(tree::text(left, code));
        }
    }
    let mut used: Vec<&str> = Vec::new();
    for node in tree::descendants(root, &["identifier"]) {
        // `typing.List` is an attribute of the module, not a bare name.
        if node.parent().is_some_and(|p| {
            p.kind() == "attribute" && p.child_by_field_name("attribute") == Some(node)
        }) {
            continue;
        }
        let name = tree::text(node, code);
        if TYPING.contains(&name) && !bound.contains(&name) && !used.contains(&name) {
            used.push(name);
        }
    }
    if used.is_empty() {
        return None;
    }
    used.sort_unstable();
    Some(format!("from typing import {}", used.join(", ")))
}

/// Python puts two blank lines between definitions, one before a constant.
pub fn python_gap(item: &Item) -> &'static str {
    if item.kind == Kind::Constant {
        "\n"
    } else {
        "\n\n"
    }
}

/// Example data a reply leaves beside its functions (`my_list = [1, 2, 3]` before a call it
/// printed): a name in lower case bound to a plain literal that no other kept item uses. Names
/// written as constants (`VOWELS = "aeiou"`), dunder names, values built from other names
/// (`find = find_max`) and anything a definition reads stay. Returns what was left out.
pub fn drop_example_data(defs: &mut Vec<Item>) -> Vec<String> {
    let readings: Vec<Reading> = defs.iter().map(|d| Reading::of(&d.text)).collect();
    let example: Vec<bool> = defs
        .iter()
        .zip(&readings)
        .enumerate()
        .map(|(i, (item, reading))| {
            let used = |name: &str| {
                (readings.iter().enumerate())
                    .any(|(j, other)| j != i && other.identifiers.iter().any(|id| id == name))
            };
            item.kind == Kind::Constant
                && reading.plain_value
                && item.name.as_deref().is_some_and(|name| {
                    name.chars().any(|c| c.is_ascii_lowercase())
                        && !name.starts_with("__")
                        && !used(name)
                })
        })
        .collect();
    let dropped = (defs.iter().zip(&example))
        .filter(|(_, e)| **e)
        .map(|(item, _)| item.describe())
        .collect();
    let mut flags = example.into_iter();
    defs.retain(|_| !flags.next().unwrap_or(false));
    dropped
}

/// One kept item, parsed once: the identifiers it reads, and whether it is `NAME = value` with
/// a value that names nothing (numbers, strings, and lists, tuples, sets and dicts of them).
struct Reading {
    identifiers: Vec<String>,
    plain_value: bool,
}

impl Reading {
    fn of(source: &str) -> Self {
        let Some(parsed) = tree::parse(&grammar(), source) else {
            return Self {
                identifiers: Vec::new(),
                plain_value: false,
            };
        };
        let root = parsed.root_node();
        let plain_value = tree::descendants(root, &["assignment"])
            .first()
            .and_then(|a| a.child_by_field_name("right"))
            .is_some_and(|right| tree::descendants(right, &["identifier", "call"]).is_empty());
        let mut identifiers = Vec::new();
        global_reads(root, source, &mut Vec::new(), &mut identifiers);
        Self {
            identifiers,
            plain_value,
        }
    }
}

/// Python's syntax, for the readers that work in every language.
pub(crate) const SYNTAX: shared::Syntax = shared::Syntax {
    grammar,
    definitions: &[
        "function_definition",
        "class_definition",
        "decorated_definition",
    ],
    items,
    render_code: |imports, defs, _| {
        let text = shared::render(imports, defs, &[], python_gap);
        match missing_typing_import(&text) {
            Some(import) => format!("{import}\n{text}"),
            None => text,
        }
    },
    drop_example_data,
    suite_import: |item, public| import_all_if_unknown(redirect_import(item), public),
    wrap_assert,
    runnable: runnable_tests,
    imported_names: names_in,
    render_suite: |imports, helpers, tests, _| render_suite(imports, helpers, tests),
    test_names,
    checks,
    test_methods,
    probe_calls,
    piece,
    definition_gap: "\n\n",
    signature,
    export_new: shared::exports_itself,
};

/// A definition's head up to its body's `:` (a decorated one's, without the decorators).
fn signature(node: Node<'_>, source: &str) -> Option<String> {
    let node = if node.kind() == "decorated_definition" {
        node.child_by_field_name("definition").unwrap_or(node)
    } else {
        node
    };
    let text = tree::text(node, source);
    let body = node.child_by_field_name("body").map(|b| b.start_byte());
    let end = body.map_or(text.len(), |b| b.saturating_sub(node.start_byte()));
    let head = text
        .get(..end)
        .unwrap_or(text)
        .trim_end()
        .trim_end_matches(':');
    Some(shared::one_line(head))
}

/// The tests that can run, and why each other one cannot.
fn runnable_tests(
    tests: Vec<Item>,
    fixtures: &[&str],
    bound: Option<&[&str]>,
) -> (Vec<Item>, Vec<String>) {
    let mut runnable = Vec::with_capacity(tests.len());
    let mut dropped = Vec::new();
    for test in tests {
        let described = test.describe();
        match runnable_test(test, fixtures, bound) {
            Ok(test) => runnable.push(test),
            Err(why) => dropped.push(format!("{described} ({why})")),
        }
    }
    (runnable, dropped)
}

/// A top-level node as a piece of a file to splice into: an import (`true`, its text) or a
/// definition (its name).
fn piece(node: Node<'_>, source: &str) -> Option<(bool, String)> {
    let named = |n: Node<'_>| tree::field(n, "name", source).map(str::to_owned);
    match node.kind() {
        "import_statement" | "import_from_statement" => {
            Some((true, tree::text(node, source).to_owned()))
        }
        "function_definition" | "class_definition" => named(node).map(|n| (false, n)),
        "decorated_definition" => node
            .child_by_field_name("definition")
            .and_then(named)
            .map(|n| (false, n)),
        _ => None,
    }
}
