//! The examples a task states itself, read as tests: `>>> f(x)` with the result on the next
//! line (doctests), and the inline forms tasks and docstrings use, `f(x) == y`, `f(x) => y`,
//! `f(x) ➞ y`, `f(x) returns y`, `f(x) should return y`, `(f(0) is 1)`, and the answer stated in
//! words for an empty input (`empty`). Only calls whose arguments are all literals and whose
//! result is one literal count: `f(n) = 1 + n / 2` or `f(x) -> 3 - 0 - 1 = 2` are explanations,
//! not examples, and are left alone.

use crate::language::Language;

mod bare;
mod empty;
mod literal;

use literal::{balanced, literal, literal_list, lone_literal};

/// One stated example: a call and the value it should give, as the task wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub call: String,
    pub expected: String,
}

/// Words and arrows that join a call to its result, longest first so `==>` is not read as `==`
/// and `is equal to` not as `is`.
const JOINERS: [&str; 22] = [
    "should return",
    "will return",
    "must return",
    "should give",
    "should equal",
    "should be",
    "is equal to",
    "evaluates to",
    "returns",
    "becomes",
    "equals",
    "yields",
    "gives",
    "==>",
    "==",
    "=>",
    "->",
    "➞",
    "→",
    "⇒",
    "is",
    "=",
];

/// Every example the description states for one of the `public` functions, in order, each
/// call once.
pub fn stated(description: &str, public: &[&str]) -> Vec<Example> {
    let mut out: Vec<Example> = Vec::new();
    let mut push = |e: Example| {
        if !out.iter().any(|o| o.call == e.call) {
            out.push(e);
        }
    };
    let chars: Vec<(usize, char)> = description.char_indices().collect();
    for (k, &(at, _)) in chars.iter().enumerate() {
        let before = k.checked_sub(1).map(|p| chars[p].1);
        if before.is_some_and(in_a_name) {
            continue;
        }
        let rest = &description[at..];
        let Some(name) = public.iter().find(|p| rest.starts_with(&format!("{p}("))) else {
            continue;
        };
        let Some(call_len) = balanced(&rest[name.len()..]).map(|n| n + name.len()) else {
            continue;
        };
        let call = &rest[..call_len];
        let args = &call[name.len() + 1..call_len - 1];
        if !literal_list(args) {
            continue;
        }
        let doctest = description[..at]
            .trim_end_matches([' ', '\t'])
            .ends_with(">>>");
        let after = &rest[call_len..];
        let expected = if doctest {
            doctest_result(after)
        } else {
            inline_result(after)
        };
        if let Some(expected) = expected {
            push(Example {
                call: call.to_owned(),
                expected,
            });
        }
    }
    for example in bare::stated(description, public) {
        push(example);
    }
    for example in empty::stated(description, public) {
        push(example);
    }
    out
}

/// The task's one function and its parameters' names, when exactly one of `public` is shown
/// with a parameter list in the task (`digits_to_int(digits)`) and each parameter is a plain
/// name (`s`, `strings: List[str]`), none with a default or a `*`; `None` otherwise.
pub(super) fn shown_parameters<'a>(
    description: &str,
    public: &[&'a str],
) -> Option<(&'a str, Vec<String>)> {
    let mut shown = public.iter().filter_map(|name| {
        let params = description
            .match_indices(&format!("{name}("))
            .find_map(|(at, _)| {
                let before = description[..at].chars().next_back();
                if before.is_some_and(in_a_name) {
                    return None;
                }
                let rest = &description[at + name.len()..];
                let len = balanced(rest)?;
                Some(rest[1..len - 1].to_owned())
            })?;
        Some((*name, params))
    });
    let (name, params) = shown.next()?;
    if shown.next().is_some() {
        return None;
    }
    let mut names = Vec::new();
    let mut depth = 0usize;
    let mut part = String::new();
    for c in params.chars().chain([',']) {
        match c {
            '[' | '(' | '{' => depth += 1,
            ']' | ')' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                let p = part.trim();
                let plain = p.starts_with(|c: char| c.is_alphabetic() || c == '_')
                    && !p.contains('=')
                    && literal(p).is_none();
                if !plain {
                    return None;
                }
                let head = p.split(':').next().unwrap_or(p).trim();
                names.push(head.to_owned());
                part.clear();
                continue;
            }
            _ => {}
        }
        part.push(c);
    }
    Some((name, names))
}

/// The examples as assertions a suite can be read from, one per line, in the task's
/// language; `None` when there are none. Values are spelled in the language's own words
/// (`True`/`true`, `None`/`null`); an example a language cannot state is left out.
pub fn asserts(language: Language, examples: &[Example]) -> Option<String> {
    let lines: Vec<String> = examples
        .iter()
        .filter_map(|e| {
            let (name, args) = e.call.split_once('(')?;
            let call = format!("{name}({}", respell(args, language)?);
            let expected = respell(&e.expected, language)?;
            Some((language.rules().assert_equal)(&call, &expected))
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Literals (or a call's arguments and closing parenthesis) in another language's words, or
/// `None` when the language has no such literal (a tuple or dict in JavaScript; lists, dicts
/// and `None` in Rust).
fn respell(text: &str, language: Language) -> Option<String> {
    let mut out = String::new();
    let mut word = String::new();
    let mut strings = Strings::default();
    let spell = language.rules().literals;
    let flush = |word: &mut String, out: &mut String| -> Option<()> {
        let spelled = match word.as_str() {
            "True" | "true" => spell.yes,
            "False" | "false" => spell.no,
            "None" | "null" => spell.nothing?,
            w => w,
        };
        out.push_str(spelled);
        word.clear();
        Some(())
    };
    for c in text.chars() {
        let opening = strings.quote.is_none();
        let single = strings.quote == Some('\'') || (opening && c == '\'');
        if strings.inside(c) {
            if opening {
                flush(&mut word, &mut out)?;
            }
            // A Rust string is always double-quoted: `'a"b'` is `"a\"b"`.
            match c {
                '\'' if single && spell.double_quoted => out.push('"'),
                '"' if single && spell.double_quoted => out.push_str("\\\""),
                _ => out.push(c),
            }
            continue;
        }
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        flush(&mut word, &mut out)?;
        if spell.unsayable.contains(&c) {
            return None;
        }
        out.push(c);
    }
    flush(&mut word, &mut out)?;
    Some(out)
}

/// Whether each character of a literal is inside a quoted string, quotes and escapes included.
#[derive(Debug, Default)]
pub(super) struct Strings {
    quote: Option<char>,
    escaped: bool,
    /// Backticks quote too (JavaScript's template strings); in a task's prose they mark code.
    backticks: bool,
}

impl Strings {
    /// For code, where backticks quote as well.
    pub(super) fn code() -> Self {
        Self {
            backticks: true,
            ..Self::default()
        }
    }

    /// Takes the next character; true when it belongs to a string (its quotes included).
    pub(super) fn inside(&mut self, c: char) -> bool {
        match self.quote {
            Some(q) => {
                if self.escaped {
                    self.escaped = false;
                } else if c == '\\' {
                    self.escaped = true;
                } else if c == q {
                    self.quote = None;
                }
                true
            }
            None if c == '"' || c == '\'' || (c == '`' && self.backticks) => {
                self.quote = Some(c);
                true
            }
            None => false,
        }
    }
}

/// The result after `>>> call`: the next line, up to the docstring's end.
fn doctest_result(after: &str) -> Option<String> {
    let after = after.trim_start_matches([' ', '\t']);
    let after = after.strip_prefix('\n').unwrap_or(after);
    let line = after.lines().next()?;
    let line = line.split("\"\"\"").next()?.split("'''").next()?.trim();
    let len = literal(line)?;
    let rest = line[len..].trim_start();
    // A task typed on one line runs into the next example.
    (rest.is_empty() || rest.starts_with(">>>")).then(|| line[..len].trim().to_owned())
}

/// The result after an inline call: a joiner, then one literal that nothing computes on.
fn inline_result(after: &str) -> Option<String> {
    let line = after.lines().next()?;
    // A call written as code in prose: `` `f(x)` is `y` ``.
    let line = line.strip_prefix('`').unwrap_or(line);
    let mut rest = line.trim_start();
    // `f(x)   # => 'Yes'` and `f(x)   # returns "db1111db"`.
    if let Some(r) = rest.strip_prefix('#') {
        rest = r.trim_start();
    }
    let joiner = joiner_at(rest, &JOINERS)?;
    result_after(&rest[joiner.len()..])
}

/// The joiner of `joiners` that `text` starts with; a word must be followed by a space.
fn joiner_at<'j>(text: &str, joiners: &[&'j str]) -> Option<&'j str> {
    joiners.iter().copied().find(|j| {
        text.get(..j.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(j))
            && (!j.chars().all(|c| c.is_alphabetic() || c == ' ')
                || text[j.len()..].starts_with(char::is_whitespace))
    })
}

/// The one literal after a joiner, alone, or in backticks alone (`` `123` ``).
fn result_after(text: &str) -> Option<String> {
    let text = text.trim_start();
    match text.strip_prefix('`') {
        Some(inner) => {
            let close = inner.find('`')?;
            let value = inner[..close].trim();
            (literal(value) == Some(value.len())).then(|| value.to_owned())
        }
        None => lone_literal(text),
    }
}

/// Whether `c` belongs to a name (or a dotted path), so a call cannot start right after it.
fn in_a_name(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '.'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(text: &str, name: &str) -> Vec<(String, String)> {
        stated(text, &[name])
            .into_iter()
            .map(|e| (e.call, e.expected))
            .collect()
    }

    fn pair(call: &str, expected: &str) -> (String, String) {
        (call.to_owned(), expected.to_owned())
    }

    #[test]
    fn inline_forms_tasks_use() {
        assert_eq!(
            calls("returns n! (factorial(0) is 1).", "factorial"),
            [pair("factorial(0)", "1")]
        );
        assert_eq!(
            calls("with fibonacci(0) == 0 and fibonacci(1) == 1.", "fibonacci"),
            [pair("fibonacci(0)", "0"), pair("fibonacci(1)", "1")]
        );
        let humaneval = "    will_it_fly([1, 2], 5) ➞ False \n    iscube(1) ==> True\n    \
            check_dict_case({\"a\":\"apple\", \"b\":\"banana\"}) should return True.\n    \
            count_up_to(5) => [2,3]\n    decimal_to_binary(15)   # returns \"db1111db\"\n    \
            choose_num(12, 15) = 14\n    largest([]) == (None, None)\n    anti_shuffle('Hi') returns 'Hi'";
        for (name, want) in [
            ("will_it_fly", pair("will_it_fly([1, 2], 5)", "False")),
            ("iscube", pair("iscube(1)", "True")),
            (
                "check_dict_case",
                pair(
                    "check_dict_case({\"a\":\"apple\", \"b\":\"banana\"})",
                    "True",
                ),
            ),
            ("count_up_to", pair("count_up_to(5)", "[2,3]")),
            (
                "decimal_to_binary",
                pair("decimal_to_binary(15)", "\"db1111db\""),
            ),
            ("choose_num", pair("choose_num(12, 15)", "14")),
            ("largest", pair("largest([])", "(None, None)")),
            ("anti_shuffle", pair("anti_shuffle('Hi')", "'Hi'")),
        ] {
            assert_eq!(calls(humaneval, name), [want], "{name}");
        }
    }

    #[test]
    fn the_phrasings_people_write() {
        for (text, want) in [
            ("`f(3)` is `9`.", pair("f(3)", "9")),
            ("`f('ab')` is 'ba'", pair("f('ab')", "'ba'")),
            ("f([1, 2]) gives 3", pair("f([1, 2])", "3")),
            ("f('aab') becomes 'a2b1'", pair("f('aab')", "'a2b1'")),
            ("f(2, 3) equals 5", pair("f(2, 3)", "5")),
            ("f(0) should be True", pair("f(0)", "True")),
            ("f([]) → []", pair("f([])", "[]")),
            ("f(4) is equal to 2.", pair("f(4)", "2")),
            ("f(1) evaluates to -1", pair("f(1)", "-1")),
            ("f(\"x\") yields \"X\"", pair("f(\"x\")", "\"X\"")),
            ("f(2) must return 4", pair("f(2)", "4")),
            ("f(2) should give `4`", pair("f(2)", "4")),
        ] {
            assert_eq!(calls(text, "f"), [want], "{text}");
        }
    }

    #[test]
    fn the_new_phrasings_refuse_explanations_too() {
        for text in [
            "`f(3)` is `3 * 3`",
            "f(3) gives 3 + 6",
            "f(x) becomes 9",
            "f(3) equals the square",
            "f(3) should be 9 * 1",
            "`f(3)` is `9",
        ] {
            assert_eq!(calls(text, "f"), [], "{text}");
        }
    }

    #[test]
    fn explanations_are_not_examples() {
        for (text, name) in [
            ("tri(n) = 1 + n / 2, if n is even.", "tri"),
            (
                "fruit_distribution(\"5 apples\", 19) ->19 - 5 - 6 = 8",
                "fruit_distribution",
            ),
            (
                "double_the_difference([1, 3, 2, 0]) == 1 + 9 + 0 + 0 = 10",
                "double_the_difference",
            ),
            (
                "find_max([\"aaaaaaa\", \"bb\"]) == \"\"aaaaaaa\"",
                "find_max",
            ),
            ("is_happy(a) => False", "is_happy"),
            ("returns True if is_even(n) is called", "is_even"),
            ("my_is_even(4) is True", "is_even"),
            ("is_even(4) is, as said, True", "is_even"),
            ("is_even(4) isTrue", "is_even"),
        ] {
            assert_eq!(calls(text, name), [], "{text}");
        }
    }

    #[test]
    fn doctests_take_the_next_line() {
        let task = "def add(a, b):\n    \"\"\"Adds.\n    >>> add(1, 2)\n    3\n    >>> print('x')\n    x\n    >>> add(0, 0)\n    \"\"\"";
        assert_eq!(calls(task, "add"), [pair("add(1, 2)", "3")]);
        let flat = "def add(a, b): \"\"\"Adds. >>> add(1, [2])   [3]   >>> add(0, 0)  0 \"\"\"";
        assert_eq!(
            calls(flat, "add"),
            [pair("add(1, [2])", "[3]"), pair("add(0, 0)", "0")]
        );
    }

    #[test]
    fn asserts_in_each_language() {
        let examples = vec![
            Example {
                call: "f('a', [1])".into(),
                expected: "true".into(),
            },
            Example {
                call: "f(2)".into(),
                expected: "(None, 1)".into(),
            },
        ];
        assert_eq!(
            asserts(Language::Python, &examples).as_deref(),
            Some("assert f('a', [1]) == True\nassert f(2) == (None, 1)")
        );
        assert_eq!(
            asserts(Language::Javascript, &examples).as_deref(),
            Some("assert.deepStrictEqual(f('a', [1]), true);")
        );
        let rust = vec![
            Example {
                call: "f('ab', 2)".into(),
                expected: "'ba'".into(),
            },
            Example {
                call: "g('say \"hi\"')".into(),
                expected: "\"it's\"".into(),
            },
        ];
        assert_eq!(
            asserts(Language::Rust, &rust).as_deref(),
            Some("assert_eq!(f(\"ab\", 2), \"ba\");\nassert_eq!(g(\"say \\\"hi\\\"\"), \"it's\");")
        );
        assert_eq!(asserts(Language::Rust, &examples), None);
    }
}
