//! Reads model replies the way a compiler would. Every fenced block and the text around them is
//! parsed with tree-sitter; the top-level items that parse cleanly are kept (imports,
//! definitions, constants, tests) and the rest (prose, stray fences, `print(...)` and other code
//! that runs at import, half-written statements) is dropped and named. Code keeps the first
//! clean definition of each name from wherever it is in the reply; a test suite is usable only
//! when it imports the code and has a test that calls it, and an implementation found in a test
//! reply comes back as one more code candidate.

use crate::language::Language;
use crate::language::syntax::{Item, Kind, tree};
use std::collections::HashSet;

mod checks;
pub mod codeblock;
mod examples;
mod names;
mod probe;

pub use names::{named_in, signature_name, signatures_in, wanted_names};
pub use probe::{fit_probes, plain_probes, probes, task_examples};

#[cfg(test)]
mod tests;

/// Code taken from a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    /// The file as it will be written.
    pub text: String,
    /// Its public functions and types, in order.
    pub names: Vec<String>,
    /// What was left out, for the log ("line 9: print(f(3))").
    pub dropped: Vec<String>,
}

/// A test suite taken from a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suite {
    pub text: String,
    /// The tests it defines, by the names the runner reports.
    pub tests: Vec<String>,
    /// The import of the code was missing and flotilla added it.
    pub import_added: bool,
    pub dropped: Vec<String>,
}

/// What a test writer's reply held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteReading {
    /// The usable suite, or why there is none.
    pub suite: Result<Suite, String>,
    /// Public functions the reply defined itself: an implementation, one more code candidate.
    pub implementation: Option<Code>,
}

/// The most of one reply that is read. A parse tree takes about sixty times its text in
/// memory (a 5 MB reply, 290 MB), and no small task's code is this long; a reply that is (a
/// server ignoring `max_tokens`) is read up to here, at a line's end.
pub const MAX_READ: usize = 256 * 1024;

/// The start of a reply that is read: at most [`MAX_READ`] bytes, ending with a whole line.
pub fn readable(reply: &str) -> &str {
    if reply.len() <= MAX_READ {
        return reply;
    }
    let mut end = MAX_READ;
    while !reply.is_char_boundary(end) {
        end -= 1;
    }
    let head = &reply[..end];
    head.rfind('\n').map_or(head, |i| &head[..=i])
}

/// The pieces of a reply that may hold code: each fenced block in order, then the text outside
/// the fences (fence lines themselves are never code).
pub fn sources(reply: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut outside = String::new();
    let mut open: Option<(String, String)> = None; // (fence, code)
    for line in readable(reply).lines() {
        let trimmed = line.trim_start();
        match &mut open {
            None => match crate::extract::codeblock::fence_of(trimmed) {
                Some(fence) => open = Some((fence, String::new())),
                None => {
                    outside.push_str(line);
                    outside.push('\n');
                }
            },
            Some((fence, code)) => {
                if trimmed.starts_with(fence.as_str()) && trimmed[fence.len()..].trim().is_empty() {
                    out.push(std::mem::take(code));
                    open = None;
                } else {
                    code.push_str(line);
                    code.push('\n');
                }
            }
        }
    }
    if let Some((_, code)) = open {
        out.push(code);
    }
    out.push(outside);
    out.retain(|s| !s.trim().is_empty());
    out
}

/// The top-level items of one source. A broken item that spans several lines is read again
/// from its second line on: error recovery glues a line of prose to the code after it.
fn items(language: Language, source: &str) -> Vec<Item> {
    let parsed = (language.syntax().items)(source);
    let mut out = Vec::with_capacity(parsed.len());
    for item in parsed {
        let lines = item.text.lines().count();
        match item.text.split_once('\n') {
            Some((first, rest)) if item.kind == Kind::Dropped && lines <= MAX_REREAD_LINES => {
                out.push(Item {
                    text: first.to_owned(),
                    ..item.clone()
                });
                for mut inner in items(language, rest) {
                    inner.line += item.line;
                    out.push(inner);
                }
            }
            _ => out.push(item),
        }
    }
    out
}

/// Longer broken items are dropped whole rather than read again line by line.
const MAX_REREAD_LINES: usize = 200;

/// When the task asks for one function and the code defines one function under another name,
/// the asked-for name is added as an alias, so the tests (written from the task) reach it.
/// Returns what was added, for the log.
pub fn alias(language: Language, code: &mut Code, wanted: &[String]) -> Option<String> {
    let ([want], [have]) = (wanted, code.names.as_slice()) else {
        return None;
    };
    let have = have.clone();
    if *want == have {
        return None;
    }
    code.text
        .push_str(&(language.rules().alias_line)(want, &have));
    code.names.push(want.clone());
    Some(format!("{want} is an alias of {have}"))
}

/// Whether a whole file parses without an error.
pub fn parses(language: Language, text: &str) -> bool {
    tree::parse(&(language.syntax().grammar)(), text).is_some_and(|t| !t.root_node().has_error())
}

/// The code in a reply: every clean import, and the first clean definition of each name, from
/// any block or from unfenced text. `None` when it defines nothing usable.
pub fn code(language: Language, reply: &str) -> Option<Code> {
    let mut imports: Vec<Item> = Vec::new();
    let mut defs: Vec<Item> = Vec::new();
    let mut dropped = Vec::new();
    let mut seen = HashSet::new();
    for source in sources(reply) {
        for item in items(language, &source) {
            match item.kind {
                Kind::Import if is_self_import(language, &item.text) => {
                    dropped.push(item.describe())
                }
                Kind::Import => {
                    if !imports.iter().any(|i| i.text == item.text) {
                        imports.push(item);
                    }
                }
                Kind::Definition | Kind::Constant => {
                    let fresh = item.name.as_ref().is_none_or(|n| seen.insert(n.clone()));
                    if fresh {
                        defs.push(item);
                    }
                }
                Kind::Test | Kind::Dropped => dropped.push(item.describe()),
            }
        }
    }
    dropped.extend((language.syntax().drop_example_data)(&mut defs));
    build_code(language, imports, defs, dropped)
}

fn build_code(
    language: Language,
    imports: Vec<Item>,
    defs: Vec<Item>,
    dropped: Vec<String>,
) -> Option<Code> {
    let names: Vec<String> = defs
        .iter()
        .filter(|d| d.kind == Kind::Definition)
        .filter_map(|d| d.name.clone())
        .filter(|n| !n.starts_with('_') && !n.contains(' '))
        .collect();
    if names.is_empty() {
        return None;
    }
    let text = (language.syntax().render_code)(&imports, &defs, &names);
    Some(Code {
        text,
        names,
        dropped,
    })
}

fn is_self_import(language: Language, text: &str) -> bool {
    (language.rules().is_self_import)(text)
}

/// The test suite in a reply. `public` names the code's public functions (the plan's and the
/// candidates'): a test must call one of them, and definitions of them in the reply are taken
/// out of the suite (they would shadow the code) and returned as an implementation.
pub fn suite(language: Language, reply: &str, public: &[String]) -> SuiteReading {
    let public: HashSet<&str> = public.iter().map(String::as_str).collect();
    let mut parts = sort_suite(language, reply, &public);
    let syntax = language.syntax();
    let fixtures: Vec<&str> = (parts.helpers.iter())
        .filter_map(|h| h.name.as_deref())
        .collect();
    // A star import of another module could bind anything: then no name is called unbound.
    let star =
        (parts.imports.iter()).any(|i| i.text.contains('*') && !is_self_import(language, &i.text));
    let imported: Vec<String> = (parts.imports.iter())
        .flat_map(|i| (syntax.imported_names)(&i.text))
        .collect();
    let bound: Vec<&str> = (public.iter().copied())
        .chain(fixtures.iter().copied())
        .chain(imported.iter().map(String::as_str))
        .collect();
    let bound = (!star).then_some(bound.as_slice());
    let (tests, unrunnable) = (syntax.runnable)(std::mem::take(&mut parts.tests), &fixtures, bound);
    let unrunnable_count = unrunnable.len();
    parts.dropped.extend(unrunnable);
    // The suite's own import of the code (`use solution::*;`) cannot stand in the code itself.
    let code_imports: Vec<Item> = (parts.imports.iter())
        .filter(|i| !is_self_import(language, &i.text))
        .cloned()
        .collect();
    let implementation = build_code(
        language,
        code_imports,
        std::mem::take(&mut parts.implementation),
        Vec::new(),
    );
    let suite = judged_suite(language, parts, tests, unrunnable_count, &public);
    SuiteReading {
        suite,
        implementation,
    }
}

/// A suite reply's items, sorted: imports, helpers, tests, the code's own functions (an
/// implementation), and what was left out.
#[derive(Default)]
struct SuiteParts {
    imports: Vec<Item>,
    helpers: Vec<Item>,
    tests: Vec<Item>,
    implementation: Vec<Item>,
    dropped: Vec<String>,
}

/// Sorts every item of every source of the reply, each name once, a bare assertion made a
/// test of its own.
fn sort_suite(language: Language, reply: &str, public: &HashSet<&str>) -> SuiteParts {
    let syntax = language.syntax();
    let mut parts = SuiteParts::default();
    let mut seen = HashSet::new();
    for source in sources(reply) {
        for item in items(language, &source) {
            let name = item.name.clone().unwrap_or_default();
            match item.kind {
                Kind::Import => {
                    let item = (syntax.suite_import)(item, public);
                    if !parts.imports.iter().any(|i| i.text == item.text) {
                        parts.imports.push(item);
                    }
                }
                Kind::Definition if public.contains(name.as_str()) => {
                    if seen.insert(format!("impl {name}")) {
                        parts.implementation.push(item);
                    }
                }
                Kind::Definition | Kind::Constant => {
                    if name.is_empty() || seen.insert(format!("helper {name}")) {
                        parts.helpers.push(item);
                    }
                }
                // A bare assertion: one test each, the same assertion only once.
                Kind::Test if name.is_empty() => {
                    if seen.insert(format!("assert {}", item.text.trim())) {
                        let (name, text) = (syntax.wrap_assert)(&item.text, parts.tests.len() + 1);
                        parts.tests.push(Item {
                            name: Some(name),
                            text,
                            ..item
                        });
                    }
                }
                Kind::Test => {
                    if seen.insert(format!("test {name}")) {
                        parts.tests.push(item);
                    }
                }
                Kind::Dropped => parts.dropped.push(item.describe()),
            }
        }
    }
    parts
}

/// The suite of the tests that reach the code and check what it returns, or why there is none.
fn judged_suite(
    language: Language,
    mut parts: SuiteParts,
    tests: Vec<Item>,
    unrunnable: usize,
    public: &HashSet<&str>,
) -> Result<Suite, String> {
    let helpers = &parts.helpers;
    // A test that calls none of the code's functions (directly or through a helper) tests nothing.
    let reaches = |item: &Item| {
        item.calls.iter().any(|c| {
            public.contains(c.as_str())
                || helpers.iter().any(|h| {
                    h.name.as_deref() == Some(c.as_str())
                        && h.calls.iter().any(|hc| public.contains(hc.as_str()))
                })
        })
    };
    let (reaching, idle): (Vec<Item>, Vec<Item>) = tests.into_iter().partition(reaches);
    parts.dropped.extend(
        idle.iter()
            .map(|t| format!("{} (calls none of the code's functions)", t.describe())),
    );
    // A test that only calls the code, prints or returns passes whatever the code does.
    let judge = checks::Judge::new(language, public, helpers);
    let mut real = Vec::with_capacity(reaching.len());
    let mut unchecked = 0;
    for test in reaching {
        let described = test.describe();
        match judge.test(test) {
            Ok((test, methods)) => {
                (parts.dropped).extend(methods.into_iter().map(|m| format!("{described}: {m}")));
                real.push(test);
            }
            Err(why) => {
                parts.dropped.push(format!("{described} ({why})"));
                unchecked += 1;
            }
        }
    }
    if real.is_empty() {
        return Err(if unchecked > 0 {
            "no test asserts anything about what the code returns (they only call it, print or return)".to_owned()
        } else if idle.is_empty() && unrunnable > 0 {
            "its tests cannot run (they take arguments no runner passes, or read names nothing defines)".to_owned()
        } else if idle.is_empty() {
            "no test in the reply".to_owned()
        } else {
            "no test calls the code's functions".to_owned()
        });
    }
    let syntax = language.syntax();
    let public: Vec<&str> = public.iter().copied().collect();
    let (text, import_added) = (syntax.render_suite)(&parts.imports, helpers, &real, &public);
    let names = real.iter().flat_map(|t| (syntax.test_names)(t)).collect();
    Ok(Suite {
        text,
        tests: names,
        import_added,
        dropped: parts.dropped,
    })
}
