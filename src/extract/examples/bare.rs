//! Examples that show only the arguments, when the task names one function: "for example
//! [1, 2, 3] gives 123" is `digits_to_int([1, 2, 3]) == 123`, "'aabccc' becomes 'a2b1c3'" is
//! `compress('aabccc') == 'a2b1c3'`. Measured on a task the project had never seen, this
//! example went unread and `return int(digits[0])` completed. Read only when the task shows
//! the function's parameters: one literal is its one argument, and a tuple of as many values as
//! it has parameters is its arguments. Joined by words and arrows only (`gives`, `becomes`,
//! `→`…): a bare `=` or `is` after a number is too often arithmetic or prose ("3 - 0 - 1 = 2",
//! "0 is falsy"), and a literal right after an operator or a comma is part of a computation or
//! a list, not an argument.

use super::{Example, in_a_name, joiner_at, literal, literal_list, result_after, shown_parameters};

/// Joiners that say "this input gives that output", longest first.
const JOINERS: [&str; 16] = [
    "should return",
    "should give",
    "should be",
    "should become",
    "must return",
    "evaluates to",
    "returns",
    "becomes",
    "equals",
    "yields",
    "gives",
    "==>",
    "=>",
    "->",
    "➞",
    "→",
];

pub fn stated(description: &str, public: &[&str]) -> Vec<Example> {
    let Some((name, params)) = shown_parameters(description, public) else {
        return Vec::new();
    };
    let mut out: Vec<Example> = Vec::new();
    let mut previous: Option<char> = None;
    for (at, c) in description.char_indices() {
        let before = previous;
        previous = Some(c);
        let starts = c.is_ascii_digit() || matches!(c, '-' | '"' | '\'' | '[' | '(' | '{');
        if !starts || before.is_some_and(|b| in_a_name(b) || matches!(b, '"' | '\'' | '`')) {
            continue;
        }
        // Part of a computation, a call or a list: `1 + [2]`, `f([1])`, `1, 2 gives`. A colon
        // may introduce an example ("Examples: (2, 3) → 5"); a path's `::` does not.
        let head = description[..at].trim_end();
        if head.ends_with(|b: char| "+-*/%=<>&|^@(,[{".contains(b)) || head.ends_with("::") {
            continue;
        }
        let rest = &description[at..];
        let Some(len) = literal(rest) else {
            continue;
        };
        let argument = rest[..len].trim();
        let after = rest[len..].trim_start_matches([' ', '\t']);
        let Some(joiner) = joiner_at(after, &JOINERS) else {
            continue;
        };
        let Some(expected) = result_after(&after[joiner.len()..]) else {
            continue;
        };
        let arguments = match params.len() {
            1 => argument.to_owned(),
            n => match spread(argument, n) {
                Some(a) => a,
                None => continue,
            },
        };
        let call = format!("{name}({arguments})");
        if !out.iter().any(|e| e.call == call) {
            out.push(Example { call, expected });
        }
    }
    out
}

/// `(a, b)` as the arguments `a, b` when it holds exactly `n` values.
fn spread(argument: &str, n: usize) -> Option<String> {
    let inner = argument.strip_prefix('(')?.strip_suffix(')')?;
    if !literal_list(inner) {
        return None;
    }
    let mut count = 0;
    let mut rest = inner.trim();
    while !rest.is_empty() {
        let len = literal(rest)?;
        count += 1;
        rest = rest[len..].trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    (count == n).then(|| inner.trim().trim_end_matches(',').trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, name: &str) -> Vec<(String, String)> {
        stated(text, &[name])
            .into_iter()
            .map(|e| (e.call, e.expected))
            .collect()
    }

    fn pair(call: &str, expected: &str) -> (String, String) {
        (call.to_owned(), expected.to_owned())
    }

    #[test]
    fn arguments_alone_are_read_for_the_one_function_shown() {
        assert_eq!(
            read(
                "Write a Python function `digits_to_int(digits)` that turns a list of decimal digits into the integer they spell, for example [1, 2, 3] gives 123.",
                "digits_to_int"
            ),
            [pair("digits_to_int([1, 2, 3])", "123")]
        );
        assert_eq!(
            read(
                "Write `compress(s)` for run-length encoding: 'aabccc' becomes 'a2b1c3', and \"\" becomes \"\".",
                "compress"
            ),
            [
                pair("compress('aabccc')", "'a2b1c3'"),
                pair("compress(\"\")", "\"\"")
            ]
        );
        assert_eq!(
            read(
                "Write `add(a, b)`. Examples: (2, 3) → 5; (-1, 1) -> 0.",
                "add"
            ),
            [pair("add(2, 3)", "5"), pair("add(-1, 1)", "0")]
        );
        assert_eq!(
            read(
                "Write `square(n)`: 4 should return 16, and 3 yields `9`.",
                "square"
            ),
            [pair("square(4)", "16"), pair("square(3)", "9")]
        );
    }

    #[test]
    fn explanations_and_unclear_inputs_are_refused() {
        for (text, name) in [
            // No parameters shown: which argument is it?
            ("Write digits_to_int: [1, 2, 3] gives 123.", "digits_to_int"),
            // A computation, not an input.
            ("Write `f(xs)`: the sum 3 - 0 - 1 gives 2.", "f"),
            ("Write `f(xs)` so that [1] + [2] becomes [1, 2].", "f"),
            // The result computes.
            ("Write `f(n)`: 3 gives 3 * 2.", "f"),
            ("Write `f(n)`: 3 gives n + 1.", "f"),
            // A list, not an argument.
            ("Write `f(n)`: 1, 2 gives 3.", "f"),
            // `=` and `is` are too often arithmetic or prose.
            ("Write `f(n)`: 0 is falsy and 1 = 1.", "f"),
            // Two parameters, one literal.
            ("Write `add(a, b)`: 2 gives 2.", "add"),
            // A default makes the number of arguments unclear.
            ("Write `f(a, b=1)`: (1, 2) gives 3.", "f"),
            // Words are not literals.
            ("Write `f(s)`: hello becomes olleh.", "f"),
        ] {
            assert_eq!(read(text, name), [], "{text}");
        }
        // Two functions shown: whose example?
        assert!(stated("Write `a(x)` and `b(y)`: 1 gives 2.", &["a", "b"]).is_empty());
    }
}
