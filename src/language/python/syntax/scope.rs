//! Which names Python code binds and reads: the reads that can reach a module-level name
//! (example data is dropped when nothing reads it), and the names a test reads that nothing
//! binds.

use crate::language::syntax::tree::{self, text};
use tree_sitter::Node;

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

/// The names the code under `root` reads that nothing binds — not the code itself, not the
/// names in `bound`, not a builtin — so that a test made of it raises a NameError whatever
/// the code under test does (`assert solution_function == count_char(s, c)`). Attribute
/// names, keyword argument names and annotations are no reads.
pub fn unbound_names(root: Node<'_>, source: &str, bound: &[&str]) -> Vec<String> {
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

/// Every name in `source` (an import statement: the names it binds, and a few it does not).
pub fn names_in(source: &str) -> Vec<String> {
    let Some(parsed) = tree::parse(&super::grammar(), source) else {
        return Vec::new();
    };
    tree::descendants(parsed.root_node(), &["identifier"])
        .into_iter()
        .map(|n| text(n, source).to_owned())
        .collect()
}

/// The identifiers under `node` that can read a module-level name: inside a function or a
/// lambda its parameters are its own (`numbers` in `def count(numbers): …` is not the example
/// list `numbers = [1, -2]` beside it), and a parameter's own name is no read; its default
/// value and annotation are read where the function is defined. `shadowed` holds the
/// parameters of the functions around `node`.
pub(super) fn global_reads(
    node: Node<'_>,
    source: &str,
    shadowed: &mut Vec<String>,
    out: &mut Vec<String>,
) {
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
        let name = parameter_name(p);
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

/// The name a parameter declares: `x`, `x=1`, `x: int`, `x: int = 1`; `*args` and `**kwargs`
/// when they name themselves (`*args` is a `list_splat_pattern` holding it).
pub(super) fn parameter_name(p: Node<'_>) -> Option<Node<'_>> {
    match p.kind() {
        "identifier" => Some(p),
        "default_parameter" | "typed_default_parameter" => p.child_by_field_name("name"),
        // `x: int`, `*args`, `**kwargs`: the name is the first identifier.
        _ => p.named_child(0).filter(|n| n.kind() == "identifier"),
    }
}
