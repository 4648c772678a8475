//! Python replies: imports, `def`/`class` (decorated or not), constants, and pytest-style tests.

use super::tree::{self, calls, field, text};
use super::{Item, Kind, dedent};
use tree_sitter::Node;

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
    let Some(parsed) = tree::parse(&tree::python(), source) else {
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

/// pytest's own fixtures: a test may take them by name.
const PYTEST_FIXTURES: &[&str] = &[
    "capsys",
    "capfd",
    "caplog",
    "monkeypatch",
    "recwarn",
    "request",
    "tmp_path",
    "tmp_path_factory",
    "tmpdir",
];

/// A test function as a runner can call it. `def test_f(n):` is called with no argument, so a
/// parameter nothing gives is taken out when the body never reads it (`def test_f(solution):`
/// → `def test_f():`); when the body reads it, the test cannot run as written and the reason is
/// returned. Decorated tests (`@pytest.mark.parametrize`), classes, parameters with a default,
/// `*args`, pytest's fixtures and the suite's own functions (`fixtures`) are left as they are.
pub fn runnable_test(item: Item, fixtures: &[&str]) -> Result<Item, String> {
    let Some(parsed) = tree::parse(&tree::python(), &item.text) else {
        return Ok(item);
    };
    let root = parsed.root_node();
    let Some(def) = root
        .named_child(0)
        .filter(|d| d.kind() == "function_definition")
    else {
        return Ok(item);
    };
    let (Some(params), Some(body)) = (
        def.child_by_field_name("parameters"),
        def.child_by_field_name("body"),
    ) else {
        return Ok(item);
    };
    let source = item.text.as_str();
    let read: Vec<&str> = tree::descendants(body, &["identifier"])
        .into_iter()
        .map(|n| text(n, source))
        .collect();
    let mut kept: Vec<&str> = Vec::new();
    let mut unread = false;
    let mut cursor = params.walk();
    for p in params.named_children(&mut cursor) {
        let name = match p.kind() {
            "identifier" => Some(p),
            "typed_parameter" => p.named_child(0).filter(|n| n.kind() == "identifier"),
            _ => None,
        };
        let Some(name) = name.map(|n| text(n, source)) else {
            kept.push(text(p, source));
            continue;
        };
        if PYTEST_FIXTURES.contains(&name) || fixtures.contains(&name) {
            kept.push(text(p, source));
        } else if read.contains(&name) {
            return Err(format!("takes `{name}`, which no runner passes"));
        } else {
            unread = true;
        }
    }
    if !unread {
        return Ok(item);
    }
    let (Some(head), Some(tail)) = (
        source.get(..params.start_byte()),
        source.get(params.end_byte()..),
    ) else {
        return Ok(item);
    };
    let text = format!("{head}({}){tail}", kept.join(", "));
    Ok(Item { text, ..item })
}

/// Python's builtins (3.8 to 3.13) and a module's own dunder names: a test may read them
/// without defining them.
const BUILTINS: &[&str] = &[
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "BaseException",
    "BaseExceptionGroup",
    "BlockingIOError",
    "BrokenPipeError",
    "BufferError",
    "BytesWarning",
    "ChildProcessError",
    "ConnectionAbortedError",
    "ConnectionError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "DeprecationWarning",
    "EOFError",
    "Ellipsis",
    "EncodingWarning",
    "EnvironmentError",
    "Exception",
    "ExceptionGroup",
    "False",
    "FileExistsError",
    "FileNotFoundError",
    "FloatingPointError",
    "FutureWarning",
    "GeneratorExit",
    "IOError",
    "ImportError",
    "ImportWarning",
    "IndentationError",
    "IndexError",
    "InterruptedError",
    "IsADirectoryError",
    "KeyError",
    "KeyboardInterrupt",
    "LookupError",
    "MemoryError",
    "ModuleNotFoundError",
    "NameError",
    "None",
    "NotADirectoryError",
    "NotImplemented",
    "NotImplementedError",
    "OSError",
    "OverflowError",
    "PendingDeprecationWarning",
    "PermissionError",
    "ProcessLookupError",
    "PythonFinalizationError",
    "RecursionError",
    "ReferenceError",
    "ResourceWarning",
    "RuntimeError",
    "RuntimeWarning",
    "StopAsyncIteration",
    "StopIteration",
    "SyntaxError",
    "SyntaxWarning",
    "SystemError",
    "SystemExit",
    "TabError",
    "TimeoutError",
    "True",
    "TypeError",
    "UnboundLocalError",
    "UnicodeDecodeError",
    "UnicodeEncodeError",
    "UnicodeError",
    "UnicodeTranslateError",
    "UnicodeWarning",
    "UserWarning",
    "ValueError",
    "Warning",
    "ZeroDivisionError",
    "abs",
    "aiter",
    "all",
    "anext",
    "any",
    "ascii",
    "bin",
    "bool",
    "breakpoint",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "classmethod",
    "compile",
    "complex",
    "copyright",
    "credits",
    "delattr",
    "dict",
    "dir",
    "divmod",
    "enumerate",
    "eval",
    "exec",
    "exit",
    "filter",
    "float",
    "format",
    "frozenset",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "help",
    "hex",
    "id",
    "input",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "license",
    "list",
    "locals",
    "map",
    "max",
    "memoryview",
    "min",
    "next",
    "object",
    "oct",
    "open",
    "ord",
    "pow",
    "print",
    "property",
    "quit",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "setattr",
    "slice",
    "sorted",
    "staticmethod",
    "str",
    "sum",
    "super",
    "tuple",
    "type",
    "vars",
    "zip",
    "__name__",
    "__file__",
    "__doc__",
    "__builtins__",
    "__spec__",
    "__loader__",
    "__package__",
    "__import__",
    "__build_class__",
    "__debug__",
];

/// Where a Python function binds a name: its parameters, assignment and loop targets, `with`
/// and `except` names, imports, `global` and `nonlocal`, nested definitions, match patterns.
/// Taken broadly: a name counted bound here is never called unbound.
const BINDING_KINDS: &[&str] = &[
    "assignment",
    "augmented_assignment",
    "for_statement",
    "for_in_clause",
    "named_expression",
    "as_pattern",
    "except_clause",
    "parameters",
    "lambda_parameters",
    "import_statement",
    "import_from_statement",
    "global_statement",
    "nonlocal_statement",
    "case_clause",
    "function_definition",
    "class_definition",
];

/// The names a test reads that nothing binds — not the test itself, not the suite's imports
/// and module-level names or the code's (`bound`), not a builtin — so that it raises a
/// NameError whatever the code does (`assert solution_function == count_char(s, c)`).
/// Attribute names, keyword argument names and annotations are no reads.
pub fn unbound_names(item: &Item, bound: &[&str]) -> Vec<String> {
    let Some(parsed) = tree::parse(&tree::python(), &item.text) else {
        return Vec::new();
    };
    let source = item.text.as_str();
    let root = parsed.root_node();
    let mut local: Vec<&str> = Vec::new();
    for node in tree::descendants(root, BINDING_KINDS) {
        let targets: Vec<Node<'_>> = match node.kind() {
            "assignment" | "augmented_assignment" | "for_statement" | "for_in_clause" => {
                node.child_by_field_name("left").into_iter().collect()
            }
            "named_expression" | "function_definition" | "class_definition" => {
                node.child_by_field_name("name").into_iter().collect()
            }
            "as_pattern" => node.child_by_field_name("alias").into_iter().collect(),
            // The rest bind every name in them (`except E as e`, `case Point(x=a)`, imports).
            _ => vec![node],
        };
        for target in targets {
            local.extend(
                tree::descendants(target, &["identifier"])
                    .into_iter()
                    .map(|n| text(n, source)),
            );
        }
    }
    let mut out: Vec<String> = Vec::new();
    for id in tree::descendants(root, &["identifier"]) {
        let name = text(id, source);
        let parent = id.parent();
        let field_of = |kind: &str, field: &str| {
            parent.is_some_and(|p| p.kind() == kind && p.child_by_field_name(field) == Some(id))
        };
        if field_of("attribute", "attribute")
            || field_of("keyword_argument", "name")
            || has_ancestor(id, "type")
            || local.contains(&name)
            || bound.contains(&name)
            || BUILTINS.contains(&name)
            || out.iter().any(|o| o == name)
        {
            continue;
        }
        out.push(name.to_owned());
    }
    out
}

fn has_ancestor(node: Node<'_>, kind: &str) -> bool {
    let mut at = node.parent();
    while let Some(n) = at {
        if n.kind() == kind {
            return true;
        }
        at = n.parent();
    }
    false
}

/// Every name in `text` (an import statement: the names it binds, and a few it does not).
pub fn names_in(text: &str) -> Vec<String> {
    let Some(parsed) = tree::parse(&tree::python(), text) else {
        return Vec::new();
    };
    tree::descendants(parsed.root_node(), &["identifier"])
        .into_iter()
        .map(|n| super::tree::text(n, text).to_owned())
        .collect()
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
    let Some(parsed) = tree::parse(&tree::python(), text) else {
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
    let parsed = tree::parse(&tree::python(), code)?;
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

/// A bare assert as a test function of its own.
pub fn wrap_assert(text: &str, n: usize) -> (String, String) {
    let name = format!("test_case_{n}");
    let body: String = text
        .trim_end()
        .lines()
        .map(|l| format!("    {l}\n"))
        .collect();
    (name.clone(), format!("def {name}():\n{body}"))
}

/// The names pytest reports for a test item: `test_x`, or `TestX::test_y` for each method.
pub fn test_names(item: &Item) -> Vec<String> {
    let name = item.name.clone().unwrap_or_default();
    if !name.starts_with("Test") && !item.text.contains("TestCase") {
        return vec![name];
    }
    item.text
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let rest = l
                .strip_prefix("def ")
                .or_else(|| l.strip_prefix("async def "))?;
            let method = rest.split('(').next()?.trim();
            method
                .starts_with("test")
                .then(|| format!("{name}::{method}"))
        })
        .collect()
}

/// A test's `from my_module import f` becomes `from solution import f`: the code is always
/// `solution.py`, whatever the test writer guessed.
pub fn redirect_import(mut item: Item) -> Item {
    let t = item.text.trim().to_owned();
    let module_of = |rest: &str| -> String {
        rest.split(|c: char| c.is_whitespace() || c == '.' || c == ',')
            .next()
            .unwrap_or("")
            .to_owned()
    };
    if let Some(rest) = t.strip_prefix("from ") {
        let module = module_of(rest);
        // `from solution.roll_max import roll_max` guesses a package; the code is one module.
        let path = rest.split(" import ").next().unwrap_or("").trim();
        if path != "solution"
            && !KNOWN_MODULES.contains(&module.as_str())
            && let Some((_, names)) = t.split_once(" import ")
        {
            item.text = format!("from solution import {names}");
        }
    } else if let Some(rest) = t.strip_prefix("import ") {
        let module = module_of(rest);
        if module != "solution" && !KNOWN_MODULES.contains(&module.as_str()) && !rest.contains(',')
        {
            let alias = rest.rsplit(" as ").next().unwrap_or(&module).trim();
            item.text = format!("import solution as {alias}");
        }
    }
    item
}

/// Python puts two blank lines between definitions, one before a constant.
pub fn python_gap(item: &Item) -> &'static str {
    if item.kind == Kind::Constant {
        "\n"
    } else {
        "\n\n"
    }
}

/// `from solution import a, b` naming a function the code may not have (`word_count` in a suite
/// for `power`) would stop the whole suite from loading; `from solution import *` loads it, and
/// only the tests that use the missing name fail.
pub fn import_all_if_unknown(mut item: Item, public: &std::collections::HashSet<&str>) -> Item {
    let text = item.text.trim();
    if let Some(names) = text.strip_prefix("from solution import ") {
        let names = names.trim().trim_start_matches('(').trim_end_matches(')');
        let unknown = names
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .any(|n| n != "*" && (n.contains(" as ") || !public.contains(n)));
        if unknown {
            item.text = "from solution import *".to_owned();
        }
    }
    item
}

/// The suite's file, with `from solution import *` added when nothing imports the code.
pub fn render_suite(imports: &[Item], helpers: &[Item], tests: &[Item]) -> (String, bool) {
    let mut imports = imports.to_vec();
    let imports_code = imports
        .iter()
        .any(|i| i.text.contains("from solution import") || i.text.contains("import solution"));
    if !imports_code {
        imports.push(Item::import("from solution import *"));
        let uses_module = helpers
            .iter()
            .chain(tests)
            .any(|t| t.text.contains("solution."));
        if uses_module {
            imports.push(Item::import("import solution"));
        }
    }
    (
        super::render(&imports, helpers, tests, python_gap),
        !imports_code,
    )
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
        let Some(parsed) = tree::parse(&tree::python(), source) else {
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

/// The identifiers under `node` that can read a module-level name: inside a function or a
/// lambda its parameters are its own (`numbers` in `def count(numbers): …` is not the example
/// list `numbers = [1, -2]` beside it), and a parameter's own name is no read; its default
/// value and annotation are read where the function is defined. `shadowed` holds the
/// parameters of the functions around `node`.
fn global_reads(node: Node<'_>, source: &str, shadowed: &mut Vec<String>, out: &mut Vec<String>) {
    match node.kind() {
        "identifier" => {
            let name = text(node, source);
            if !shadowed.iter().any(|s| s == name) {
                out.push(name.to_owned());
            }
        }
        "function_definition" | "lambda" => {
            let params = node.child_by_field_name("parameters");
            let body = node.child_by_field_name("body");
            let name = node.child_by_field_name("name");
            let mut own = Vec::new();
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                if Some(child) == params {
                    parameter_reads(child, source, shadowed, out, &mut own);
                } else if Some(child) != body && Some(child) != name {
                    global_reads(child, source, shadowed, out);
                }
            }
            if let Some(body) = body {
                let before = shadowed.len();
                shadowed.extend(own);
                global_reads(body, source, shadowed, out);
                shadowed.truncate(before);
            }
        }
        _ => {
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                global_reads(child, source, shadowed, out);
            }
        }
    }
}

/// A parameter list: the names it declares go to `own`; defaults and annotations are reads.
fn parameter_reads(
    params: Node<'_>,
    source: &str,
    shadowed: &mut Vec<String>,
    out: &mut Vec<String>,
    own: &mut Vec<String>,
) {
    let mut cursor = params.walk();
    for p in params.named_children(&mut cursor) {
        let name = match p.kind() {
            "identifier" => Some(p),
            "default_parameter" | "typed_default_parameter" => p.child_by_field_name("name"),
            // `x: int`, `*args`, `**kwargs`: the name is the first identifier.
            _ => p.named_child(0).filter(|n| n.kind() == "identifier"),
        };
        if let Some(name) = name {
            own.push(text(name, source).to_owned());
        }
        let mut inner = p.walk();
        for child in p.named_children(&mut inner) {
            if Some(child) != name {
                global_reads(child, source, shadowed, out);
            }
        }
    }
}
