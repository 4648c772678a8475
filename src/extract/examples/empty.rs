//! The answer a task states for an empty input, read as one more example: "(1 for an empty
//! list)" is `f([]) == 1`, "or None if the list is empty" is `f([]) == None`, "If the array is
//! empty, return 0" is `f([]) == 0`. Tasks say the empty case in words far more often than
//! with a call, and it is the case small models get wrong: a product that starts from 0, a
//! last element that raises. Read only for a task with one function of one parameter (which
//! input is empty is then plain), and only when the answer is one literal.

use super::{Example, literal, lone_literal, shown_parameters};
use regex::Regex;
use std::sync::LazyLock;

/// The empty inputs, as the words a task uses for them.
const NOUN: &str = r"(list|array|string)";

/// "V for an empty list", "V on the empty string": the answer comes first.
static FOR_EMPTY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"\b(?:for|on|with|given) (?:an |the )?empty (?:input )?{NOUN}\b"
    ))
    .expect("a valid pattern")
});

/// "V if the list is empty", "V when the given string is empty": the answer comes first.
static IF_EMPTY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"\b(?:if|when|in case) (?:the |it |its )?(?:input |given )?{NOUN}? ?is empty\b"
    ))
    .expect("a valid pattern")
});

/// "For an empty list, return V", "If the array is empty, it should return V": the answer
/// comes after.
static THEN_RETURN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"\b(?:(?:for|on|given) (?:an |the )?empty (?:input )?{NOUN}|(?:if|when) (?:the |it |its )?(?:input |given )?{NOUN}? ?is empty),? (?:then )?(?:it |you )?(?:should |must )?(?:returns?|gives?|is) "
    ))
    .expect("a valid pattern")
});

/// The examples the task states for an empty input of its one function.
pub fn stated(description: &str, public: &[&str]) -> Vec<Example> {
    let Some(name) = single_parameter_function(description, public) else {
        return Vec::new();
    };
    // ASCII lower case keeps every byte where it was, so a match's offsets fit the original.
    let lower = description.to_ascii_lowercase();
    let mut out: Vec<Example> = Vec::new();
    let mut push = |noun: &str, value: Option<String>| {
        // "it is empty" names no input, so no kind of empty value either.
        let (Some(expected), Some(empty)) = (value, empty_of(noun)) else {
            return;
        };
        let call = format!("{name}({empty})");
        if !out.iter().any(|e| e.call == call) {
            out.push(Example { call, expected });
        }
    };
    for m in THEN_RETURN.captures_iter(&lower) {
        let end = m.get(0).map_or(0, |w| w.end());
        let noun = m.get(1).or_else(|| m.get(2)).map(|n| n.as_str());
        push(noun.unwrap_or(""), value_after(&description[end..]));
    }
    for re in [&*FOR_EMPTY, &*IF_EMPTY] {
        for m in re.captures_iter(&lower) {
            let start = m.get(0).map_or(0, |w| w.start());
            let noun = m.get(1).map(|n| n.as_str());
            push(noun.unwrap_or(""), value_before(&description[..start]));
        }
    }
    out
}

/// The empty value of a noun; `None` when the noun was not said.
fn empty_of(noun: &str) -> Option<&'static str> {
    match noun {
        "list" | "array" => Some("[]"),
        "string" => Some("''"),
        _ => None,
    }
}

/// The task's one function, when its signature in the task has exactly one parameter; `None`
/// when no public function, or more than one, is shown with parameters.
fn single_parameter_function<'a>(description: &str, public: &[&'a str]) -> Option<&'a str> {
    let (name, params) = shown_parameters(description, public)?;
    (params.len() == 1).then_some(name)
}

/// The literal that ends `text` (before "for an empty list"), or the words for an empty value.
fn value_before(text: &str) -> Option<String> {
    let text = text.trim_end();
    let lower = text.to_ascii_lowercase();
    for (words, value) in [
        ("empty string", "''"),
        ("empty list", "[]"),
        ("empty array", "[]"),
    ] {
        if lower.ends_with(words) {
            return Some(value.to_owned());
        }
    }
    if lower.ends_with("zero") && !lower[..lower.len() - 4].ends_with(char::is_alphanumeric) {
        return Some("0".to_owned());
    }
    let start = if text.ends_with(['\'', '"']) {
        let quote = text.chars().next_back()?;
        text[..text.len() - 1].rfind(quote)?
    } else if text.ends_with("[]") {
        text.len() - 2
    } else {
        text.len()
            - text
                .chars()
                .rev()
                .take_while(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
                .map(char::len_utf8)
                .sum::<usize>()
    };
    let value = &text[start..];
    // `n + 1 for an empty list` computes; the answer must be the literal alone.
    let before = text[..start].trim_end();
    if value.is_empty() || before.ends_with(|c: char| "+-*/%=<>&|^@".contains(c)) {
        return None;
    }
    (literal(value) == Some(value.len())).then(|| value.to_owned())
}

/// The literal that starts `text` (after "For an empty list, return"), or the words for an
/// empty value; `None` when what follows computes on it.
fn value_after(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    for (words, value) in [
        ("an empty string", "''"),
        ("the empty string", "''"),
        ("an empty list", "[]"),
        ("an empty array", "[]"),
        ("zero", "0"),
    ] {
        if lower.starts_with(words) && !lower[words.len()..].starts_with(char::is_alphanumeric) {
            return Some(value.to_owned());
        }
    }
    lone_literal(text)
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

    fn one(call: &str, expected: &str) -> Vec<(String, String)> {
        vec![(call.to_owned(), expected.to_owned())]
    }

    #[test]
    fn the_answer_for_an_empty_input_is_an_example() {
        let f = "multiply_list";
        assert_eq!(
            read(
                "Write a Python function `multiply_list(numbers)` that returns the product of all numbers in a list (1 for an empty list).",
                f
            ),
            one("multiply_list([])", "1")
        );
        assert_eq!(
            read(
                "Write `last_element(items)` that returns the last item of a list, or None if the list is empty.",
                "last_element"
            ),
            one("last_element([])", "None")
        );
        assert_eq!(
            read(
                "def longest(strings: List[str]) -> Optional[str]:\n    \"\"\" Out of list of strings, return the longest one. Return None in case the input list is empty.",
                "longest"
            ),
            one("longest([])", "None")
        );
        assert_eq!(
            read(
                "Write `maxOf(numbers)`. If the array is empty, it should return -1.",
                "maxOf"
            ),
            one("maxOf([])", "-1")
        );
        assert_eq!(
            read(
                "Write `shout(s)` returning s in capitals, and an empty string for an empty string.",
                "shout"
            ),
            one("shout('')", "''")
        );
        assert_eq!(
            read(
                "Write `words(s)` that splits s into words (an empty list for an empty string).",
                "words"
            ),
            one("words('')", "[]")
        );
        assert_eq!(
            read(
                "Write `total(xs)`; for an empty list, return zero.",
                "total"
            ),
            one("total([])", "0")
        );
    }

    #[test]
    fn no_example_where_the_empty_case_is_not_one_plain_answer() {
        for (text, name) in [
            // Not a statement about an empty input.
            (
                "Write `max_of_list(numbers)` that returns the largest number in a non-empty list.",
                "max_of_list",
            ),
            // True only after words that are not a literal.
            (
                "Write `starts_with_vowel(word)`: True if it starts with a vowel and False otherwise, including for an empty string.",
                "starts_with_vowel",
            ),
            // An error, not a value.
            (
                "Write `mean(xs)`. Raise ValueError if the list is empty.",
                "mean",
            ),
            // The answer computes.
            (
                "Write `f(xs)` returning len(xs) + 1 for an empty list.",
                "f",
            ),
            ("Write `g(xs)`. If the list is empty, return n + 1.", "g"),
            // Two parameters: which one is empty?
            (
                "Write `count_char(s, c)`, 0 for an empty string.",
                "count_char",
            ),
            // No signature to count parameters on.
            (
                "Write a function that returns 0 for an empty list.",
                "total",
            ),
            // "it is empty" says no kind of input.
            ("Write `h(x)` that returns 0 if it is empty.", "h"),
        ] {
            assert_eq!(read(text, name), [], "{text}");
        }
    }

    #[test]
    fn two_functions_shown_make_it_unclear_whose_input_is_empty() {
        let text = "Write `a(xs)` and `b(ys)`: 0 for an empty list.";
        assert!(stated(text, &["a", "b"]).is_empty());
        assert_eq!(stated(text, &["a"]).len(), 1);
    }
}
