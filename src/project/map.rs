//! A map of the repository for the prompts, as Aider's repository map is: each source file
//! with its top-level definitions and their signatures (read with tree-sitter), the files most
//! relevant to the task first, cut to a budget of characters.

use crate::language::Language;
use crate::language::syntax::tree;
use std::path::Path;

/// One source file and its top-level definitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub signatures: Vec<String>,
}

/// Files read for the map, at most, and the largest read.
const MAX_FILES: usize = 400;
const MAX_FILE_BYTES: u64 = 256 * 1024;

/// The top-level definitions of `source`, one signature each (`def slugify(text: str) -> str`,
/// `class Formatter`, `pub fn parse(input: &str) -> Result<Doc, Error>`).
pub fn signatures(language: Language, source: &str) -> Vec<String> {
    let syntax = language.syntax();
    let Some(parsed) = tree::parse(&(syntax.grammar)(), source) else {
        return Vec::new();
    };
    let kinds = syntax.definitions;
    let root = parsed.root_node();
    let mut cursor = root.walk();
    let mut out = Vec::new();
    for node in root.named_children(&mut cursor) {
        if !kinds.contains(&node.kind()) || node.has_error() {
            continue;
        }
        if let Some(signature) = (syntax.signature)(node, source).filter(|s| !s.is_empty()) {
            out.push(signature);
        }
    }
    out
}

/// Every tracked source file of the repository at `root` and its definitions.
pub fn entries(root: &Path, files: &[String]) -> Vec<Entry> {
    files
        .iter()
        .filter(|f| Language::of_path(f).is_some())
        .take(MAX_FILES)
        .filter_map(|f| {
            let language = Language::of_path(f)?;
            let path = root.join(f);
            let meta = std::fs::metadata(&path).ok()?;
            if meta.len() > MAX_FILE_BYTES {
                return Some(Entry {
                    path: f.clone(),
                    signatures: Vec::new(),
                });
            }
            let text = std::fs::read_to_string(&path).ok()?;
            Some(Entry {
                path: f.clone(),
                signatures: signatures(language, &text),
            })
        })
        .collect()
}

/// Words of a text that can tell files apart: lower case, three letters or more, split at
/// `_`, `-`, `/`, `.` and case changes, without the commonest English words.
fn words(text: &str) -> Vec<String> {
    const COMMON: &[&str] = &[
        "the",
        "and",
        "for",
        "that",
        "with",
        "this",
        "from",
        "into",
        "write",
        "function",
        "returns",
        "return",
        "which",
        "when",
        "each",
        "are",
        "not",
        "add",
        "new",
        "python",
        "rust",
        "javascript",
        "def",
        "pub",
        "class",
        "self",
        "str",
        "int",
        "list",
        "none",
        "true",
        "false",
        "test",
        "tests",
    ];
    let mut out = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in text.chars().chain(std::iter::once(' ')) {
        let boundary = !c.is_alphanumeric() || (c.is_uppercase() && previous_lower);
        if boundary && !word.is_empty() {
            let w = std::mem::take(&mut word);
            if w.len() >= 3 && !COMMON.contains(&w.as_str()) {
                out.push(w);
            }
        }
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        }
        previous_lower = c.is_lowercase();
    }
    out
}

/// The map as prompt text within `budget` characters: files whose paths and definitions share
/// the most words with the task first, each with its signatures; the rest of the files named
/// on one line while room is left.
pub fn render(entries: &[Entry], task: &str, budget: usize) -> String {
    let wanted = words(task);
    let mut ranked: Vec<(usize, &Entry)> = entries
        .iter()
        .map(|e| {
            let mut text = e.path.clone();
            for s in &e.signatures {
                text.push(' ');
                text.push_str(s);
            }
            let have = words(&text);
            let score = wanted.iter().filter(|w| have.contains(w)).count() * 3
                + usize::from(!e.path.contains("test"));
            (score, e)
        })
        .collect();
    // Most relevant first; between equals, the shorter path (closer to the top).
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.path.len().cmp(&b.1.path.len())));
    let mut out = String::new();
    let mut rest = Vec::new();
    for (_, e) in ranked {
        let mut block = format!("{}:\n", e.path);
        for s in &e.signatures {
            block.push_str(&format!("  {s}\n"));
        }
        if out.len() + block.len() <= budget {
            out.push_str(&block);
        } else {
            rest.push(e.path.as_str());
        }
    }
    if !rest.is_empty() {
        let line = format!("(also: {})\n", rest.join(", "));
        if out.len() + line.len() <= budget {
            out.push_str(&line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_of_each_language() {
        let py = "import re\n\n@cache\ndef slugify(text: str,\n            sep: str = '-') -> str:\n    return text\n\nclass Formatter(Base):\n    def f(self):\n        pass\n\nX = 1\n";
        assert_eq!(
            signatures(Language::Python, py),
            [
                "def slugify(text: str, sep: str = '-') -> str",
                "class Formatter(Base)"
            ]
        );
        let js = "const add = (a, b) => a + b;\nfunction mul(a, b) { return a * b; }\nconst X = 3;\nclass Box {}\n";
        assert_eq!(
            signatures(Language::Javascript, js),
            ["const add = (a, b)", "function mul(a, b)", "class Box"]
        );
        let rs = "use std::fmt;\npub fn parse(input: &str) -> Result<u32, String> {\n    Ok(1)\n}\nstruct Doc { a: u32 }\nimpl Doc {\n    fn new() -> Self { Doc { a: 1 } }\n}\n";
        assert_eq!(
            signatures(Language::Rust, rs),
            [
                "pub fn parse(input: &str) -> Result<u32, String>",
                "struct Doc",
                "impl Doc"
            ]
        );
    }

    #[test]
    fn the_files_the_task_names_come_first_within_the_budget() {
        let entries = vec![
            Entry {
                path: "kit/numbers.py".into(),
                signatures: vec!["def clamp(x, lo, hi)".into()],
            },
            Entry {
                path: "kit/text.py".into(),
                signatures: vec![
                    "def slugify(text: str) -> str".into(),
                    "def title_case(s)".into(),
                ],
            },
            Entry {
                path: "tests/test_text.py".into(),
                signatures: vec!["def test_slugify()".into()],
            },
        ];
        let map = render(
            &entries,
            "add a function that turns text into a slug, like slugify",
            1000,
        );
        assert!(map.starts_with("kit/text.py:\n  def slugify"), "{map}");
        let small = render(&entries, "slugify text", 70);
        assert!(small.len() <= 70, "{small}");
        assert!(small.contains("kit/text.py"), "{small}");
        assert_eq!(
            words("camelCase snake_case a-b"),
            ["camel", "case", "snake", "case"]
        );
    }
}
