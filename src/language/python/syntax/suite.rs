//! Python test suites: tests made runnable, bare asserts wrapped, imports pointed at the code,
//! and the file rendered.

use crate::language::syntax::Item;
use crate::language::syntax::tree::{self, text};
use super::scope::{parameter_name, unbound_names};
use tree_sitter::Node;

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

/// A test as a runner can call it, read once. `def test_f(n):` is called with no argument, so a
/// parameter nothing gives is taken out when the body never reads it (`def test_f(solution):`
/// → `def test_f():`); when the body reads it, the test cannot run as written. Decorated
/// tests (`@pytest.mark.parametrize`), classes, parameters with a default, `*args`, pytest's
/// fixtures and the suite's own functions (`fixtures`) are left as they are. With `bound` (the
/// names the suite's module binds, or `None` when a star import could bind anything), a test
/// that reads a name nothing binds cannot run either (see `unbound_names`). Returns the test,
/// mended, or why it cannot run.
pub fn runnable_test(
    item: Item,
    fixtures: &[&str],
    bound: Option<&[&str]>,
) -> Result<Item, String> {
    let Some(parsed) = tree::parse(&super::grammar(), &item.text) else {
        return Ok(item);
    };
    let source = item.text.as_str();
    let root = parsed.root_node();
    let mended = match root
        .named_child(0)
        .filter(|d| d.kind() == "function_definition")
    {
        Some(def) => mend_parameters(def, source, fixtures)?,
        None => None,
    };
    if let Some(bound) = bound {
        // A parameter taken out was read nowhere: the names read are the same either way.
        let unbound = unbound_names(root, source, bound);
        if !unbound.is_empty() {
            return Err(format!(
                "reads `{}`, which nothing defines",
                unbound.join("`, `")
            ));
        }
    }
    Ok(match mended {
        Some(text) => Item { text, ..item },
        None => item,
    })
}

/// The test function `def` without the parameters no runner gives and its body never reads
/// (`None` when there are none), or why it cannot run: its body reads one.
fn mend_parameters(
    def: Node<'_>,
    source: &str,
    fixtures: &[&str],
) -> Result<Option<String>, String> {
    let (Some(params), Some(body)) = (
        def.child_by_field_name("parameters"),
        def.child_by_field_name("body"),
    ) else {
        return Ok(None);
    };
    let read: Vec<&str> = tree::descendants(body, &["identifier"])
        .into_iter()
        .map(|n| text(n, source))
        .collect();
    let mut kept: Vec<&str> = Vec::new();
    let mut unread = false;
    let mut cursor = params.walk();
    for p in params.named_children(&mut cursor) {
        // Only a parameter without a default needs an argument.
        let required = matches!(p.kind(), "identifier" | "typed_parameter");
        let Some(name) = parameter_name(p)
            .filter(|_| required)
            .map(|n| text(n, source))
        else {
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
        return Ok(None);
    }
    let (Some(head), Some(tail)) = (
        source.get(..params.start_byte()),
        source.get(params.end_byte()..),
    ) else {
        return Ok(None);
    };
    Ok(Some(format!("{head}({}){tail}", kept.join(", "))))
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
            && !super::KNOWN_MODULES.contains(&module.as_str())
            && let Some((_, names)) = t.split_once(" import ")
        {
            item.text = format!("from solution import {names}");
        }
    } else if let Some(rest) = t.strip_prefix("import ") {
        let module = module_of(rest);
        if module != "solution"
            && !super::KNOWN_MODULES.contains(&module.as_str())
            && !rest.contains(',')
        {
            let alias = rest.rsplit(" as ").next().unwrap_or(&module).trim();
            item.text = format!("import solution as {alias}");
        }
    }
    item
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
        crate::language::syntax::render(&imports, helpers, tests, super::python_gap),
        !imports_code,
    )
}
