//! Whether a model-written test checks anything. A test that only calls the code, prints or
//! returns passes with any code that does not crash: measured on a task the project had never
//! seen, `dedupe_keep_order([1, 2, 3, 2, 4, 5])` with no assertion was a suite's one test, and
//! `return sorted(set(items))` completed on it. A test is kept only when one of its assertions
//! (`assert`, `self.assertEqual`, `pytest.raises`, `expect(…)`, `assert.strictEqual`,
//! `assert_eq!`, `#[should_panic]`…) reads a value computed from the code: a call of one of its
//! functions, a variable assigned from one (or passed to one, which may change it), or a helper
//! that asserts on the code.

use crate::language::Language;
use crate::language::syntax::{Checks, Item, Method};
use std::collections::HashSet;

fn reading(language: Language, text: &str) -> Checks {
    (language.syntax().checks)(text)
}

/// Decides which tests check the code: built once per suite from the code's public names and
/// the suite's helpers.
pub(crate) struct Judge<'a> {
    language: Language,
    /// The code's functions, and the helpers that call them (`def run(x): return f(x)`).
    code: HashSet<&'a str>,
    /// Helpers that assert on the code or on their own arguments.
    asserting: HashSet<&'a str>,
}

impl<'a> Judge<'a> {
    pub fn new(language: Language, public: &HashSet<&'a str>, helpers: &'a [Item]) -> Self {
        let mut code: HashSet<&str> = public.clone();
        for h in helpers {
            if let Some(name) = h.name.as_deref()
                && h.calls.iter().any(|c| public.contains(c.as_str()))
            {
                code.insert(name);
            }
        }
        let mut asserting = HashSet::new();
        for h in helpers {
            let Some(name) = h.name.as_deref() else {
                continue;
            };
            let checks = reading(language, &h.text);
            let on_code_or_arguments = checks.sites.iter().any(|site| {
                site.iter()
                    .any(|n| code.contains(n.as_str()) || checks.params.contains(n))
            });
            if on_code_or_arguments {
                asserting.insert(name);
            }
        }
        Self {
            language,
            code,
            asserting,
        }
    }

    fn checked(&self, checks: &Checks) -> bool {
        checks
            .sites
            .iter()
            .any(|site| site.iter().any(|n| self.code.contains(n.as_str())))
            || checks
                .calls
                .iter()
                .any(|c| self.asserting.contains(c.as_str()))
    }

    /// The test, without the methods of a test class that check nothing; `Err` with why when
    /// nothing in it checks the code.
    pub fn test(&self, item: Item) -> Result<(Item, Vec<String>), String> {
        const WHY: &str = "asserts nothing about what the code returns";
        let methods = (self.language.syntax().test_methods)(&item.text);
        if methods.is_empty() {
            return if self.checked(&reading(self.language, &item.text)) {
                Ok((item, Vec::new()))
            } else {
                Err(WHY.to_owned())
            };
        }
        let (kept, idle): (Vec<&Method>, Vec<&Method>) =
            methods.iter().partition(|m| self.checked(&m.checks));
        if kept.is_empty() {
            return Err(WHY.to_owned());
        }
        let mut text = item.text.clone();
        // From the end, so earlier ranges stay where they are.
        for m in idle.iter().rev() {
            if text.get(m.range.clone()).is_some() {
                text.replace_range(m.range.clone(), "");
            }
        }
        let dropped = idle.iter().map(|m| format!("{} ({WHY})", m.name)).collect();
        Ok((Item { text, ..item }, dropped))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge_one(language: Language, suite: &str, public: &[&str]) -> Vec<bool> {
        let public: HashSet<&str> = public.iter().copied().collect();
        let items = super::super::items(language, suite);
        let helpers: Vec<Item> = items
            .iter()
            .filter(|i| {
                i.kind == super::super::Kind::Definition
                    && !i.name.as_deref().is_some_and(|n| public.contains(n))
            })
            .cloned()
            .collect();
        let judge = Judge::new(language, &public, &helpers);
        items
            .into_iter()
            .filter(|i| i.kind == super::super::Kind::Test)
            .map(|t| judge.test(t).is_ok())
            .collect()
    }

    #[test]
    fn python_tests_that_only_call_print_or_return_check_nothing() {
        let suite = r#"
from solution import dedupe_keep_order, digits_to_int

def test_calls_only():
    dedupe_keep_order([1, 2, 3, 2, 4, 5])

def test_prints_and_returns():
    digits = [1, 2, 3]
    print("digits:", digits)
    return digits_to_int(digits)

def test_asserts_a_constant():
    result = 3
    assert result == 3
    assert True

def test_asserts_directly():
    assert dedupe_keep_order([1, 1]) == [1]

def test_asserts_through_a_variable():
    got = digits_to_int([1, 2])
    expected = 12
    assert got == expected

def test_through_two_variables():
    a = dedupe_keep_order([2, 2])
    b = list(a)
    assert len(b) == 1

def test_raises():
    with pytest.raises(TypeError):
        digits_to_int(None)

def test_mutates():
    items = [3, 1, 2]
    dedupe_keep_order(items)
    assert items == [3, 1, 2]

def test_raises_by_hand():
    try:
        digits_to_int(None)
    except TypeError:
        return
    assert False

def test_try_without_a_failure():
    try:
        digits_to_int(None)
    except TypeError:
        pass

def test_keyword_named_like_the_code():
    assert dict(dedupe_keep_order=1) == {"dedupe_keep_order": 1}
"#;
        assert_eq!(
            judge_one(
                Language::Python,
                suite,
                &["dedupe_keep_order", "digits_to_int"]
            ),
            [
                false, false, false, true, true, true, true, true, true, false, false
            ]
        );
    }

    #[test]
    fn python_unittest_methods_and_asserting_helpers() {
        let suite = r#"
import unittest
from solution import add

def check(a, b, want):
    assert add(a, b) == want

def show(a, b):
    print(add(a, b))

def test_via_helper():
    check(1, 2, 3)

def test_via_printing_helper():
    show(1, 2)

class TestAdd(unittest.TestCase):
    def test_equal(self):
        self.assertEqual(add(1, 2), 3)

    def test_silent(self):
        add(1, 2)

    def test_raises(self):
        self.assertRaises(TypeError, add, 1, None)

class TestNothing(unittest.TestCase):
    def test_silent(self):
        add(1, 2)
"#;
        assert_eq!(
            judge_one(Language::Python, suite, &["add"]),
            [true, false, true, false]
        );
        // The class keeps its checking methods only.
        let public: HashSet<&str> = ["add"].into_iter().collect();
        let items = super::super::items(Language::Python, suite);
        let class = items
            .iter()
            .find(|i| i.name.as_deref() == Some("TestAdd"))
            .cloned()
            .unwrap_or_else(|| panic!("no class in {items:?}"));
        let judge = Judge::new(Language::Python, &public, &[]);
        let (mended, dropped) = judge.test(class).unwrap_or_else(|e| panic!("{e}"));
        assert!(mended.text.contains("def test_equal") && mended.text.contains("test_raises"));
        assert!(!mended.text.contains("test_silent"), "{}", mended.text);
        assert_eq!(dropped.len(), 1);
        assert!(super::super::parses(Language::Python, &mended.text));
    }

    #[test]
    fn javascript_tests_need_an_assertion_on_the_code() {
        let suite = r#"
const { add } = require('./solution.js');
test('calls', () => { add(1, 2); });
test('logs', () => { console.log(add(1, 2)); });
test('asserts', () => { assert.strictEqual(add(1, 2), 3); });
test('expects', () => { const r = add(1, 2); expect(r).toBe(3); });
test('throws', () => { assert.throws(() => add()); });
test('constant', () => { assert.ok(true); });
assert.deepStrictEqual(add(2, 2), 4);
"#;
        assert_eq!(
            judge_one(Language::Javascript, suite, &["add"]),
            [false, false, true, true, true, false, true]
        );
    }

    #[test]
    fn rust_tests_need_an_assertion_on_the_code() {
        let suite = r#"
use solution::*;

#[test]
fn calls() { let _ = add(1, 2); }

#[test]
fn prints() { println!("{}", add(1, 2)); }

#[test]
fn asserts() { assert_eq!(add(1, 2), 3); }

#[test]
fn through_a_variable() { let x = add(1, 2); assert!(x == 3); }

#[test]
fn mutated() { let mut v = vec![2, 1]; sort_in_place(&mut v); assert_eq!(v, vec![1, 2]); }

#[test]
#[should_panic]
fn panics() { add_checked(u32::MAX, 1); }

#[test]
fn constant() { assert_eq!(1 + 2, 3); }
"#;
        assert_eq!(
            judge_one(
                Language::Rust,
                suite,
                &["add", "sort_in_place", "add_checked"]
            ),
            [false, false, true, true, true, true, false]
        );
    }
}
