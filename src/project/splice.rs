//! A candidate for a file that exists already, spliced into it: each definition the candidate
//! holds replaces the file's definition of the same name where it stands, new ones go at the
//! end, and imports the file lacks go after its last import. Everything else in the file stays
//! byte for byte, so the diff shows only what changed, and a reply holding only the new
//! function (what a small model writes) loses none of the file.

use crate::language::Language;
use crate::language::syntax::tree;
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
    let syntax = language.syntax();
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
    let syntax = language.syntax();
    let old = pieces(language, existing);
    let new = pieces(language, candidate);
    let changes = changes(language, &old, &new);
    let mut out = replaced(existing, changes.replacements);
    if !changes.appended.is_empty() {
        out = appended(&out, &changes.appended, syntax.definition_gap);
    }
    if !changes.imports.is_empty() {
        out = with_imports(language, &out, &changes.imports);
    }
    let names: Vec<String> = changes.appended.into_iter().map(|(n, _)| n).collect();
    (syntax.export_new)(existing, &out, &names)
}

/// What a candidate changes in a file.
#[derive(Default)]
struct Changes {
    /// Definitions of names the file has: where the old one stands, the new text.
    replacements: Vec<(Range<usize>, String)>,
    /// Definitions of new names, and their text.
    appended: Vec<(String, String)>,
    /// Imports the file lacks.
    imports: Vec<String>,
}

/// The candidate's pieces sorted into replacements, new definitions and new imports.
fn changes(
    language: Language,
    old: &[(Piece, Range<usize>)],
    new: &[(Piece, Range<usize>)],
) -> Changes {
    let mut changes = Changes::default();
    for (piece, range) in new {
        match piece {
            Piece::Import(text) => {
                let have = old.iter().any(|(p, _)| p == &Piece::Import(text.clone()));
                let own = (language.rules().is_self_import)(text);
                if !have && !own && !changes.imports.contains(text) {
                    changes.imports.push(text.clone());
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
                let text = text.trim_end().to_owned();
                match at {
                    Some(range) => {
                        if !changes.replacements.iter().any(|(r, _)| *r == range) {
                            changes.replacements.push((range, text));
                        }
                    }
                    None => changes.appended.push((name.clone(), text)),
                }
            }
        }
    }
    changes
}

/// The file with each replaced definition's new text where the old one stood.
fn replaced(existing: &str, mut replacements: Vec<(Range<usize>, String)>) -> String {
    let mut out = existing.to_owned();
    // From the end, so earlier ranges stay where they are.
    replacements.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    for (range, text) in &replacements {
        if out.get(range.clone()).is_some() {
            out.replace_range(range.clone(), text);
        }
    }
    out
}

/// New definitions at the end of the file, `gap` apart.
fn appended(file: &str, definitions: &[(String, String)], gap: &str) -> String {
    let mut tail = file.trim_end().to_owned();
    for (_, text) in definitions {
        if !tail.is_empty() {
            tail.push('\n');
            tail.push_str(gap);
        }
        tail.push_str(text);
    }
    tail.push('\n');
    tail
}

/// New imports after the file's last import (whose place the replacements and the tail left
/// alone), else at the top.
fn with_imports(language: Language, file: &str, imports: &[String]) -> String {
    let at = pieces(language, file)
        .iter()
        .filter(|(p, _)| matches!(p, Piece::Import(_)))
        .map(|(_, r)| r.end)
        .max();
    let block = imports.join("\n");
    match at {
        Some(end) => {
            let line_end = file[end..].find('\n').map_or(file.len(), |i| end + i + 1);
            format!("{}{block}\n{}", &file[..line_end], &file[line_end..])
        }
        None => format!("{block}\n{file}"),
    }
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
