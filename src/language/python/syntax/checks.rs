//! What a Python test asserts on (see `extract::checks`): `assert` statements, `self.assert…`
//! and other `assert…` calls, `with pytest.raises(…)` / `self.assertRaises(…)` blocks, and
//! `if …: raise AssertionError` / `pytest.fail`.

use crate::language::syntax::{Checks, Flow, Method, traced};
use crate::language::syntax::tree::{self, text};
use tree_sitter::Node;

pub fn checks(source: &str) -> Checks {
    let Some(parsed) = tree::parse(&super::grammar(), source) else {
        return Checks::default();
    };
    reading(parsed.root_node(), source)
}

fn reading(root: Node<'_>, source: &str) -> Checks {
    let mut sites = check_sites(root, source);
    sites.extend(expected_raises(root, source));
    let params = tree::descendants(root, &["function_definition"])
        .first()
        .and_then(|def| def.child_by_field_name("parameters"))
        .map(|p| {
            let mut cursor = p.walk();
            p.named_children(&mut cursor)
                .filter_map(super::scope::parameter_name)
                .map(|n| text(n, source).to_owned())
                .collect()
        })
        .unwrap_or_default();
    Checks {
        sites: traced(sites, &flow(root, source)),
        params,
        calls: tree::calls(root, source, &["call"], "function"),
    }
}

/// What each check reads: an assert's condition, an `assert*` call's arguments, the body of
/// a `with pytest.raises(…)`, the condition of an `if` that fails the test.
fn check_sites(root: Node<'_>, source: &str) -> Vec<Vec<String>> {
    let mut sites: Vec<Vec<String>> = Vec::new();
    for node in tree::descendants(
        root,
        &["assert_statement", "call", "with_statement", "if_statement"],
    ) {
        let site = match node.kind() {
            "assert_statement" => Some(node),
            "call" => {
                let callee = node.child_by_field_name("function");
                let name = callee.map_or("", |f| last_name(f, source));
                node.child_by_field_name("arguments")
                    .filter(|_| name.starts_with("assert"))
            }
            "with_statement" => node
                .child_by_field_name("body")
                .filter(|_| expects_raise(node, source)),
            // `if f(x) != 3: raise AssertionError(...)` or `pytest.fail(...)`.
            _ => node.child_by_field_name("condition").filter(|_| {
                node.child_by_field_name("consequence")
                    .is_some_and(|c| fails_in(c, source))
            }),
        };
        if let Some(site) = site {
            sites.push(reads(site, source));
        }
    }
    sites
}

/// A `with` whose item expects a raise or a warning (`pytest.raises`, `assertRaisesRegex`).
fn expects_raise(with: Node<'_>, source: &str) -> bool {
    tree::descendants(with, &["with_item"]).iter().any(|w| {
        tree::descendants(*w, &["call"]).iter().any(|c| {
            let name = c
                .child_by_field_name("function")
                .map_or("", |f| last_name(f, source))
                .to_ascii_lowercase();
            name.ends_with("raises") || name.ends_with("raisesregex") || name.ends_with("warns")
        })
    })
}

/// Whether a block fails the test: raises `AssertionError` or calls `fail`.
fn fails_in(block: Node<'_>, source: &str) -> bool {
    tree::descendants(block, &["raise_statement", "call"])
        .iter()
        .any(|n| fails(*n, source))
}

/// A raise of `AssertionError` or a call of `fail` (`pytest.fail`, `self.fail`).
fn fails(node: Node<'_>, source: &str) -> bool {
    match node.kind() {
        "raise_statement" => text(node, source).contains("AssertionError"),
        _ => node
            .child_by_field_name("function")
            .is_some_and(|f| last_name(f, source) == "fail"),
    }
}

/// `try: f(None) except TypeError: return` then `assert False`: the code is expected to
/// raise, and a failure that reads nothing says so; each `try` body is then a check.
fn expected_raises(root: Node<'_>, source: &str) -> Vec<Vec<String>> {
    let fails_outright = tree::descendants(root, &["assert_statement", "raise_statement", "call"])
        .iter()
        .any(|n| match n.kind() {
            "assert_statement" => {
                let mut cursor = n.walk();
                let condition = n.named_children(&mut cursor).next();
                condition.is_some_and(|c| matches!(text(c, source), "False" | "0"))
            }
            _ => fails(*n, source),
        });
    if !fails_outright {
        return Vec::new();
    }
    tree::descendants(root, &["try_statement"])
        .into_iter()
        .filter_map(|attempt| attempt.child_by_field_name("body"))
        .map(|body| reads(body, source))
        .collect()
}

/// Where values flow: each binding's names and what its value reads; a call may change what
/// it is given (`sort_in_place(items)` binds `items`).
fn flow(root: Node<'_>, source: &str) -> Flow {
    let mut flow: Flow = Vec::new();
    for node in tree::descendants(
        root,
        &[
            "assignment",
            "augmented_assignment",
            "for_statement",
            "for_in_clause",
            "named_expression",
            "call",
        ],
    ) {
        let (target, value) = match node.kind() {
            "named_expression" => ("name", "value"),
            "call" => {
                let (Some(function), Some(args)) = (
                    node.child_by_field_name("function"),
                    node.child_by_field_name("arguments"),
                ) else {
                    continue;
                };
                let mut cursor = args.walk();
                let given: Vec<String> = args
                    .named_children(&mut cursor)
                    .filter(|a| a.kind() == "identifier")
                    .map(|a| text(a, source).to_owned())
                    .collect();
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
            let targets = tree::descendants(t, &["identifier"])
                .into_iter()
                .map(|n| text(n, source).to_owned())
                .collect();
            flow.push((targets, reads(v, source)));
        }
    }
    flow
}

/// The name a callee ends with: `assertEqual` in `self.assertEqual`, `raises` in `pytest.raises`.
fn last_name<'s>(callee: Node<'_>, source: &'s str) -> &'s str {
    match callee.kind() {
        "attribute" => callee
            .child_by_field_name("attribute")
            .map_or("", |a| text(a, source)),
        _ => text(callee, source),
    }
}

/// The names an expression reads. A keyword's name (`f(key=1)`) is no read, and an attribute
/// (`x.count`) is read only off a plain name that is not `self` (`solution.f` is the code's `f`).
fn reads(node: Node<'_>, source: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in tree::descendants(node, &["identifier"]) {
        let Some(parent) = id.parent() else {
            out.push(text(id, source).to_owned());
            continue;
        };
        let field_of = |kind: &str, field: &str| {
            parent.kind() == kind && parent.child_by_field_name(field) == Some(id)
        };
        if field_of("keyword_argument", "name") {
            continue;
        }
        if field_of("attribute", "attribute") {
            let object = parent.child_by_field_name("object");
            let plain = object.is_some_and(|o| {
                o.kind() == "identifier" && !matches!(text(o, source), "self" | "cls")
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

/// The test methods of a test class (`class TestX:` or a `TestCase`), each with its text's
/// range in the class; empty for anything else.
pub fn test_methods(source: &str) -> Vec<Method> {
    let Some(parsed) = tree::parse(&super::grammar(), source) else {
        return Vec::new();
    };
    let root = parsed.root_node();
    let Some(class) = tree::descendants(root, &["class_definition"])
        .into_iter()
        .next()
    else {
        return Vec::new();
    };
    let Some(body) = class.child_by_field_name("body") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut cursor = body.walk();
    for child in body.named_children(&mut cursor) {
        let def = match child.kind() {
            "function_definition" => child,
            "decorated_definition" => match child.child_by_field_name("definition") {
                Some(d) => d,
                None => continue,
            },
            _ => continue,
        };
        let name = tree::field(def, "name", source).unwrap_or("");
        if !name.starts_with("test") {
            continue;
        }
        // The whole line the method starts on, through the end of its last line.
        let start = source[..child.start_byte()]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let end = source[child.end_byte()..]
            .find('\n')
            .map_or(source.len(), |i| child.end_byte() + i + 1);
        out.push(Method {
            name: name.to_owned(),
            range: start..end,
            checks: reading(child, source),
        });
    }
    out
}
