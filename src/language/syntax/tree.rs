//! tree-sitter helpers shared by the languages.

use tree_sitter::{Language, Node, Parser, Tree};

/// Parses `text`; `None` only when the grammar cannot be loaded (a build problem).
pub fn parse(language: &Language, text: &str) -> Option<Tree> {
    let mut parser = Parser::new();
    parser.set_language(language).ok()?;
    parser.parse(text, None)
}

pub fn text<'s>(node: Node<'_>, source: &'s str) -> &'s str {
    source.get(node.byte_range()).unwrap_or("")
}

pub fn field<'s>(node: Node<'_>, name: &str, source: &'s str) -> Option<&'s str> {
    node.child_by_field_name(name).map(|n| text(n, source))
}

/// Every node under `node` (itself included) of one of `kinds`.
pub fn descendants<'t>(node: Node<'t>, kinds: &[&str]) -> Vec<Node<'t>> {
    let mut out = Vec::new();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if kinds.contains(&n.kind()) {
            out.push(n);
        }
        let mut cursor = n.walk();
        for child in n.named_children(&mut cursor) {
            stack.push(child);
        }
    }
    out.reverse();
    out
}

/// The names called anywhere under `node`: `f` in `f(x)` and in `m.f(x)`. `function_field` is
/// the call node's field holding what is called.
pub fn calls(
    node: Node<'_>,
    source: &str,
    call_kinds: &[&str],
    function_field: &str,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for call in descendants(node, call_kinds) {
        let Some(callee) = call.child_by_field_name(function_field) else {
            continue;
        };
        let name = text(callee, source)
            .rsplit(['.', ':'])
            .next()
            .unwrap_or("")
            .trim()
            .to_owned();
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// The named top-level children of a parsed source. Items inside a top-level ERROR node are
/// looked at too: tree-sitter wraps good definitions in one when something near them is broken.
pub fn top_level<'t>(root: Node<'t>) -> Vec<Node<'t>> {
    let mut out = Vec::new();
    let mut cursor = root.walk();
    for child in root.named_children(&mut cursor) {
        if child.kind() == "ERROR" {
            let mut inner = child.walk();
            out.extend(child.named_children(&mut inner));
        } else {
            out.push(child);
        }
    }
    out
}
