//! JavaScript replies: CommonJS or ES module code, made into a CommonJS module that exports its
//! functions and classes; tests for node's built-in runner.

use crate::language::syntax::tree::{self, text};
use crate::language::syntax::{self as shared, Item, Kind};
use tree_sitter::Node;

/// The tree-sitter grammar.
pub(crate) fn grammar() -> tree_sitter::Language {
    tree_sitter_javascript::LANGUAGE.into()
}

const TEST_CALLS: &[&str] = &["test", "it", "describe", "suite"];
const RUNNER_NAMES: &[&str] = &[
    "test",
    "it",
    "describe",
    "suite",
    "before",
    "after",
    "beforeEach",
    "afterEach",
    "mock",
];

pub fn items(source: &str) -> Vec<Item> {
    let Some(parsed) = tree::parse(&grammar(), source) else {
        return Vec::new();
    };
    tree::top_level(parsed.root_node())
        .into_iter()
        .filter(|n| !matches!(n.kind(), "comment" | "hash_bang_line" | "empty_statement"))
        .map(|node| classify(node, source))
        .collect()
}

fn classify(node: Node<'_>, source: &str) -> Item {
    let mut item = Item {
        kind: Kind::Dropped,
        name: None,
        text: text(node, source).to_owned(),
        calls: tree::calls(
            node,
            source,
            &["call_expression", "new_expression"],
            "function",
        ),
        line: node.start_position().row + 1,
    };
    if node.has_error() {
        return item;
    }
    // `export function f` is `function f` in a CommonJS module.
    let node = if node.kind() == "export_statement" {
        match node
            .child_by_field_name("declaration")
            .or_else(|| node.child_by_field_name("value"))
        {
            Some(inner) if inner.kind().ends_with("declaration") => {
                item.text = text(inner, source).to_owned();
                inner
            }
            _ => return item,
        }
    } else {
        node
    };
    match node.kind() {
        "function_declaration" | "generator_function_declaration" | "class_declaration" => {
            item.kind = Kind::Definition;
            item.name = tree::field(node, "name", source).map(str::to_owned);
        }
        "lexical_declaration" | "variable_declaration" => declaration(node, source, &mut item),
        "import_statement" => {
            if let Some(require) = esm_to_require(node, source) {
                item.kind = Kind::Import;
                item.text = require;
            }
        }
        "expression_statement" => {
            let Some(expr) = node.named_child(0) else {
                return item;
            };
            if expr.kind() == "call_expression" {
                let callee = tree::field(expr, "function", source).unwrap_or("");
                let base = callee.split('.').next().unwrap_or("");
                if base == "assert" || callee == "console.assert" {
                    // A bare `assert.strictEqual(f(x), y);` is a test case of its own.
                    item.kind = Kind::Test;
                } else if TEST_CALLS.contains(&base) {
                    item.kind = Kind::Test;
                    item.name = expr
                        .child_by_field_name("arguments")
                        .and_then(|a| a.named_child(0))
                        .map(|a| text(a, source).trim_matches(['\'', '"', '`']).to_owned());
                }
            }
        }
        _ => {}
    }
    item
}

/// `const f = (…) => …`, `const x = require(…)`, `const LIMIT = 10`.
fn declaration(node: Node<'_>, source: &str, item: &mut Item) {
    let mut cursor = node.walk();
    let declarators: Vec<Node<'_>> = node
        .named_children(&mut cursor)
        .filter(|n| n.kind() == "variable_declarator")
        .collect();
    let [declarator] = declarators.as_slice() else {
        return;
    };
    let name = tree::field(*declarator, "name", source)
        .unwrap_or("")
        .to_owned();
    let Some(value) = declarator.child_by_field_name("value") else {
        return;
    };
    let callee = || tree::field(value, "function", source).unwrap_or("");
    match value.kind() {
        "arrow_function" | "function_expression" | "function" | "class" | "generator_function" => {
            item.kind = Kind::Definition;
            item.name = Some(name);
        }
        "call_expression" if callee() == "require" => {
            item.kind = Kind::Import;
        }
        _ => {
            let builds_only = tree::calls(value, source, &["call_expression"], "function")
                .iter()
                .all(|c| ["freeze", "from", "fromEntries", "of", "keys"].contains(&c.as_str()));
            if builds_only && !name.starts_with(['{', '[']) {
                item.kind = Kind::Constant;
                item.name = Some(name);
            }
        }
    }
}

/// `import x from 'm'`, `import { a, b as c } from 'm'`, `import * as m from 'm'` as `require`.
fn esm_to_require(node: Node<'_>, source: &str) -> Option<String> {
    let module = tree::field(node, "source", source)?;
    let mut cursor = node.walk();
    let clause = node
        .named_children(&mut cursor)
        .find(|n| n.kind() == "import_clause")?;
    let mut parts = Vec::new();
    let mut inner = clause.walk();
    for child in clause.named_children(&mut inner) {
        match child.kind() {
            "identifier" => parts.push(format!(
                "const {} = require({module});",
                text(child, source)
            )),
            "namespace_import" => {
                let name = text(child, source).rsplit(' ').next().unwrap_or("m");
                parts.push(format!("const {name} = require({module});"));
            }
            "named_imports" => {
                let names = text(child, source).replace(" as ", ": ");
                parts.push(format!("const {names} = require({module});"));
            }
            _ => {}
        }
    }
    (!parts.is_empty()).then(|| parts.join("\n"))
}

/// The calls of the code's functions with literal arguments only, anywhere in `text`.
pub fn probe_calls(source: &str, public: &[&str]) -> Vec<String> {
    let Some(parsed) = tree::parse(&grammar(), source) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for call in tree::descendants(parsed.root_node(), &["call_expression"]) {
        let Some(function) = call.child_by_field_name("function") else {
            continue;
        };
        if function.kind() != "identifier" || !public.contains(&text(function, source)) {
            continue;
        }
        let Some(args) = call.child_by_field_name("arguments") else {
            continue;
        };
        let literal = !args.has_error()
            && tree::descendants(
                args,
                &[
                    "identifier",
                    "call_expression",
                    "arrow_function",
                    "function_expression",
                ],
            )
            .is_empty();
        let expr = text(call, source);
        if literal && expr.len() <= 300 && !out.iter().any(|e| e == expr) {
            out.push(expr.to_owned());
        }
    }
    out
}

/// A bare assertion as a test of its own.
pub fn wrap_assert(text: &str, n: usize) -> (String, String) {
    let name = format!("case {n}");
    let body: String = text
        .trim_end()
        .lines()
        .map(|l| format!("  {l}\n"))
        .collect();
    (name.clone(), format!("test('{name}', () => {{\n{body}}});"))
}

/// A test's `require('./anything')` loads `./solution.js`, whatever the test writer guessed.
pub fn redirect_import(mut item: Item) -> Item {
    for quote in ['\'', '"', '`'] {
        for prefix in ["./", "../"] {
            let open = format!("require({quote}{prefix}");
            if let Some(start) = item.text.find(&open)
                && let Some(len) = item.text[start + open.len()..].find(quote)
            {
                let end = start + open.len() + len + 1;
                item.text
                    .replace_range(start..end, "require('./solution.js'");
                return item;
            }
        }
    }
    item
}

pub fn render_code(imports: &[Item], defs: &[Item], names: &[String]) -> String {
    let mut out = shared::render(imports, defs, &[], |_| "\n");
    out.push_str(&format!("\nmodule.exports = {{ {} }};\n", names.join(", ")));
    out
}

/// The suite's file, with the runner, `assert` and the code required when they are missing.
pub fn render_suite(
    imports: &[Item],
    helpers: &[Item],
    tests: &[Item],
    public: &[&str],
) -> (String, bool) {
    let declared = |name: &str| {
        imports.iter().chain(helpers).any(|i| {
            let head = i.text.split('=').next().unwrap_or("");
            head.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|w| w == name)
        })
    };
    let body: String = helpers
        .iter()
        .chain(tests)
        .map(|t| t.text.as_str())
        .collect();
    let mut added = Vec::new();
    let runner: Vec<&str> = RUNNER_NAMES
        .iter()
        .copied()
        .filter(|n| body.contains(&format!("{n}(")) && !declared(n))
        .collect();
    if !runner.is_empty() {
        added.push(format!(
            "const {{ {} }} = require('node:test');",
            runner.join(", ")
        ));
    }
    if body.contains("assert") && !declared("assert") {
        added.push("const assert = require('node:assert');".to_owned());
    }
    let imports_code = imports.iter().any(|i| i.text.contains("./solution"));
    if !imports_code {
        let names: Vec<&str> = public.iter().copied().filter(|n| !declared(n)).collect();
        added.push(format!(
            "const {{ {} }} = require('./solution.js');",
            names.join(", ")
        ));
        if body.contains("solution.") && !declared("solution") {
            added.push("const solution = require('./solution.js');".to_owned());
        }
    }
    let mut all: Vec<Item> = added.into_iter().map(|text| Item::import(&text)).collect();
    all.extend(imports.iter().cloned());
    (shared::render(&all, helpers, tests, |_| "\n"), !imports_code)
}

/// What a JavaScript test asserts on (see `extract::checks`): calls of `assert`, `assert.*`,
/// `console.assert`, `t.assert.*`, `expect(…)`, and of functions named `assert…` or taken from
/// `node:assert` by name (`strictEqual(…)`).
pub(crate) fn checks(source: &str) -> shared::Checks {
    use shared::{Checks, traced};
    let Some(parsed) = tree::parse(&grammar(), source) else {
        return Checks::default();
    };
    let root = parsed.root_node();
    let (sites, mut flow) = assertions(root, source);
    flow.extend(bindings(root, source));
    let params = tree::descendants(root, &["formal_parameters"])
        .first()
        .map(|p| {
            tree::descendants(*p, &["identifier"])
                .into_iter()
                .map(|n| text(n, source).to_owned())
                .collect()
        })
        .unwrap_or_default();
    Checks {
        sites: traced(sites, &flow),
        params,
        calls: tree::calls(root, source, &["call_expression"], "function"),
    }
}

/// Functions of `node:assert` a test may call by name.
const ASSERT_BY_NAME: &[&str] = &[
    "expect",
    "ok",
    "equal",
    "strictEqual",
    "deepEqual",
    "deepStrictEqual",
    "notEqual",
    "notStrictEqual",
    "notDeepStrictEqual",
    "throws",
    "rejects",
    "doesNotThrow",
    "match",
];

/// What each asserting call reads, and the flow calls make: a call may change what it is
/// given (`sortInPlace(items)` binds `items`).
fn assertions(root: Node<'_>, source: &str) -> (Vec<Vec<String>>, shared::Flow) {
    let mut sites = Vec::new();
    let mut flow = Vec::new();
    for call in tree::descendants(root, &["call_expression"]) {
        let (Some(function), Some(args)) = (
            call.child_by_field_name("function"),
            call.child_by_field_name("arguments"),
        ) else {
            continue;
        };
        let callee = text(function, source);
        let asserting = match function.kind() {
            "identifier" => callee.starts_with("assert") || ASSERT_BY_NAME.contains(&callee),
            "member_expression" => callee.split('.').any(|part| part == "assert"),
            _ => false,
        };
        if asserting {
            sites.push(reads(args, source));
        }
        let mut cursor = args.walk();
        let given: Vec<String> = args
            .named_children(&mut cursor)
            .filter(|a| a.kind() == "identifier")
            .map(|a| text(a, source).to_owned())
            .collect();
        if !given.is_empty() {
            flow.push((given, reads(function, source)));
        }
    }
    (sites, flow)
}

/// The flow of declarations, assignments and `for … of/in` loops: the names bound and what
/// their value reads.
fn bindings(root: Node<'_>, source: &str) -> shared::Flow {
    let mut flow = Vec::new();
    for node in tree::descendants(
        root,
        &[
            "variable_declarator",
            "assignment_expression",
            "for_in_statement",
        ],
    ) {
        let (target, value) = match node.kind() {
            "variable_declarator" => ("name", "value"),
            _ => ("left", "right"),
        };
        if let (Some(t), Some(v)) = (
            node.child_by_field_name(target),
            node.child_by_field_name(value),
        ) {
            let targets =
                tree::descendants(t, &["identifier", "shorthand_property_identifier_pattern"])
                    .into_iter()
                    .map(|n| text(n, source).to_owned())
                    .collect();
            flow.push((targets, reads(v, source)));
        }
    }
    flow
}

/// The names an expression reads; a property (`x.length`) only off a plain name that is not
/// `this` (`solution.add` is the code's `add`).
fn reads(node: Node<'_>, source: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in tree::descendants(
        node,
        &[
            "identifier",
            "shorthand_property_identifier",
            "property_identifier",
        ],
    ) {
        if id.kind() == "property_identifier" {
            let plain = id.parent().is_some_and(|p| {
                p.kind() == "member_expression"
                    && p.child_by_field_name("object")
                        .is_some_and(|o| o.kind() == "identifier")
            });
            if !plain {
                continue;
            }
        }
        let name = text(id, source).to_owned();
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// JavaScript's syntax, for the readers that work in every language.
pub(crate) const SYNTAX: shared::Syntax = shared::Syntax {
    grammar,
    definitions: &[
        "function_declaration",
        "class_declaration",
        "lexical_declaration",
        "export_statement",
    ],
    items,
    render_code,
    drop_example_data: shared::no_example_data,
    suite_import: |item, _| redirect_import(item),
    wrap_assert,
    runnable: shared::all_runnable,
    imported_names: shared::no_names,
    render_suite,
    test_names: shared::own_name,
    checks,
    test_methods: shared::no_methods,
    probe_calls,
    piece,
    definition_gap: "\n",
    signature: shared::braced_signature,
    export_new,
};

/// A file's new functions exported beside what it exported before: the candidate's own
/// `module.exports = { … }` was not spliced in (it is no definition).
fn export_new(existing: &str, spliced: &str, appended: &[String]) -> String {
    let names: Vec<&String> = appended
        .iter()
        .filter(|n| !existing.contains(&format!("exports.{n}")))
        .collect();
    if names.is_empty() || !(existing.contains("module.exports") || existing.contains("exports.")) {
        return spliced.to_owned();
    }
    let mut out = spliced.trim_end().to_owned();
    for n in names {
        out.push_str(&format!("\nmodule.exports.{n} = {n};"));
    }
    out.push('\n');
    out
}

/// A top-level node as a piece of a file to splice into: an import (`true`, its text, a
/// `require` included) or a definition (its name).
fn piece(node: Node<'_>, source: &str) -> Option<(bool, String)> {
    let named = |n: Node<'_>| tree::field(n, "name", source).map(str::to_owned);
    match node.kind() {
        "import_statement" => Some((true, tree::text(node, source).to_owned())),
        "function_declaration" | "class_declaration" => named(node).map(|n| (false, n)),
        "lexical_declaration" | "variable_declaration" => {
            let text = tree::text(node, source);
            if text.contains("require(") {
                return Some((true, text.to_owned()));
            }
            let mut cursor = node.walk();
            let declarator = node
                .named_children(&mut cursor)
                .find(|c| c.kind() == "variable_declarator")?;
            named(declarator).map(|n| (false, n))
        }
        _ => None,
    }
}
