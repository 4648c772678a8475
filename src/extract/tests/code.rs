//! Code read from replies: which blocks, which definitions, what is dropped and renamed.

use super::super::*;

pub(super) fn py_code(reply: &str) -> Code {
    code(Language::Python, reply).unwrap_or_else(|| panic!("no code in {reply:?}"))
}

#[test]
fn a_correct_first_block_beats_a_longer_garbage_one() {
    let reply = "```python\ndef is_even(n):\n    return n % 2 == 0\n```\n\
                 Example:\n```python\nfor i in range(10):\n    print(i, is_even(i))\n    \
                 print('this is a much longer block that used to win')\n    x = [\n```\n";
    let c = py_code(reply);
    assert_eq!(c.text, "def is_even(n):\n    return n % 2 == 0\n");
    assert_eq!(c.names, ["is_even"]);
    assert!(!c.dropped.is_empty());
}

#[test]
fn a_lone_closing_fence_is_never_code() {
    let c = py_code("def add(a, b):\n    return a + b\n```\n");
    assert_eq!(c.text, "def add(a, b):\n    return a + b\n");
    assert!(parses(Language::Python, &c.text));
}

#[test]
fn prose_alone_is_no_code() {
    assert_eq!(
        code(
            Language::Python,
            "The function should return True for even numbers."
        ),
        None
    );
    assert_eq!(
        code(Language::Python, "```python\nprint(is_even(4))\n```"),
        None
    );
    assert_eq!(code(Language::Python, ""), None);
}

#[test]
fn trailing_junk_after_a_function_is_dropped() {
    let reply = "```python\ndef max_of_list(xs):\n    return max(xs)\n\nprint(max_of_list([1, 2]))\nassert max_of_list([3]) ==:\n```";
    let c = py_code(reply);
    assert_eq!(c.text, "def max_of_list(xs):\n    return max(xs)\n");
    assert_eq!(c.dropped.len(), 2, "{:?}", c.dropped);
}

#[test]
fn a_definition_cut_off_before_its_body_is_dropped() {
    // A reply cut off at its token limit right after a signature: Python refuses the whole file
    // ("expected an indented block"), though tree-sitter reads the signature as a definition.
    let reply = "```python\ndef f(x):\n    return x\n\n\ndef g() -> int:\n";
    let c = py_code(reply);
    assert_eq!(c.text, "def f(x):\n    return x\n");
    assert_eq!(c.dropped.len(), 1, "{:?}", c.dropped);
    let commented = "def f(x):\n    return x\n\nclass K:\n    # to do\n";
    assert_eq!(py_code(commented).text, "def f(x):\n    return x\n");
    // The same inside a body: an `if` whose statement sits at its own level.
    let flat = "def f(x):\n    return x\n\ndef g(a, b):\n    if len(a) != len(b):\n    return False\n    return True\n";
    assert_eq!(py_code(flat).text, "def f(x):\n    return x\n");
}

#[test]
fn definitions_come_from_any_block_or_unfenced_text() {
    let reply = "Here you go.\n\nimport math\n\ndef area(r):\n    return math.pi * r * r\n\n\
                 ```python\nPI2 = 2 * 3.14159\ndef circumference(r):\n    return PI2 * r\n\
                 if __name__ == '__main__':\n    print(area(2))\n```";
    let c = py_code(reply);
    assert!(c.text.starts_with("import math\n"), "{}", c.text);
    assert_eq!(c.names, ["circumference", "area"]);
    assert!(c.text.contains("PI2 = 2 * 3.14159"));
    assert!(!c.text.contains("__main__"));
    assert!(parses(Language::Python, &c.text));
}

#[test]
fn constants_that_run_code_are_dropped() {
    let c = py_code(
        "import re\nWORD = re.compile(r'\\w+')\nDATA = open('x').read()\ndef words(s):\n    return WORD.findall(s)\n",
    );
    assert!(c.text.contains("WORD = re.compile"));
    assert!(!c.text.contains("DATA"), "{}", c.text);
}

#[test]
fn example_data_beside_the_functions_is_dropped() {
    // Seen in kept code: the data of an example the reply went on to print.
    let reply = "```python\ndef last_element(items):\n    return items[-1] if items else None\n\n\
                 my_list = [1, 2, 3, 4, 5, 6]\ntext = 'hello'\nprint(last_element(my_list))\n```";
    let c = py_code(reply);
    assert_eq!(
        c.text,
        "def last_element(items):\n    return items[-1] if items else None\n"
    );
    assert_eq!(c.dropped.len(), 3, "{:?}", c.dropped);
    // What a definition reads, names written as constants, values built from other names and
    // dunder names stay.
    let reply = "VOWELS = 'aeiou'\nvowel_set = {'a', 'e'}\nlimit = 10\n__all__ = ['count']\n\
                 def count(s):\n    return sum(c in VOWELS or c in vowel_set for c in s)\n\n\
                 tally = count\n";
    let c = py_code(reply);
    for kept in ["VOWELS =", "vowel_set =", "__all__ =", "tally = count"] {
        assert!(c.text.contains(kept), "{kept} dropped:\n{}", c.text);
    }
    assert!(!c.text.contains("limit"), "{}", c.text);
    // Seen in tmux: the example list named like the parameter, which is no read of it; a
    // default value is.
    let reply = "def count_negatives(numbers):\n    return sum(1 for n in numbers if n < 0)\n\n\
                 numbers = [1, -2, 0]\nscale = 2\ndef times(x, k=scale, *rest, y: int = 0):\n    \
                 return x * k\n";
    let c = py_code(reply);
    assert!(!c.text.contains("numbers = ["), "{}", c.text);
    assert!(c.text.contains("scale = 2"), "{}", c.text);
}

#[test]
fn the_first_clean_definition_of_a_name_wins() {
    let reply =
        "```python\ndef f(x):\n    return x + 1\n```\n```python\ndef f(x):\n    return x + 2\n```";
    assert_eq!(py_code(reply).text, "def f(x):\n    return x + 1\n");
    let broken_first =
        "```python\ndef f(x):\n    return (x +\n```\n```python\ndef f(x):\n    return x + 2\n```";
    assert_eq!(py_code(broken_first).text, "def f(x):\n    return x + 2\n");
}

#[test]
fn a_test_reply_holding_an_implementation_becomes_a_candidate() {
    let reading = suite(
        Language::Python,
        "```python\ndef is_even(n): return n % 2 == 0\n```",
        &["is_even".to_owned()],
    );
    assert_eq!(reading.suite, Err("no test in the reply".to_owned()));
    let implementation = reading
        .implementation
        .unwrap_or_else(|| panic!("no implementation"));
    assert_eq!(implementation.names, ["is_even"]);
}

#[test]
fn an_implementation_from_a_test_reply_leaves_the_suites_import_of_the_code_behind() {
    // Seen in an eval: a right `factorial` taken from a test reply could not compile because it
    // kept the reply's `use solution::*;`, which names the crate it now sits in.
    let cases = [
        (
            Language::Rust,
            "```rust\nuse solution::*;\n\npub fn factorial(n: u64) -> u64 {\n    if n == 0 { 1 } else { n * factorial(n - 1) }\n}\n\n#[test]\nfn zero() {\n    assert_eq!(factorial(0), 1);\n}\n```",
            "factorial",
        ),
        (
            Language::Python,
            "```python\nfrom solution import is_even\nimport math\n\ndef is_even(n):\n    return n % 2 == 0\n\ndef test_even():\n    assert is_even(2)\n```",
            "is_even",
        ),
        (
            Language::Javascript,
            "```javascript\nconst { add } = require('./solution.js');\nfunction add(a, b) { return a + b; }\ntest('adds', () => { expect(add(1, 2)).toBe(3); });\n```",
            "add",
        ),
    ];
    for (language, reply, name) in cases {
        let reading = suite(language, reply, &[name.to_owned()]);
        let code = reading
            .implementation
            .unwrap_or_else(|| panic!("{language:?}: no implementation"));
        assert!(
            !code.text.contains("solution"),
            "{language:?}:\n{}",
            code.text
        );
        assert_eq!(code.names, [name]);
    }
    let python = suite(Language::Python, cases[1].1, &["is_even".to_owned()]);
    let kept = python.implementation.map(|c| c.text).unwrap_or_default();
    assert!(
        kept.starts_with("import math\n"),
        "other imports stay:\n{kept}"
    );
}

#[test]
fn javascript_code_becomes_a_commonjs_module() {
    let reply = "```js\nexport function add(a, b) {\n  return a + b;\n}\nconst double = (x) => x * 2;\nconsole.log(add(1, 2));\nmodule.exports = { add };\n```";
    let c = code(Language::Javascript, reply).unwrap_or_else(|| panic!("no code"));
    assert_eq!(c.names, ["add", "double"]);
    assert!(!c.text.contains("export function"), "{}", c.text);
    assert!(!c.text.contains("console.log"));
    assert!(
        c.text.ends_with("module.exports = { add, double };\n"),
        "{}",
        c.text
    );
    assert!(parses(Language::Javascript, &c.text));
}

#[test]
fn rust_items_are_made_public_and_main_is_dropped() {
    let reply = "```rust\nstruct Point { x: i32, pub y: i32 }\nimpl Point {\n    fn sum(&self) -> i32 { self.x + self.y }\n}\nfn add(a: i32, b: i32) -> i32 { a + b }\nfn main() { println!(\"{}\", add(1, 2)); }\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() {}\n}\n```";
    let c = code(Language::Rust, reply).unwrap_or_else(|| panic!("no code"));
    assert!(
        c.text
            .contains("pub struct Point { pub x: i32, pub y: i32 }"),
        "{}",
        c.text
    );
    assert!(c.text.contains("    pub fn sum(&self)"), "{}", c.text);
    assert!(c.text.contains("pub fn add(a: i32, b: i32)"));
    assert!(!c.text.contains("fn main"));
    assert!(!c.text.contains("mod tests"));
    assert_eq!(c.names, ["Point", "add"]);
    assert!(parses(Language::Rust, &c.text));
}

#[test]
fn names_a_task_asks_for() {
    assert_eq!(
        named_in("Write a function `is_even(n)` that returns whether n is even."),
        ["is_even"]
    );
    assert_eq!(
        named_in(
            "def has_close_elements(numbers, threshold):\n    \"\"\" >>> has_close_elements([1.0], 0.5)\n"
        ),
        ["has_close_elements"]
    );
    assert!(named_in("sum the list (quickly)").is_empty());
    assert_eq!(
        wanted_names(
            "a rust fn gcd(a, b)",
            &["lcm(a: u64, b: u64) -> u64".into(), "def gcd(a, b):".into()]
        ),
        ["gcd", "lcm"]
    );
    assert_eq!(
        signature_name("pub fn add(a: i32) -> i32"),
        Some("add".into())
    );
    assert_eq!(signature_name("no signature here"), None);
}

#[test]
fn sources_are_blocks_then_the_text_outside() {
    let s = sources("intro\n```py\na = 1\n```\nmiddle\n~~~\nb = 2\n");
    assert_eq!(s, ["a = 1\n", "b = 2\n", "intro\nmiddle\n"]);
}

#[test]
fn a_misnamed_function_gets_the_asked_for_name() {
    let mut c = py_code(
        "def factorial_recursive(n):\n    return 1 if n < 2 else n * factorial_recursive(n - 1)\n",
    );
    let note = alias(Language::Python, &mut c, &["factorial".to_owned()]);
    assert_eq!(
        note.as_deref(),
        Some("factorial is an alias of factorial_recursive")
    );
    assert!(c.text.ends_with("\n\nfactorial = factorial_recursive\n"));
    assert!(parses(Language::Python, &c.text));
    // Right name, or two functions: nothing to guess.
    let mut right = py_code("def factorial(n):\n    return 1\n");
    assert_eq!(
        alias(Language::Python, &mut right, &["factorial".to_owned()]),
        None
    );
    let mut two = py_code("def a():\n    pass\ndef b():\n    pass\n");
    assert_eq!(
        alias(Language::Python, &mut two, &["factorial".to_owned()]),
        None
    );
    let mut js = code(Language::Javascript, "function fact(n) { return 1; }")
        .unwrap_or_else(|| panic!("no code"));
    alias(Language::Javascript, &mut js, &["factorial".to_owned()]);
    assert!(
        js.text
            .ends_with("module.exports = { fact };\nmodule.exports.factorial = fact;\n"),
        "{}",
        js.text
    );
    let mut rs =
        code(Language::Rust, "fn fact(n: u64) -> u64 { n }").unwrap_or_else(|| panic!("no code"));
    alias(Language::Rust, &mut rs, &["factorial".to_owned()]);
    assert!(parses(Language::Rust, &rs.text), "{}", rs.text);
}

#[test]
fn signatures_a_task_spells_out() {
    assert_eq!(
        signatures_in("Write a Rust function `factorial(n: u64) -> u64` that returns n!"),
        ["factorial(n: u64) -> u64"]
    );
    assert_eq!(
        signatures_in("Write a function `min_max(numbers)` that returns (a, b)."),
        ["min_max(numbers)"]
    );
    assert!(signatures_in("sort a list").is_empty());
}

#[test]
fn typing_names_used_but_not_imported_get_their_import() {
    let code = py_code(
        "```python\ndef has_close(numbers: List[float], t: float) -> Optional[Tuple[int, int]]:\n    return None\n```",
    );
    assert!(
        code.text
            .starts_with("from typing import List, Optional, Tuple\n"),
        "{}",
        code.text
    );
    // Imported already, defined here, or reached through the module: nothing is added.
    for reply in [
        "```python\nfrom typing import List\n\ndef f(x: List[int]) -> int:\n    return 0\n```",
        "```python\nimport typing\n\ndef f(x: typing.List[int]) -> int:\n    return 0\n```",
        "```python\nclass List:\n    pass\n\ndef f(x: List) -> int:\n    return 0\n```",
        "```python\ndef f(x):\n    return x\n```",
    ] {
        let text = py_code(reply).text;
        assert_eq!(
            text.matches("from typing import").count(),
            reply.matches("from typing import").count(),
            "{text}"
        );
    }
}

#[test]
fn a_huge_reply_is_read_up_to_a_bound() {
    // A right function, then megabytes of a server that ignored max_tokens.
    let filler = "value_1234 = compute(value_1233) + 1\n".repeat(140_000);
    let reply = format!("```python\ndef add(a, b):\n    return a + b\n```\n{filler}");
    let read: usize = sources(&reply).iter().map(String::len).sum();
    assert!(read <= MAX_READ, "{read}");
    let code = code(Language::Python, &reply).unwrap_or_else(|| panic!("no code"));
    assert!(code.text.contains("return a + b"));
}
