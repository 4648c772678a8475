//! Rust replies: the items of a library crate (made `pub`, so integration tests reach them; no
//! `main`), and integration tests that `use solution::*`.

use crate::language::syntax::tree::{self, text};
use crate::language::syntax::{self as shared, Item, Kind};
use tree_sitter::Node;

/// The tree-sitter grammar.
pub(crate) fn grammar() -> tree_sitter::Language {
    tree_sitter_rust::LANGUAGE.into()
}

const KNOWN_ROOTS: &[&str] = &["std", "core", "alloc", "solution", "self"];

pub fn items(source: &str) -> Vec<Item> {
    let Some(parsed) = tree::parse(&grammar(), source) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut attributes: Vec<Node<'_>> = Vec::new();
    for node in tree::top_level(parsed.root_node()) {
        match node.kind() {
            "line_comment" | "block_comment" => continue,
            "attribute_item" => {
                attributes.push(node);
                continue;
            }
            _ => {}
        }
        out.push(classify(node, &attributes, source));
        attributes.clear();
    }
    out
}

fn classify(node: Node<'_>, attributes: &[Node<'_>], source: &str) -> Item {
    let attrs: String = attributes
        .iter()
        .map(|a| format!("{}\n", text(*a, source)))
        .collect();
    let mut item = Item {
        kind: Kind::Dropped,
        name: None,
        text: format!("{attrs}{}", text(node, source)),
        calls: text_calls(text(node, source)),
        line: attributes.first().unwrap_or(&node).start_position().row + 1,
    };
    if node.has_error() || attributes.iter().any(|a| a.has_error()) {
        return item;
    }
    let name = tree::field(node, "name", source).unwrap_or("").to_owned();
    let is_test = attrs.contains("#[test]") || attrs.contains("#[cfg(test)]");
    match node.kind() {
        "use_declaration" => item.kind = Kind::Import,
        // A bare `assert_eq!(f(x), y);` is a test case of its own.
        "macro_invocation" | "expression_statement"
            if text(node, source).trim_start().starts_with("assert") =>
        {
            item.kind = Kind::Test
        }
        "function_item" if name == "main" => {}
        "function_item" | "mod_item" if is_test || name == "tests" => {
            item.kind = Kind::Test;
            item.name = Some(name);
        }
        "function_item" | "struct_item" | "enum_item" | "trait_item" | "type_item"
        | "union_item" | "macro_definition" | "mod_item" => {
            item.kind = Kind::Definition;
            item.text = format!("{attrs}{}", public(node, source));
            item.name = Some(name);
        }
        "const_item" | "static_item" => {
            item.kind = Kind::Constant;
            item.text = format!("{attrs}{}", public(node, source));
            item.name = Some(name);
        }
        "impl_item" => {
            item.kind = Kind::Definition;
            item.text = format!("{attrs}{}", public(node, source));
            let head = text(node, source).split('{').next().unwrap_or("").trim();
            item.name = Some(head.split_whitespace().collect::<Vec<_>>().join(" "));
        }
        _ => {}
    }
    item
}

/// Names followed by `(` anywhere in the text: macro arguments (`assert_eq!(add(1, 2), 3)`)
/// are token trees to the parser, so calls inside them are found by reading the text.
fn text_calls(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let bytes = text.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b != b'(' {
            continue;
        }
        let mut start = i;
        while start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
            start -= 1;
        }
        let name = &text[start..i];
        if !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && !out.iter().any(|n| n == name)
        {
            out.push(name.to_owned());
        }
    }
    out
}

/// The item with `pub` on it, its named fields and, in an inherent impl, its methods.
fn public(node: Node<'_>, source: &str) -> String {
    let start = node.start_byte();
    let mut inserts: Vec<usize> = Vec::new();
    let has_vis = |n: Node<'_>| {
        let mut c = n.walk();
        n.children(&mut c)
            .any(|ch| ch.kind() == "visibility_modifier")
    };
    if node.kind() != "impl_item" && node.kind() != "macro_definition" && !has_vis(node) {
        inserts.push(start);
    }
    let trait_impl = node.kind() == "impl_item" && node.child_by_field_name("trait").is_some();
    if !trait_impl {
        let inner_kinds: &[&str] = match node.kind() {
            "impl_item" => &["function_item", "const_item"],
            "struct_item" => &["field_declaration"],
            _ => &[],
        };
        if let Some(body) = node.child_by_field_name("body") {
            let mut c = body.walk();
            for child in body.named_children(&mut c) {
                if inner_kinds.contains(&child.kind()) && !has_vis(child) {
                    inserts.push(child.start_byte());
                }
            }
        }
    }
    let original = text(node, source);
    let mut out = String::with_capacity(original.len() + 8 * inserts.len());
    let mut last = 0;
    inserts.sort_unstable();
    for at in inserts {
        let at = at - start;
        out.push_str(&original[last..at]);
        out.push_str("pub ");
        last = at;
    }
    out.push_str(&original[last..]);
    out
}

/// A bare assertion as a test function of its own.
pub fn wrap_assert(text: &str, n: usize) -> (String, String) {
    let name = format!("case_{n}");
    let line = text.trim_end();
    let semi = if line.ends_with(';') { "" } else { ";" };
    let body: String = line.lines().map(|l| format!("    {l}\n")).collect();
    (
        name.clone(),
        format!("#[test]\nfn {name}() {{\n{}{semi}\n}}", body.trim_end()),
    )
}

/// A test's `use my_crate::f` (or a top-level `use crate::`/`use super::`) uses `solution`.
pub fn redirect_import(mut item: Item) -> Item {
    let t = item.text.trim();
    let Some(path) = t
        .strip_prefix("use ")
        .or_else(|| t.strip_prefix("pub use "))
    else {
        return item;
    };
    let root = path
        .split("::")
        .next()
        .unwrap_or("")
        .trim_start_matches(['{', ':']);
    if !KNOWN_ROOTS.contains(&root) && !root.is_empty() {
        let rest = &path[root.len()..];
        item.text = format!("use solution{rest}");
    }
    item
}

/// The integration test file, with `use solution::*;` added when nothing uses the code.
pub fn render_suite(imports: &[Item], helpers: &[Item], tests: &[Item]) -> (String, bool) {
    let mut all = imports.to_vec();
    let imports_code = imports.iter().any(|i| i.text.contains("solution"));
    if !imports_code {
        all.insert(
            0,
            Item::import("#[allow(unused_imports)]\nuse solution::*;"),
        );
    }
    (shared::render(&all, helpers, tests, |_| "\n"), !imports_code)
}

/// The calls of `public` functions with literal arguments in `source`, as expressions a probe
/// can evaluate: `add(2, 3)`, `max_of_slice(&[3, 1, 2])`, `shout(String::from("hi"))`. Most sit
/// inside `assert_eq!`, whose arguments the grammar leaves as tokens, so a name followed by a
/// parenthesised token tree counts as a call there too; each is then parsed on its own and kept
/// when nothing in it names anything but literals.
pub fn probe_calls(source: &str, public: &[&str]) -> Vec<String> {
    let Some(parsed) = tree::parse(&grammar(), source) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for node in tree::descendants(parsed.root_node(), &["call_expression", "identifier"]) {
        let call = match node.kind() {
            "call_expression" => {
                let called = node.child_by_field_name("function");
                if called.is_none_or(|f| f.kind() != "identifier") {
                    continue;
                }
                text(node, source)
            }
            // `add` then `(2, 3)` inside a macro's tokens; not `x.add(…)` nor `fn add(…)`.
            _ => {
                if node.parent().is_none_or(|p| p.kind() != "token_tree") {
                    continue;
                }
                let Some(args) = node.next_sibling() else {
                    continue;
                };
                let before = node.prev_sibling().map_or("", |p| text(p, source));
                if args.kind() != "token_tree"
                    || !text(args, source).starts_with('(')
                    || matches!(before, "." | "fn" | "::")
                {
                    continue;
                }
                source.get(node.start_byte()..args.end_byte()).unwrap_or("")
            }
        };
        if let Some(call) = literal_call(call, public)
            && !out.contains(&call)
        {
            out.push(call);
        }
    }
    out
}

/// Names a literal argument may use: constructors of owned strings and vectors, and the
/// bounds of number types.
const LITERAL_NAMES: &[&str] = &[
    "vec",
    "Vec",
    "String",
    "from",
    "new",
    "to_string",
    "to_owned",
    "into",
    "Some",
    "None",
    "true",
    "false",
    "MAX",
    "MIN",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "isize",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "f32",
    "f64",
];

/// `call` when it parses alone as a call of one of `public` whose arguments name nothing but
/// [`LITERAL_NAMES`].
fn literal_call(call: &str, public: &[&str]) -> Option<String> {
    if call.len() > 300 {
        return None;
    }
    let wrapped = format!("fn _probe() {{ let _ = {call}; }}");
    let parsed = tree::parse(&grammar(), &wrapped)?;
    let root = parsed.root_node();
    if root.has_error() {
        return None;
    }
    let expr = tree::descendants(root, &["call_expression"])
        .into_iter()
        .find(|c| text(*c, &wrapped) == call)?;
    let called = expr.child_by_field_name("function")?;
    if called.kind() != "identifier" || !public.contains(&text(called, &wrapped)) {
        return None;
    }
    let arguments = expr.child_by_field_name("arguments")?;
    let names = tree::descendants(
        arguments,
        &[
            "identifier",
            "type_identifier",
            "field_identifier",
            "primitive_type",
        ],
    );
    names
        .iter()
        .all(|n| LITERAL_NAMES.contains(&text(*n, &wrapped)))
        .then(|| call.to_owned())
}

/// What a Rust test asserts on (see `extract::checks`): `assert!`, `assert_eq!`, `assert_ne!`,
/// `debug_assert…!` and `assert_matches!`, and the whole body of a `#[should_panic]` test.
pub(crate) fn checks(source: &str) -> shared::Checks {
    use shared::{Checks, Flow, traced};
    let Some(parsed) = tree::parse(&grammar(), source) else {
        return Checks::default();
    };
    let root = parsed.root_node();
    let mut sites = Vec::new();
    if source.contains("#[should_panic") {
        for body in tree::descendants(root, &["function_item"])
            .into_iter()
            .filter_map(|f| f.child_by_field_name("body"))
        {
            sites.push(reads(body, source));
        }
    }
    for m in tree::descendants(root, &["macro_invocation"]) {
        let name = tree::field(m, "macro", source).unwrap_or("");
        let name = name.rsplit("::").next().unwrap_or(name);
        if name.starts_with("assert") || name.starts_with("debug_assert") {
            sites.push(reads(m, source));
        }
    }
    let mut flow: Flow = Vec::new();
    for node in tree::descendants(
        root,
        &[
            "let_declaration",
            "let_condition",
            "assignment_expression",
            "compound_assignment_expr",
            "for_expression",
            "call_expression",
        ],
    ) {
        let (target, value) = match node.kind() {
            "let_declaration" | "let_condition" | "for_expression" => ("pattern", "value"),
            "call_expression" => {
                // A call may change what it is given: `sort_in_place(&mut v)` binds `v`.
                let (Some(function), Some(args)) = (
                    node.child_by_field_name("function"),
                    node.child_by_field_name("arguments"),
                ) else {
                    continue;
                };
                let given = reads(args, source);
                if !given.is_empty() {
                    flow.push((given, reads(function, source)));
                }
                continue;
            }
            _ => ("left", "right"),
        };
        if let (Some(t), Some(v)) = (
            node.child_by_field_name(target),
            node.child_by_field_name(value),
        ) {
            flow.push((reads(t, source), reads(v, source)));
        }
    }
    let params = tree::descendants(root, &["parameters"])
        .first()
        .map(|p| reads(*p, source))
        .unwrap_or_default();
    Checks {
        sites: traced(sites, &flow),
        params,
        calls: text_calls(source),
    }
}

/// The identifiers under a node, inside macro token trees too.
fn reads(node: Node<'_>, source: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in tree::descendants(node, &["identifier"]) {
        let name = text(id, source).to_owned();
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// Rust's syntax, for the readers that work in every language.
pub(crate) const SYNTAX: shared::Syntax = shared::Syntax {
    grammar,
    definitions: &[
        "function_item",
        "struct_item",
        "enum_item",
        "trait_item",
        "impl_item",
        "type_item",
        "const_item",
        "mod_item",
    ],
    items,
    render_code: |imports, defs, _| shared::render(imports, defs, &[], |_| "\n"),
    drop_example_data: shared::no_example_data,
    suite_import: |item, _| redirect_import(item),
    wrap_assert,
    runnable: shared::all_runnable,
    imported_names: shared::no_names,
    render_suite: |imports, helpers, tests, _| render_suite(imports, helpers, tests),
    test_names: shared::own_name,
    checks,
    test_methods: shared::no_methods,
    probe_calls,
    piece,
    definition_gap: "\n",
    signature: shared::braced_signature,
    export_new: shared::exports_itself,
};

/// A top-level node as a piece of a file to splice into: a `use` (`true`, its text) or an
/// item (its name).
fn piece(node: Node<'_>, source: &str) -> Option<(bool, String)> {
    let named = |n: Node<'_>| tree::field(n, "name", source).map(str::to_owned);
    match node.kind() {
        "use_declaration" => Some((true, tree::text(node, source).to_owned())),
        "function_item" | "struct_item" | "enum_item" | "trait_item" | "type_item"
        | "const_item" | "static_item" | "mod_item" => named(node).map(|n| (false, n)),
        _ => None,
    }
}
