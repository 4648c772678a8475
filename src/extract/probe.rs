//! The inputs candidates are probed with: calls in replies, plain values by arity, and the
//! task's own examples.

use super::{examples, javascript, python, signature_name, sources};
use crate::language::Language;

/// The calls of the code's functions a suite makes with literal arguments: each candidate is
/// run on them, and candidates that return the same values agree (Python and JavaScript).
pub fn probes(language: Language, text: &str, public: &[String]) -> Vec<String> {
    let public: Vec<&str> = public.iter().map(String::as_str).collect();
    let mut out: Vec<String> = Vec::new();
    for source in sources(text) {
        let calls = match language {
            Language::Python => python::probe_calls(&source, &public),
            Language::Javascript => javascript::probe_calls(&source, &public),
            Language::Rust => Vec::new(),
        };
        for call in calls {
            if !out.contains(&call) {
                out.push(call);
            }
        }
    }
    out
}

/// Calls of the task's function on plain values of several types, by its number of
/// parameters (`is_even(n)` → `is_even(0)`, `is_even('abc')`, `is_even([3, 1, 2])`…): inputs
/// to probe candidates with when the replies hold few. The values are written alike in Python
/// and JavaScript; Rust has no probe.
pub fn plain_probes(language: Language, signature: &str) -> Vec<String> {
    if language == Language::Rust {
        return Vec::new();
    }
    let Some(name) = signature_name(signature) else {
        return Vec::new();
    };
    let params = signature
        .split_once('(')
        .and_then(|(_, rest)| rest.rsplit_once(')'))
        .map(|(inside, _)| {
            inside
                .split(',')
                .map(str::trim)
                .filter(|p| {
                    !p.is_empty() && *p != "self" && !p.starts_with('*') && !p.contains('=')
                })
                .count()
        })
        .unwrap_or(1);
    let ones = [
        "0",
        "1",
        "2",
        "7",
        "10",
        "-3",
        "100",
        "2024",
        "''",
        "'a'",
        "'abc'",
        "'Hello World'",
        "'racecar'",
        "[]",
        "[5]",
        "[3, 1, 2]",
        "[-4, 0, 4, 4]",
        "2.5",
    ];
    let pairs = [
        "0, 0",
        "2, 3",
        "10, 4",
        "-3, 7",
        "12, 18",
        "'abc', 'a'",
        "'hello world', 'o'",
        "[1, 2], [3]",
        "[3, 1, 2], 2",
        "[], 1",
    ];
    let triples = [
        "0, 0, 0",
        "1, 2, 3",
        "5, 0, 3",
        "-1, 10, 4",
        "'abc', 'b', 'x'",
        "[3, 1, 2], 0, 2",
    ];
    let args: &[&str] = match params {
        0 => &[""],
        1 => &ones,
        2 => &pairs,
        3 => &triples,
        _ => &[],
    };
    args.iter().map(|a| format!("{name}({a})")).collect()
}

/// The examples a task states (doctests, and `f(x) == y`, `f(x) ➞ y`, `f(x) returns y`…) as a
/// reply a suite can be read from; `None` when it has none.
pub fn task_examples(language: Language, description: &str, wanted: &[String]) -> Option<String> {
    let public: Vec<&str> = wanted.iter().map(String::as_str).collect();
    examples::asserts(language, &examples::stated(description, &public))
}
