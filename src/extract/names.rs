//! The function names and signatures a task spells out, and the name in a signature.

/// The function names a task asks for: `def name(`, `fn name(`, `function name(` or a
/// backquoted `` `name(…)` `` in its description, then the plan's signatures.
pub fn wanted_names(description: &str, plan_functions: &[String]) -> Vec<String> {
    let mut out: Vec<String> = named_in(description);
    for f in plan_functions {
        if let Some(name) = signature_name(f)
            && !out.contains(&name)
        {
            out.push(name);
        }
    }
    out
}

/// The signatures a description spells out: `is_even(n)` from "a function `is_even(n)` that…".
pub fn signatures_in(description: &str) -> Vec<String> {
    let mut out = Vec::new();
    for name in named_in(description) {
        let Some(at) = description.find(&format!("{name}(")) else {
            continue;
        };
        let rest = &description[at..];
        let mut depth = 0usize;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                '\n' => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let mut signature = rest[..end].to_owned();
        // "-> i32" after a Rust or Python signature belongs to it.
        let after = rest[end..].trim_start();
        if let Some(ret) = after.strip_prefix("->") {
            let ty: String = ret
                .trim_start()
                .chars()
                .take_while(|c| !matches!(c, '`' | ':' | '\n') && !c.is_whitespace())
                .collect();
            if !ty.is_empty() {
                signature = format!("{signature} -> {ty}");
            }
        }
        out.push(signature);
    }
    out
}

/// Function names a description spells out.
pub fn named_in(description: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = description.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'(' {
            let mut start = i;
            while start > 0
                && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_')
            {
                start -= 1;
            }
            let name = &description[start..i];
            let before = description[..start].trim_end();
            let marked = before.ends_with("def")
                || before.ends_with("fn")
                || before.ends_with("function")
                || description[..start].ends_with('`');
            let word = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
            if marked && word && !out.iter().any(|n| n == name) {
                out.push(name.to_owned());
            }
        }
        i += 1;
    }
    out
}

/// `add` from "def add(a, b):", "pub fn add(a: i32) -> i32", "`add(a, b)`", "add(a, b) -> int".
pub fn signature_name(signature: &str) -> Option<String> {
    let (before, _) = signature.split_once('(')?;
    let name = before
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .rfind(|w| !w.is_empty())?;
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        .then(|| name.to_owned())
}
