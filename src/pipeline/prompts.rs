//! The prompt templates shipped in `assets/prompts/`, embedded at build time, and their filling.

pub const PLAN_SYSTEM: &str = include_str!("../../assets/prompts/plan_system.md");
pub const PLAN_USER: &str = include_str!("../../assets/prompts/plan_user.md");
pub const CODE_SYSTEM: &str = include_str!("../../assets/prompts/code_system.md");
pub const CODE_USER: &str = include_str!("../../assets/prompts/code_user.md");
pub const CODE_PLAIN_SYSTEM: &str = include_str!("../../assets/prompts/code_plain_system.md");
pub const CODE_PLAIN_USER: &str = include_str!("../../assets/prompts/code_plain_user.md");
pub const TESTS_SYSTEM: &str = include_str!("../../assets/prompts/tests_system.md");
pub const TESTS_USER: &str = include_str!("../../assets/prompts/tests_user.md");
pub const FIX_SYSTEM: &str = include_str!("../../assets/prompts/fix_system.md");
pub const FIX_USER: &str = include_str!("../../assets/prompts/fix_user.md");
pub const REVIEW_SYSTEM: &str = include_str!("../../assets/prompts/review_system.md");
pub const REWRITE_TESTS_USER: &str = include_str!("../../assets/prompts/rewrite_tests_user.md");

/// Replaces each `{{key}}` with its value, in one pass, so a value that itself contains
/// `{{…}}` (model output) is never expanded.
pub fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let key = &after[..end];
                match vars.iter().find(|(k, _)| *k == key) {
                    Some((_, value)) => out.push_str(value),
                    None => {
                        // A caller that forgets a key the template uses is a bug the tests
                        // that fill it must catch; a release build leaves the key as it is.
                        debug_assert!(
                            !template_key(key),
                            "the template's {{{{{key}}}}} was given no value"
                        );
                        out.push_str(&rest[start..start + 2 + end + 2])
                    }
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.trim_end().to_owned()
}

/// Whether `{{text}}` is a template key (a lowercase word) rather than braces in prose.
fn template_key(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_lowercase() || c == '_')
}

/// The keys a template uses, in order, each once.
pub fn keys(template: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let key = &after[..end];
        if template_key(key) && !out.contains(&key) {
            out.push(key);
        }
        rest = &after[end + 2..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_keys_once_and_leaves_other_braces() {
        // A value holding `{{y}}` (model output) is not expanded, and braces that are no key
        // stay as they are.
        let t = "a {{x}} b {{y}} c {{ not a key }}";
        assert_eq!(
            fill(t, &[("x", "{{y}}"), ("y", "2")]),
            "a {{y}} b 2 c {{ not a key }}"
        );
    }

    #[test]
    fn each_template_uses_exactly_its_keys() {
        // Written out per template, so a key renamed or mistyped on either side shows here;
        // callers that leave a key out fail in the tests that fill it (`fill` asserts).
        for (template, expected) in [
            (PLAN_SYSTEM, vec![]),
            (PLAN_USER, vec!["description", "context"]),
            (
                CODE_SYSTEM,
                vec!["language", "conventions", "fence", "code_file"],
            ),
            (CODE_USER, vec!["description", "plan", "context"]),
            (CODE_PLAIN_SYSTEM, vec!["language", "conventions", "fence"]),
            (CODE_PLAIN_USER, vec!["description", "names", "context"]),
            (
                TESTS_SYSTEM,
                vec!["language", "code_file", "fence", "example"],
            ),
            (TESTS_USER, vec!["description", "plan", "functions"]),
            (
                FIX_SYSTEM,
                vec!["language", "conventions", "fence", "code_file"],
            ),
            (
                FIX_USER,
                vec![
                    "description",
                    "context",
                    "plan",
                    "code_file",
                    "fence",
                    "code",
                    "test_file",
                    "tests",
                    "output",
                ],
            ),
            (REVIEW_SYSTEM, vec![]),
            (
                REWRITE_TESTS_USER,
                vec![
                    "description",
                    "plan",
                    "test_file",
                    "verdict",
                    "fence",
                    "tests",
                    "output",
                    "functions",
                ],
            ),
        ] {
            assert_eq!(keys(template), expected, "{template}");
        }
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "was given no value")]
    fn a_key_left_out_by_the_caller_is_caught() {
        fill(CODE_USER, &[("description", "d")]);
    }
}
