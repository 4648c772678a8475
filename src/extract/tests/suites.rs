//! Suites read from replies, bare asserts, a task's examples, and every language's tables.

use super::super::*;
use super::code::py_code;

#[test]
fn tests_taking_arguments_no_runner_passes_are_mended_or_dropped() {
    // Seen in a third of the suites of the eval runs: `def test_f(n):`, which pytest and the
    // fallback runner both call with nothing, so every candidate failed it.
    let public = ["fizzbuzz".to_owned()];
    let reply = "```python\nimport pytest\n\n@pytest.fixture\ndef numbers():\n    return [3]\n\n\
                 def test_unread(test_solution):\n    assert fizzbuzz(3) == 'Fizz'\n\n\
                 def test_typed(n: int, m=2, *rest):\n    assert fizzbuzz(5) == 'Buzz'\n\n\
                 def test_read(n):\n    assert fizzbuzz(n) == 'Fizz'\n\n\
                 def test_fixtures(numbers, capsys):\n    assert fizzbuzz(numbers[0]) == 'Fizz'\n\n\
                 @pytest.mark.parametrize('n', [3, 6])\ndef test_param(n):\n    assert fizzbuzz(n) == 'Fizz'\n```";
    let s = suite(Language::Python, reply, &public)
        .suite
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(s.text.contains("def test_unread():\n"), "{}", s.text);
    assert!(
        s.text.contains("def test_typed(m=2, *rest):\n"),
        "{}",
        s.text
    );
    assert!(!s.text.contains("test_read"), "{}", s.text);
    assert!(s.text.contains("def test_fixtures(numbers, capsys):\n"));
    assert!(s.text.contains("def test_param(n):\n"));
    assert_eq!(
        s.tests,
        ["test_unread", "test_typed", "test_fixtures", "test_param"]
    );
    assert!(
        s.dropped
            .iter()
            .any(|d| d.contains("test_read(n)") && d.contains("takes `n`")),
        "{:?}",
        s.dropped
    );
    let only_read = "```python\ndef test_f(n):\n    assert fizzbuzz(n) == str(n)\n```";
    let refused = suite(Language::Python, only_read, &public).suite;
    assert_eq!(
        refused.map(|s| s.text),
        Err("its tests cannot run (they take arguments no runner passes, or read names nothing defines)".to_owned())
    );
}

#[test]
fn tests_reading_names_nothing_defines_are_dropped() {
    // Seen in a sixth of the suites: a NameError whatever the code does, which was counted
    // as the code failing.
    let public = ["count_char".to_owned()];
    let reply = "```python\nimport math as m\nfrom collections import Counter\nfrom solution import *\n\n\
                 LIMIT = 3\n\ndef helper(x):\n    return x\n\n\
                 def test_unbound():\n    solution = solution_function()\n    assert solution_function == count_char(s, c)\n\n\
                 def test_bound(tmp_path):\n    text = 'abca'\n    for ch in text:\n        n: Unknown = count_char(text, ch)\n        assert n >= 1, f'{ch}'\n    with open(tmp_path / 'f', 'w') as fh:\n        fh.write(str(len(text)))\n    try:\n        pass\n    except ValueError as e:\n        raise e\n    assert [y for y in range(LIMIT) if (z := y)] == [1, 2]\n    assert helper(m.floor(2.5)) == Counter('aab')['a'] == sorted(key=len, iterable=[1]) or True\n    assert count_char('aa', 'a') == 2\n```";
    let s = suite(Language::Python, reply, &public)
        .suite
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.tests, ["test_bound"], "{}", s.text);
    assert!(
        s.dropped.iter().any(|d| d.contains("test_unbound")
            && d.contains("reads `solution_function`, `s`, `c`, which nothing defines")),
        "{:?}",
        s.dropped
    );
    // A star import of another module could define anything: the test stays.
    let star = "```python\nfrom math import *\n\ndef test_f():\n    assert count_char('a', 'a') == floor(1.2)\n```";
    let kept = suite(Language::Python, star, &public).suite;
    assert_eq!(kept.map(|s| s.tests), Ok(vec!["test_f".to_owned()]));
}

#[test]
fn a_suite_gets_the_import_it_forgot() {
    let reading = suite(
        Language::Python,
        "```python\ndef test_max():\n    assert max_of_list([1, 3, 2]) == 3\n```",
        &["max_of_list".to_owned()],
    );
    let s = reading.suite.unwrap_or_else(|e| panic!("{e}"));
    assert!(s.import_added);
    assert!(s.text.starts_with("from solution import *\n"), "{}", s.text);
    assert_eq!(s.tests, ["test_max"]);
}

#[test]
fn a_suite_keeps_tests_drops_implementations_and_idle_tests() {
    let reply = "```python\nfrom my_module import add\nimport pytest\n\n\
                 def add(a, b):\n    return a + b\n\n\
                 def test_add():\n    assert add(1, 2) == 3\n\n\
                 def test_nothing():\n    assert True\n\n\
                 class TestAdd:\n    def test_neg(self):\n        assert add(-1, -1) == -2\n\n\
                 test_add()\n```";
    let reading = suite(Language::Python, reply, &["add".to_owned()]);
    let s = reading.suite.unwrap_or_else(|e| panic!("{e}"));
    assert!(!s.import_added);
    assert!(
        s.text
            .starts_with("from solution import add\nimport pytest\n"),
        "{}",
        s.text
    );
    assert!(!s.text.contains("return a + b"));
    assert!(!s.text.contains("test_nothing"));
    assert_eq!(s.tests, ["test_add", "TestAdd::test_neg"]);
    assert!(parses(Language::Python, &s.text));
    assert!(reading.implementation.is_some());
}

#[test]
fn a_suite_that_calls_nothing_is_unusable() {
    let reading = suite(
        Language::Python,
        "```python\ndef test_truth():\n    assert 1 == 1\n```",
        &["add".to_owned()],
    );
    assert_eq!(
        reading.suite,
        Err("no test calls the code's functions".to_owned())
    );
}

#[test]
fn javascript_suites_get_the_runner_assert_and_code() {
    let reply = "```js\nimport { add } from './add.js';\ntest('adds', () => {\n  assert.strictEqual(add(1, 2), 3);\n});\n```";
    let s = suite(Language::Javascript, reply, &["add".to_owned()])
        .suite
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        s.text.contains("const { test } = require('node:test');"),
        "{}",
        s.text
    );
    assert!(s.text.contains("const assert = require('node:assert');"));
    assert!(
        s.text.contains("const { add } = require('./solution.js');"),
        "{}",
        s.text
    );
    assert_eq!(s.tests, ["adds"]);
    assert!(parses(Language::Javascript, &s.text));
}

#[test]
fn rust_suites_use_the_solution_crate() {
    let reply =
        "```rust\nuse my_lib::add;\n\n#[test]\nfn adds() {\n    assert_eq!(add(1, 2), 3);\n}\n```";
    let s = suite(Language::Rust, reply, &["add".to_owned()])
        .suite
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(s.text.starts_with("use solution::add;\n"), "{}", s.text);
    assert_eq!(s.tests, ["adds"]);
    let bare = suite(
        Language::Rust,
        "#[test]\nfn adds() { assert_eq!(add(1, 2), 3); }",
        &["add".to_owned()],
    )
    .suite
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(bare.import_added && bare.text.contains("use solution::*;"));
}

#[test]
fn bare_asserts_become_one_test_each() {
    let reply = "```python\ndef is_even(n):\n    return n % 2 == 0\n\n# Example usage:\nprint(\"Test Case 1\")\nassert is_even(5678) == True\nassert is_even(3) == False\nassert is_even(3) == False\n```";
    let reading = suite(Language::Python, reply, &["is_even".to_owned()]);
    let s = reading.suite.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.tests, ["test_case_1", "test_case_2"]);
    assert!(
        s.text
            .contains("def test_case_1():\n    assert is_even(5678) == True\n"),
        "{}",
        s.text
    );
    assert!(!s.text.contains("print("));
    assert!(parses(Language::Python, &s.text));
    assert!(reading.implementation.is_some());
    let c = py_code(reply);
    assert!(!c.text.contains("assert"), "{}", c.text);
}

#[test]
fn bare_assertions_in_javascript_and_rust() {
    let js = suite(
        Language::Javascript,
        "assert.strictEqual(add(1, 2), 3);\nassert.ok(add(0, 0) === 0);",
        &["add".to_owned()],
    )
    .suite
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(js.tests, ["case 1", "case 2"]);
    assert!(parses(Language::Javascript, &js.text), "{}", js.text);
    let rs = suite(
        Language::Rust,
        "```rust\nassert_eq!(add(1, 2), 3);\nassert!(add(0, 0) == 0);\n```",
        &["add".to_owned()],
    )
    .suite
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rs.tests, ["case_1", "case_2"]);
    assert!(
        rs.text
            .contains("#[test]\nfn case_1() {\n    assert_eq!(add(1, 2), 3);\n}"),
        "{}",
        rs.text
    );
    assert!(parses(Language::Rust, &rs.text), "{}", rs.text);
}

#[test]
fn doctest_examples_in_a_task_become_asserts() {
    let task = "def add(a, b):\n    \"\"\"Adds.\n    >>> add(1, 2)\n    3\n    >>> print('x')\n    x\n    >>> add(0, 0)\n    \"\"\"";
    assert_eq!(
        task_examples(Language::Python, task, &["add".to_owned()]).as_deref(),
        Some("assert add(1, 2) == 3")
    );
    assert_eq!(
        task_examples(Language::Python, "add two numbers", &["add".to_owned()]),
        None
    );
    // Typed on one line, as the dashboard's input sends it.
    let flat = "def add(a, b): \"\"\"Adds. >>> add(1, [2])   [3]   >>> add(0, 0)  0 \"\"\"";
    assert_eq!(
        task_examples(Language::Python, flat, &["add".to_owned()]).as_deref(),
        Some("assert add(1, [2]) == [3]\nassert add(0, 0) == 0")
    );
}

#[test]
fn a_test_importing_the_code_as_a_package_imports_the_module() {
    // "No module named 'solution.roll_max'; 'solution' is not a package", on HumanEval/9.
    let reply = "```python\nfrom solution.roll_max import roll_max\nfrom os.path import join\n\n\
                 def test_roll():\n    assert roll_max([1, 2]) == [1, 2]\n```";
    let s = suite(Language::Python, reply, &["roll_max".to_owned()])
        .suite
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        s.text
            .starts_with("from solution import roll_max\nfrom os.path import join\n"),
        "{}",
        s.text
    );
}

#[test]
fn a_suite_importing_a_name_the_code_lacks_still_loads() {
    // "ImportError: cannot import name 'word_count' from 'solution'", in a suite for `power`.
    let reply = "```python\nfrom solution import power, word_count\n\n\
                 def test_power():\n    assert power(2, 3) == 8\n```";
    let s = suite(Language::Python, reply, &["power".to_owned()])
        .suite
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(s.text.starts_with("from solution import *\n"), "{}", s.text);
    // Names the code has stay as they were.
    let reply = "```python\nfrom solution import power\n\ndef test_power():\n    assert power(2, 3) == 8\n```";
    let s = suite(Language::Python, reply, &["power".to_owned()])
        .suite
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        s.text.starts_with("from solution import power\n"),
        "{}",
        s.text
    );
}

/// Every registered language is whole: its rules and its syntax agree, so a language added to
/// the registry is checked here once it has a line defining a function to alias. The test writer's
/// example parses in the language's grammar and its tests come out of it as a suite; the
/// example's import is recognised as the code's own; the alias line parses.
#[test]
fn every_registered_language_has_rules_and_syntax_that_agree() {
    for language in Language::ALL {
        let rules = language.rules();
        assert_ne!(rules.code_file, rules.test_file, "{language}");
        let example = rules.test_example;
        let fenced = format!("```{}", language.fence());
        assert!(example.starts_with(&fenced), "{language}: {example}");
        let reading = suite(
            language,
            example,
            &["repeat_word".into(), "repeatWord".into()],
        );
        let found = reading
            .suite
            .unwrap_or_else(|why| panic!("{language}: the example is no suite: {why}"));
        assert_eq!(found.tests.len(), 3, "{language}: {found:?}");
        assert!(parses(language, &found.text), "{language}: {}", found.text);
        let import = sources(example)
            .iter()
            .flat_map(|s| items(language, s))
            .find(|i| i.kind == Kind::Import && is_self_import(language, &i.text));
        assert!(
            import.is_some(),
            "{language}: the example's import of the code"
        );
        let code = format!(
            "{}{}",
            match language {
                Language::Python => "def have(x):\n    return x\n",
                Language::Javascript => "function have(x) { return x; }\n",
                Language::Rust => "pub fn have(x: i32) -> i32 { x }\n",
            },
            (rules.alias_line)("want", "have")
        );
        assert!(parses(language, &code), "{language}: {code}");
        // Its files are found by their extensions, and a task's example is stated in it.
        for extension in rules.extensions {
            let file = format!("src/x.{extension}");
            assert_eq!(Language::of_path(&file), Some(language), "{file}");
        }
        assert!(rules.code_file.ends_with(rules.extensions[0]), "{language}");
        let example = examples::Example {
            call: "have(1)".into(),
            expected: "True".into(),
        };
        let stated = examples::asserts(language, &[example])
            .unwrap_or_else(|| panic!("{language}: the example is not stated"));
        let suite = match language {
            Language::Rust => format!("#[test]\nfn t() {{\n    {stated}\n}}\n"),
            _ => stated.clone(),
        };
        assert!(parses(language, &suite), "{language}: {suite}");
        assert!(stated.contains(rules.literals.yes), "{language}: {stated}");
    }
}
