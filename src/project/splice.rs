//! A candidate for a file that exists already, spliced into it: each definition the candidate
//! holds replaces the file's definition of the same name where it stands, new ones go at the
//! end, and imports the file lacks go after its last import. Everything else in the file stays
//! byte for byte, so the diff shows only what changed, and a reply holding only the new
//! function (what a small model writes) loses none of the file.

use crate::extract::tree;
use crate::language::Language;
use std::ops::Range;

/// A top-level piece of a file: an import, or a definition and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Import(String),
    Definition {
        name: String,
        text: String,
        /// Where the definition itself starts, after the comments above it.
        own_start: usize,
    },
}

/// The file's pieces with where each stands (a definition's range takes in the comments and
/// attributes right above it).
fn pieces(language: Language, source: &str) -> Vec<(Piece, Range<usize>)> {
    let syntax = crate::extract::syntax(language);
    let Some(parsed) = tree::parse(&(syntax.grammar)(), source) else {
        return Vec::new();
    };
    let root = parsed.root_node();
    let mut cursor = root.walk();
    let nodes: Vec<tree_sitter::Node<'_>> = root.named_children(&mut cursor).collect();
    let mut out = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        if node.has_error() {
            continue;
        }
        // An import (its text) or a definition (its name); anything else stays as it is.
        let Some((import, name)) = (syntax.piece)(*node, source) else {
            continue;
        };
        let mut start = node.start_byte();
        let mut j = i;
        while j > 0
            && matches!(
                nodes[j - 1].kind(),
                "attribute_item" | "line_comment" | "comment"
            )
        {
            j -= 1;
            start = nodes[j].start_byte();
        }
        let range = start..node.end_byte();
        let text = source.get(range.clone()).unwrap_or("").to_owned();
        let piece = if import {
            Piece::Import(text.trim().to_owned())
        } else {
            Piece::Definition {
                name,
                text,
                own_start: node.start_byte(),
            }
        };
        out.push((piece, range));
    }
    out
}

/// `candidate` spliced into `existing` (see the module's comment). A candidate with no
/// definition at all changes nothing.
pub fn splice(language: Language, existing: &str, candidate: &str) -> String {
    let old = pieces(language, existing);
    let new = pieces(language, candidate);
    // Replacements from the end, so earlier ranges stay where they are.
    let mut replacements: Vec<(Range<usize>, String)> = Vec::new();
    let mut appended: Vec<String> = Vec::new();
    let mut imports: Vec<String> = Vec::new();
    for (piece, range) in &new {
        match piece {
            Piece::Import(text) => {
                let have = old.iter().any(|(p, _)| p == &Piece::Import(text.clone()));
                if !have && !imports.contains(text) && !is_self_import(language, text) {
                    imports.push(text.clone());
                }
            }
            Piece::Definition {
                name,
                text,
                own_start,
            } => {
                // The old comments stay unless the candidate brings its own.
                let commented = *own_start > range.start;
                let at = old.iter().find_map(|(p, r)| match p {
                    Piece::Definition {
                        name: n,
                        own_start: o,
                        ..
                    } if n == name => Some(if commented { r.clone() } else { *o..r.end }),
                    _ => None,
                });
                match at {
                    Some(range) => {
                        if !replacements.iter().any(|(r, _)| *r == range) {
                            replacements.push((range, text.trim_end().to_owned()));
                        }
                    }
                    None => appended.push(text.trim_end().to_owned()),
                }
            }
        }
    }
    let mut out = existing.to_owned();
    replacements.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    for (range, text) in &replacements {
        if out.get(range.clone()).is_some() {
            out.replace_range(range.clone(), text);
        }
    }
    if !appended.is_empty() {
        let gap = match language {
            Language::Python => "\n\n",
            _ => "\n",
        };
        let mut tail = out.trim_end().to_owned();
        for text in &appended {
            if !tail.is_empty() {
                tail.push('\n');
                tail.push_str(gap);
            }
            tail.push_str(text);
        }
        tail.push('\n');
        out = tail;
    }
    if !imports.is_empty() {
        // After the last import (whose place the replacements and the tail left alone), else
        // at the top.
        let at = pieces(language, &out)
            .iter()
            .filter(|(p, _)| matches!(p, Piece::Import(_)))
            .map(|(_, r)| r.end)
            .max();
        let block = imports.join("\n");
        out = match at {
            Some(end) => {
                let line_end = out[end..].find('\n').map_or(out.len(), |i| end + i + 1);
                format!("{}{block}\n{}", &out[..line_end], &out[line_end..])
            }
            None => format!("{block}\n{}", out),
        };
    }
    if language == Language::Javascript {
        out = export_new(existing, &out, &appended);
    }
    out
}

/// An import of `solution` (the name the pipeline gives the code) has no place in the file.
fn is_self_import(language: Language, text: &str) -> bool {
    match language {
        Language::Python => text.contains("solution"),
        Language::Javascript => text.contains("./solution"),
        Language::Rust => text.contains("solution::"),
    }
}

/// A JavaScript file's new functions exported beside what it exported before: the
/// candidate's own `module.exports = { … }` was not spliced in (it is no definition).
fn export_new(existing: &str, out: &str, appended: &[String]) -> String {
    let names: Vec<String> = appended
        .iter()
        .flat_map(|t| pieces(Language::Javascript, t))
        .filter_map(|(p, _)| match p {
            Piece::Definition { name, .. } => Some(name),
            Piece::Import(_) => None,
        })
        .filter(|n| !existing.contains(&format!("exports.{n}")))
        .collect();
    if names.is_empty() || !(existing.contains("module.exports") || existing.contains("exports.")) {
        return out.to_owned();
    }
    let mut out = out.trim_end().to_owned();
    for n in names {
        out.push_str(&format!("\nmodule.exports.{n} = {n};"));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXISTING: &str = "\"\"\"Text helpers.\"\"\"\nimport re\n\n# Keep words.\ndef words(s):\n    return s.split()\n\n\ndef shout(s):\n    return s.upper()\n";

    #[test]
    fn a_new_function_is_added_and_the_file_kept() {
        let candidate = "import string\n\ndef slugify(s):\n    return '-'.join(words(s.lower()))\n";
        let out = splice(Language::Python, EXISTING, candidate);
        assert!(
            out.starts_with("\"\"\"Text helpers.\"\"\"\nimport re\nimport string\n\n# Keep words."),
            "{out}"
        );
        assert!(
            out.contains("def shout(s):\n    return s.upper()\n\n\ndef slugify(s):"),
            "{out}"
        );
        assert!(crate::extract::parses(Language::Python, &out));
    }

    #[test]
    fn a_definition_of_the_same_name_replaces_the_old_one_where_it_stood() {
        let candidate = "from solution import *\n\ndef words(s):\n    return s.split(' ')\n\ndef shout(s):\n    return s.upper() + '!'\n";
        let out = splice(Language::Python, EXISTING, candidate);
        assert_eq!(
            out,
            "\"\"\"Text helpers.\"\"\"\nimport re\n\n# Keep words.\ndef words(s):\n    return s.split(' ')\n\n\ndef shout(s):\n    return s.upper() + '!'\n"
        );
        assert_eq!(splice(Language::Python, EXISTING, "x = 1\n"), EXISTING);
    }

    #[test]
    fn javascript_and_rust_splice_the_same_way() {
        let js = "function a() { return 1; }\nmodule.exports = { a };\n";
        let out = splice(
            Language::Javascript,
            js,
            "function b() { return 2; }\nmodule.exports = { b };\n",
        );
        assert!(
            out.contains("function b()") && out.ends_with("module.exports.b = b;\n"),
            "{out}"
        );
        let rs = "/// One.\npub fn one() -> u32 {\n    1\n}\n";
        let out = splice(
            Language::Rust,
            rs,
            "pub fn one() -> u32 {\n    2\n}\npub fn two() -> u32 { 2 }\n",
        );
        assert_eq!(
            out,
            "/// One.\npub fn one() -> u32 {\n    2\n}\n\npub fn two() -> u32 { 2 }\n"
        );
    }
}
