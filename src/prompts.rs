//! The prompt templates shipped in `assets/prompts/`, embedded at build time, and their filling.

pub const PLAN_SYSTEM: &str = include_str!("../assets/prompts/plan_system.md");
pub const PLAN_USER: &str = include_str!("../assets/prompts/plan_user.md");
pub const CODE_SYSTEM: &str = include_str!("../assets/prompts/code_system.md");
pub const CODE_USER: &str = include_str!("../assets/prompts/code_user.md");
pub const CODE_PLAIN_SYSTEM: &str = include_str!("../assets/prompts/code_plain_system.md");
pub const CODE_PLAIN_USER: &str = include_str!("../assets/prompts/code_plain_user.md");
pub const TESTS_SYSTEM: &str = include_str!("../assets/prompts/tests_system.md");
pub const TESTS_USER: &str = include_str!("../assets/prompts/tests_user.md");
pub const FIX_SYSTEM: &str = include_str!("../assets/prompts/fix_system.md");
pub const FIX_USER: &str = include_str!("../assets/prompts/fix_user.md");
pub const REVIEW_SYSTEM: &str = include_str!("../assets/prompts/review_system.md");
pub const REWRITE_TESTS_USER: &str = include_str!("../assets/prompts/rewrite_tests_user.md");

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
                    None => out.push_str(&rest[start..start + 2 + end + 2]),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_keys_once_and_leaves_unknown_ones() {
        let t = "a {{x}} b {{y}} c {{z}}";
        assert_eq!(
            fill(t, &[("x", "{{y}}"), ("y", "2")]),
            "a {{y}} b 2 c {{z}}"
        );
    }

    #[test]
    fn every_template_fills_without_leftovers() {
        let vars: Vec<(&str, &str)> = [
            "description",
            "plan",
            "language",
            "conventions",
            "fence",
            "code_file",
            "test_file",
            "code",
            "tests",
            "output",
            "verdict",
            "example",
            "names",
            "functions",
        ]
        .iter()
        .map(|k| (*k, "v"))
        .collect();
        for t in [
            PLAN_SYSTEM,
            PLAN_USER,
            CODE_SYSTEM,
            CODE_USER,
            CODE_PLAIN_SYSTEM,
            CODE_PLAIN_USER,
            TESTS_SYSTEM,
            TESTS_USER,
            FIX_SYSTEM,
            FIX_USER,
            REVIEW_SYSTEM,
            REWRITE_TESTS_USER,
        ] {
            let filled = fill(t, &vars);
            assert!(!filled.contains("{{"), "{filled}");
        }
    }
}
