//! Literals as a task writes them in its examples: numbers, strings, lists, tuples, dicts,
//! `True`/`None`, measured where they start a text.

use super::Strings;

/// The literal that starts `text`, when nothing computes on it: `1 + 9` or `3 - 0 - 1 = 2`
/// compute, and `""aaa"` runs on into more text.
pub(super) fn lone_literal(text: &str) -> Option<String> {
    let len = literal(text)?;
    let tail = &text[len..];
    if tail.starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '"' || c == '\'') {
        return None;
    }
    let next = tail.trim_start().chars().next();
    if next.is_some_and(|c| "+-*/%=<>&|^@[(".contains(c)) {
        return None;
    }
    Some(text[..len].trim().to_owned())
}

/// The length of the balanced `( … )` at the start of `text`, quotes respected.
pub(super) fn balanced(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut strings = Strings::default();
    for (i, c) in text.char_indices() {
        if strings.inside(c) {
            continue;
        }
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + c.len_utf8());
                }
            }
            '\n' if depth == 0 => return None,
            _ => {}
        }
        if depth == 0 {
            return None;
        }
    }
    None
}

/// Whether `text` is empty or literals separated by commas (a trailing one allowed).
pub(super) fn literal_list(text: &str) -> bool {
    let mut rest = text.trim();
    while !rest.is_empty() {
        let Some(len) = literal(rest) else {
            return false;
        };
        rest = rest[len..].trim_start();
        match rest.strip_prefix(',') {
            Some(r) => rest = r.trim_start(),
            None => return rest.is_empty(),
        }
    }
    true
}

/// The length of the one literal at the start of `text` (after spaces): a number, a string,
/// `True`/`False`/`None` (or `true`/`false`/`null`), or a list, tuple, set or dict of them.
pub(super) fn literal(text: &str) -> Option<usize> {
    let start = text.len() - text.trim_start().len();
    let s = &text[start..];
    let first = s.chars().next()?;
    let len = match first {
        '-' | '+' => {
            let inner = &s[1..];
            if !inner.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
                return None;
            }
            1 + number(inner)?
        }
        '0'..='9' | '.' => number(s)?,
        '"' | '\'' => string(s)?,
        '[' | '(' | '{' => collection(s)?,
        _ => {
            let word: String = s
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            match word.as_str() {
                "True" | "False" | "None" | "true" | "false" | "null" => word.len(),
                _ => return None,
            }
        }
    };
    Some(start + len)
}

fn number(s: &str) -> Option<usize> {
    let mut len = 0;
    let mut digits = 0;
    let mut prev = ' ';
    for c in s.chars() {
        let ok = c.is_ascii_digit()
            || c == '.'
            || c == '_'
            || (matches!(c, 'e' | 'E') && digits > 0)
            || (matches!(c, '+' | '-') && matches!(prev, 'e' | 'E'));
        if !ok {
            break;
        }
        digits += usize::from(c.is_ascii_digit());
        prev = c;
        len += c.len_utf8();
    }
    // `3.` ends a sentence rather than a float.
    if s[..len].ends_with('.') {
        len -= 1;
    }
    (digits > 0).then_some(len)
}

/// The length of the quoted string at the start of `s`, on one line.
fn string(s: &str) -> Option<usize> {
    let mut strings = Strings::default();
    for (i, c) in s.char_indices() {
        if c == '\n' || !strings.inside(c) {
            return None;
        }
        if strings.quote.is_none() {
            return Some(i + c.len_utf8());
        }
    }
    None
}

/// `[a, b]`, `(a, b)`, `{a, b}` or `{k: v, …}` of literals.
fn collection(s: &str) -> Option<usize> {
    let open = s.chars().next()?;
    let close = match open {
        '[' => ']',
        '(' => ')',
        _ => '}',
    };
    let mut at = 1;
    loop {
        let rest = &s[at..];
        let trimmed = rest.trim_start();
        at += rest.len() - trimmed.len();
        if trimmed.starts_with(close) {
            return Some(at + 1);
        }
        at += literal(trimmed)?;
        let rest = s[at..].trim_start();
        at = s.len() - rest.len();
        if open == '{'
            && let Some(r) = rest.strip_prefix(':')
        {
            at += 1;
            at += literal(r)?;
        }
        let rest = s[at..].trim_start();
        at = s.len() - rest.len();
        if let Some(r) = rest.strip_prefix(',') {
            at = s.len() - r.len();
        } else if !rest.starts_with(close) {
            return None;
        }
    }
}
