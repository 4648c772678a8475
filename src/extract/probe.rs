//! The inputs candidates are probed with: calls in replies, plain values by arity, and the
//! task's own examples.

use super::examples::Strings;
use super::{examples, signature_name, sources};
use crate::language::{Language, Probe};

/// The calls of the code's functions a suite makes with literal arguments: each candidate is
/// run on them, and candidates that return the same values agree.
pub fn probes(language: Language, text: &str, public: &[String]) -> Vec<String> {
    let public: Vec<&str> = public.iter().map(String::as_str).collect();
    let mut out: Vec<String> = Vec::new();
    for source in sources(text) {
        let calls = (language.syntax().probe_calls)(&source, &public);
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
/// and JavaScript; Rust's are of the types its signature names (its rules' `Probe::Typed`).
pub fn plain_probes(language: Language, signature: &str) -> Vec<String> {
    let Some(name) = signature_name(signature) else {
        return Vec::new();
    };
    if let Probe::Typed(arguments) = language.rules().probe {
        return arguments(signature)
            .into_iter()
            .map(|args| format!("{name}({args})"))
            .collect();
    }
    let params = arity(signature).map_or(1, |a| a.required);
    let args: &[&str] = match params {
        0 => &[""],
        1 => &ONES,
        2 => &PAIRS,
        3 => &TRIPLES,
        _ => &[],
    };
    args.iter().map(|a| format!("{name}({a})")).collect()
}

/// Several values of each kind, taken in turn (a number, a string, a list, …; for two
/// parameters, the pairs of kinds tasks take: numbers, strings, two lists, a list and an
/// element, a string and a count, a list of words and a letter), so a cap on the probes
/// keeps every kind; the shapes the replies call with then keep the task's kind (see
/// `fit_probes`). Four lists had been too few to tell list functions apart:
/// replayed on the saved candidates of two runs, these values gave one more right choice
/// (`product([2, 2, 2])` told `r *= x` from `r += x`) and no fewer.
const ONES: [&str; 32] = [
    "0",
    "''",
    "[]",
    "1",
    "'a'",
    "[5]",
    "2",
    "'abc'",
    "[3, 1, 2]",
    "7",
    "'Hello World'",
    "[-4, 0, 4, 4]",
    "10",
    "'racecar'",
    "[1, 2, 3, 4, 5]",
    "-3",
    "'hello world'",
    "[10, -10]",
    "100",
    "'AbC dE'",
    "[2, 2, 2]",
    "2024",
    "'  two  words '",
    "[7, 3, 9, 1]",
    "13",
    "'aeiou'",
    "[0]",
    "2.5",
    "'Python 3'",
    "[1.5, -2.5]",
    "36",
    "['apple', 'banana', 'apple']",
];

/// Two arguments of the kinds tasks pair.
const PAIRS: [&str; 28] = [
    "0, 0",
    "'abc', 'a'",
    "[1, 2], [3]",
    "[3, 1, 2], 2",
    "'ab', 3",
    "['apple', 'avocado', 'banana'], 'a'",
    "2, 3",
    "'hello world', 'o'",
    "[1, 2, 3], [2, 3, 4]",
    "[], 1",
    "'hello', 0",
    "['x', 'y', 'x'], 'x'",
    "10, 4",
    "'banana', 'an'",
    "[5, 5, 1], 5",
    "'Zebra', 2",
    "['Hi', 'ho', 'hey'], 'h'",
    "-3, 7",
    "'Hello', 'l'",
    "[4, -1, 0], 0",
    "12, 18",
    "'', 'x'",
    "[-2, 8, 3], 3",
    "7, 1",
    "'abc', 'abc'",
    "100, 25",
    "'Mississippi', 's'",
    "3, 3",
];

/// Three arguments.
const TRIPLES: [&str; 6] = [
    "0, 0, 0",
    "1, 2, 3",
    "5, 0, 3",
    "-1, 10, 4",
    "'abc', 'b', 'x'",
    "[3, 1, 2], 0, 2",
];

/// The examples a task states (doctests, and `f(x) == y`, `f(x) ➞ y`, `f(x) returns y`…) as a
/// reply a suite can be read from; `None` when it has none.
pub fn task_examples(language: Language, description: &str, wanted: &[String]) -> Option<String> {
    let public: Vec<&str> = wanted.iter().map(String::as_str).collect();
    examples::asserts(language, &examples::stated(description, &public))
}

/// How many arguments a function takes: those without a default, and at most (`None` with
/// `*args`, `...rest` or `**kwargs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Arity {
    required: usize,
    most: Option<usize>,
}

/// The arity of a signature such as `gcd(a: int, b: int = 0) -> int`; `None` without one.
fn arity(signature: &str) -> Option<Arity> {
    let params: Vec<String> = call_arguments(signature)?
        .into_iter()
        .filter(|p| !p.is_empty() && p != "self" && p != "/" && p != "*")
        .collect();
    let variadic = params
        .iter()
        .any(|p| p.starts_with('*') || p.starts_with("..."));
    Some(Arity {
        required: params
            .iter()
            .filter(|p| !p.starts_with('*') && !p.starts_with("...") && !p.contains('='))
            .count(),
        most: (!variadic).then_some(params.len()),
    })
}

/// What kind of value a literal argument is: all a probe needs to tell an input of the type
/// the task means from one of another type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Shape {
    Number,
    Text,
    List,
    Map,
    Tuple,
    Bool,
    Nothing,
    Other,
}

fn shape(argument: &str) -> Shape {
    let mut value = argument.trim();
    // A keyword argument (`n=6`) has the shape of its value.
    if let Some((key, rest)) = value.split_once('=')
        && !key.is_empty()
        && key.trim().chars().all(|c| c.is_alphanumeric() || c == '_')
        && !rest.starts_with('=')
    {
        value = rest.trim();
    }
    let unsigned = value.trim_start_matches(['-', '+']);
    match value {
        "True" | "False" | "true" | "false" => return Shape::Bool,
        "None" | "null" | "undefined" => return Shape::Nothing,
        _ => {}
    }
    let first = unsigned.chars().next().unwrap_or(' ');
    let quoted = |s: &str| s.starts_with(['\'', '"', '`']);
    if first.is_ascii_digit() || (first == '.' && unsigned.len() > 1) {
        Shape::Number
    } else if quoted(value) || {
        // A prefixed Python string: r'…', b'…', f'…'.
        let mut chars = value.chars();
        chars.next().is_some_and(|c| "rbfuRBFU".contains(c)) && quoted(chars.as_str())
    } {
        Shape::Text
    } else {
        match first {
            '[' => Shape::List,
            '{' => Shape::Map,
            '(' => Shape::Tuple,
            _ => Shape::Other,
        }
    }
}

/// The arguments between the first `(` and the last `)` (a call's, or a signature's
/// parameters), split at the commas outside brackets and strings; `None` without them.
fn call_arguments(call: &str) -> Option<Vec<String>> {
    let (_, rest) = call.split_once('(')?;
    let (inside, _) = rest.rsplit_once(')')?;
    Some(split_arguments(inside))
}

/// `a, [1, 2], 'x, y'` → `["a", "[1, 2]", "'x, y'"]`; an empty text has no arguments.
fn split_arguments(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut strings = Strings::code();
    for c in text.chars() {
        if strings.inside(c) {
            current.push(c);
            continue;
        }
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(current.trim().to_owned());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() || !out.is_empty() {
        out.push(current.trim().to_owned());
    }
    out.retain(|a| !a.is_empty());
    out
}

/// Keeps the probes that fit the task's function (`signature`). Its calls found in replies
/// with a number of arguments it cannot take are dropped: a test calling `f()` or
/// `f(x, None)` for `f(x)` asks nothing of the task. The plain values are kept only in the
/// shapes the replies call it with, optional arguments left out (`count_evens([3, 1, 2])`,
/// not `count_evens('abc')`): inputs of another type make wrong candidates that accept them
/// agree on noise. When the replies never call it, every plain value stays. Calls of other
/// functions stay as they are.
pub fn fit_probes(signature: &str, calls: Vec<String>, plain: Vec<String>) -> Vec<String> {
    let (Some(name), Some(arity)) = (signature_name(signature), arity(signature)) else {
        return calls.into_iter().chain(plain).collect();
    };
    let of_task = |call: &str| {
        call.split_once('(')
            .is_some_and(|(callee, _)| callee.trim() == name)
    };
    let fits = |arguments: &[String]| {
        arguments.len() >= arity.required && arity.most.is_none_or(|m| arguments.len() <= m)
    };
    let mut shapes: Vec<Vec<Shape>> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    for call in calls {
        if !of_task(&call) {
            out.push(call);
            continue;
        }
        let Some(arguments) = call_arguments(&call) else {
            continue;
        };
        if !fits(&arguments) {
            continue;
        }
        let shaped: Vec<Shape> = arguments.iter().map(|a| shape(a)).collect();
        if !shapes.contains(&shaped) {
            shapes.push(shaped);
        }
        out.push(call);
    }
    for call in plain {
        let shaped: Option<Vec<Shape>> =
            call_arguments(&call).map(|a| a.iter().map(|a| shape(a)).collect());
        if shapes.is_empty() || shaped.is_some_and(|s| shapes.iter().any(|k| k.starts_with(&s))) {
            out.push(call);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_are_calls_with_literal_arguments() {
        let suite = "from solution import *\n\ndef test_a():\n    assert is_even(4) == True\n    x = 3\n    assert is_even(x)\n    assert is_even(n=6)\n    assert is_even(len('ab'))\n    assert is_even(4)\n";
        assert_eq!(
            probes(Language::Python, suite, &["is_even".to_owned()]),
            ["is_even(4)", "is_even(n=6)"]
        );
    }

    #[test]
    fn rust_probes_are_calls_with_literal_arguments_inside_macros_too() {
        let suite = "use solution::*;\n\n#[test]\nfn t() {\n    assert_eq!(max_of_slice(&[3, 1, 2]), 3);\n    assert!(max_of_slice(&vec![-1]) == -1);\n    let v = vec![1, 2];\n    assert_eq!(max_of_slice(&v), 2);\n    let x = max_of_slice(&[i32::MAX]);\n    assert_eq!(v.max_of_slice(&[1]), 1);\n    assert_eq!(max_of_slice(&[len(\"ab\")]), 2);\n}\n\npub fn max_of_slice(numbers: &[i32]) -> i32 {\n    0\n}\n";
        let mut found = probes(Language::Rust, suite, &["max_of_slice".to_owned()]);
        found.sort();
        assert_eq!(
            found,
            [
                "max_of_slice(&[3, 1, 2])",
                "max_of_slice(&[i32::MAX])",
                "max_of_slice(&vec![-1])"
            ]
        );
        let owned = "fn main() { println!(\"{}\", shout(String::from(\"hi\"))); }";
        assert_eq!(
            probes(Language::Rust, owned, &["shout".to_owned()]),
            ["shout(String::from(\"hi\"))"]
        );
    }

    #[test]
    fn probes_come_from_every_block_and_plain_values_fill_in() {
        let reply =
            "```python\ndef is_even(n):\n    return n % 2 == 0\n```\nprint(is_even(5678))\n";
        assert_eq!(
            probes(Language::Python, reply, &["is_even".to_owned()]),
            ["is_even(5678)"]
        );
        let plain = plain_probes(Language::Python, "is_leap_year(year: int) -> bool");
        assert!(
            plain.contains(&"is_leap_year(2024)".to_owned()),
            "{plain:?}"
        );
        assert!(plain_probes(Language::Python, "gcd(a, b)").contains(&"gcd(12, 18)".to_owned()));
        // The kinds come in turn, so the first few probes hold every one.
        assert_eq!(
            plain_probes(Language::Python, "f(x)")[..3],
            ["f(0)", "f('')", "f([])"]
        );
        assert_eq!(
            plain_probes(Language::Python, "f(a, b, c, d)"),
            Vec::<String>::new()
        );
        let js = "```js\nfunction isEven(n) { return n % 2 === 0; }\nconsole.log(isEven(4), isEven(x), isEven([1, 'a']));\n```";
        assert_eq!(
            probes(Language::Javascript, js, &["isEven".to_owned()]),
            ["isEven(4)", "isEven([1, 'a'])"]
        );
    }

    #[test]
    fn probes_fit_the_task_function() {
        let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<String>>();
        // Calls the function cannot take are dropped; plain values keep the shapes the replies
        // pass (lists here), and calls of other functions stay.
        let calls = strings(&[
            "count_evens([1, 2, 3])",
            "count_evens()",
            "count_evens([2], None)",
            "helper('x')",
        ]);
        let plain = plain_probes(Language::Python, "count_evens(numbers: list[int]) -> int");
        let fitted = fit_probes("count_evens(numbers: list[int]) -> int", calls, plain);
        assert_eq!(
            fitted,
            strings(&[
                "count_evens([1, 2, 3])",
                "helper('x')",
                "count_evens([])",
                "count_evens([5])",
                "count_evens([3, 1, 2])",
                "count_evens([-4, 0, 4, 4])",
                "count_evens([1, 2, 3, 4, 5])",
                "count_evens([10, -10])",
                "count_evens([2, 2, 2])",
                "count_evens([7, 3, 9, 1])",
                "count_evens([0])",
                "count_evens([1.5, -2.5])",
                "count_evens(['apple', 'banana', 'apple'])",
            ])
        );
        // Keyword arguments, strings holding commas, defaults and negative numbers.
        let calls = strings(&["power(base=2, exp=-3)", "power('a, b')", "power(2, 3, 4)"]);
        let plain = plain_probes(Language::Python, "power(base, exp=2)");
        let fitted = fit_probes("power(base, exp=2)", calls, plain);
        assert!(
            fitted.contains(&"power(base=2, exp=-3)".to_owned()),
            "{fitted:?}"
        );
        assert!(fitted.contains(&"power('a, b')".to_owned()), "{fitted:?}");
        assert!(!fitted.contains(&"power(2, 3, 4)".to_owned()), "{fitted:?}");
        assert!(fitted.contains(&"power(7)".to_owned()), "{fitted:?}");
        assert!(fitted.contains(&"power('abc')".to_owned()), "{fitted:?}");
        assert!(!fitted.contains(&"power([5])".to_owned()), "{fitted:?}");
        // A list of words and a letter: the plain pairs of that shape stay.
        let signature = "count_starting_with(words, letter)";
        let fitted = fit_probes(
            signature,
            strings(&["count_starting_with(['ab'], 'a')"]),
            plain_probes(Language::Python, signature),
        );
        assert_eq!(
            fitted,
            strings(&[
                "count_starting_with(['ab'], 'a')",
                "count_starting_with(['apple', 'avocado', 'banana'], 'a')",
                "count_starting_with(['x', 'y', 'x'], 'x')",
                "count_starting_with(['Hi', 'ho', 'hey'], 'h')",
            ])
        );
        // With no call of the function in the replies, every plain value stays.
        let plain = plain_probes(Language::Javascript, "isEven(n)");
        assert_eq!(fit_probes("isEven(n)", Vec::new(), plain.clone()), plain);
        // Rest parameters take any number.
        let fitted = fit_probes(
            "sum(...xs)",
            strings(&["sum(1, 2, 3)", "sum()"]),
            Vec::new(),
        );
        assert_eq!(fitted, strings(&["sum(1, 2, 3)", "sum()"]));
    }

    #[test]
    fn rust_plain_probes_are_of_the_signatures_types() {
        let rust = |signature| plain_probes(Language::Rust, signature);
        assert_eq!(
            rust("is_even(n: i64) -> bool"),
            [
                "is_even(0)",
                "is_even(1)",
                "is_even(2)",
                "is_even(7)",
                "is_even(-3)",
                "is_even(10)",
                "is_even(100)"
            ]
        );
        assert!(
            !rust("factorial(n: u64) -> u64")
                .iter()
                .any(|c| c.contains('-'))
        );
        assert_eq!(
            rust("max_of_slice(numbers: &[i32]) -> i32")[..3],
            [
                "max_of_slice(&[])",
                "max_of_slice(&[5])",
                "max_of_slice(&[3, 1, 2])"
            ]
        );
        // Two parameters take their values at different strides, so the pairs vary.
        assert_eq!(
            rust("repeat(s: &str, times: usize) -> String")[..3],
            ["repeat(\"\", 0)", "repeat(\"a\", 2)", "repeat(\"abc\", 10)"]
        );
        assert_eq!(
            rust("join(words: Vec<String>) -> String")[2],
            "join(vec![String::from(\"abc\"), String::from(\"a\"), String::from(\"b\")])"
        );
        // No plain values for a map, a generic type or a method.
        assert!(rust("total(m: &HashMap<String, i32>) -> i32").is_empty());
        assert!(rust("largest<T: PartialOrd>(xs: &[T]) -> T").is_empty());
        assert!(rust("len(&self) -> usize").is_empty());
    }
}
