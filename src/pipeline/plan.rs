//! The overseer's plan: language, files, public functions and edge cases to test. Small models
//! answer loosely, so the reply is read tolerantly and gaps get sensible defaults.

use crate::language::Language;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub language: Language,
    pub code_file: String,
    pub test_file: String,
    /// Public functions with their signatures, as the plan gives them.
    pub functions: Vec<String>,
    /// Edge cases the tests should cover.
    pub edge_cases: Vec<String>,
    /// On a repository: the file the overseer says the code goes in (`File: pkg/slug.py`).
    #[serde(default)]
    pub file: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Default)]
enum Section {
    #[default]
    None,
    Functions,
    EdgeCases,
    Other,
}

impl Plan {
    /// Reads a plan from a loose reply. The language comes from the description if it names one,
    /// else from the reply, else `default`.
    pub fn parse(reply: &str, description: &str, default: Language) -> Self {
        let mut read = Reading::default();
        for raw in reply.lines() {
            read.line(raw);
        }
        let Reading {
            language: reply_language,
            mut functions,
            mut edge_cases,
            file,
            ..
        } = read;
        // Functions the task itself spells out are the API: the overseer's guesses don't replace
        // them.
        let asked = crate::extract::signatures_in(description);
        if !asked.is_empty() {
            functions = asked;
        }
        functions.retain(|f| !f.is_empty());
        edge_cases.retain(|e| !e.is_empty());
        functions.truncate(8);
        edge_cases.truncate(10);
        let language = Language::mentioned_in(description)
            .or(reply_language)
            .unwrap_or(default);
        Self {
            language,
            code_file: language.code_file().to_owned(),
            test_file: language.test_file().to_owned(),
            functions,
            edge_cases,
            file,
        }
    }

    /// The plan as the other prompts and `plan.md` show it.
    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "Language: {}\nFiles: {} (code), {} (tests)\n",
            self.language, self.code_file, self.test_file
        );
        out.push_str("Functions:\n");
        if self.functions.is_empty() {
            out.push_str("- (as the task needs)\n");
        }
        for f in &self.functions {
            out.push_str(&format!("- {f}\n"));
        }
        out.push_str("Edge cases:\n");
        if self.edge_cases.is_empty() {
            out.push_str("- typical inputs, empty input, invalid input\n");
        }
        for e in &self.edge_cases {
            out.push_str(&format!("- {e}\n"));
        }
        out
    }
}

/// Words that start a section of the plan.
const HEADINGS: [&str; 6] = ["language", "function", "signature", "edge", "test", "case"];

fn clean_item(line: &str) -> String {
    let trimmed = line.trim().trim_start_matches(['-', '*', '•']).trim();
    // "1. foo" / "2) foo"
    let trimmed = match trimmed.split_once(['.', ')']) {
        Some((n, rest)) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => rest.trim(),
        _ => trimmed,
    };
    trimmed.trim_matches('`').chars().take(200).collect()
}

fn looks_like_signature(line: &str) -> bool {
    let starts = [
        "def ",
        "fn ",
        "pub fn ",
        "function ",
        "async function ",
        "export function ",
    ];
    starts.iter().any(|s| line.starts_with(s)) && line.contains('(')
}

/// A plan reply as it is read, line by line.
#[derive(Default)]
struct Reading {
    language: Option<Language>,
    functions: Vec<String>,
    edge_cases: Vec<String>,
    file: Option<String>,
    section: Section,
}

impl Reading {
    /// One line of the reply: a heading opens a section (and may hold its first item), a
    /// listed line or a signature is an item of the section it is in.
    fn line(&mut self, raw: &str) {
        let line = raw.trim().trim_start_matches(['#', '*']).trim();
        if line.is_empty() || line.starts_with("```") {
            return;
        }
        let (head, rest) = heading(line);
        if matches!(head.as_str(), "file" | "files" | "path") {
            let path = rest.split_whitespace().next().unwrap_or("");
            let path = path.trim_matches(['`', '"', '\'', ',']);
            if self.file.is_none() && !path.is_empty() {
                self.file = Some(path.to_owned());
            }
            self.section = Section::Other;
            return;
        }
        if head.contains("language") {
            self.language = self.language.or_else(|| Language::mentioned_in(rest));
            self.section = Section::Other;
            return;
        }
        let opens = if head.contains("function") || head.contains("signature") || head == "api" {
            Some(Section::Functions)
        } else if head.contains("edge") || head.contains("test") || head.contains("case") {
            Some(Section::EdgeCases)
        } else {
            None
        };
        if let Some(section) = opens {
            self.section = section;
            if !rest.is_empty() {
                self.item(section, clean_item(rest));
            }
            return;
        }
        if !head.is_empty() && rest.is_empty() {
            self.section = Section::Other;
            return;
        }
        let item = clean_item(line);
        // In a section, list items count; a line of prose ends the section.
        let bare = raw.trim();
        let listed = bare.starts_with(['-', '*', '•'])
            || bare.chars().next().is_some_and(|c| c.is_ascii_digit());
        match self.section {
            Section::Functions if listed || item.contains('(') => self.functions.push(item),
            Section::EdgeCases if listed => self.edge_cases.push(item),
            Section::Functions | Section::EdgeCases => self.section = Section::Other,
            // A signature-looking line outside any section is still a function.
            Section::None | Section::Other if looks_like_signature(&item) => {
                self.functions.push(item)
            }
            _ => {}
        }
    }

    fn item(&mut self, section: Section, item: String) {
        match section {
            Section::Functions => self.functions.push(item),
            Section::EdgeCases => self.edge_cases.push(item),
            Section::None | Section::Other => {}
        }
    }
}

/// A line's heading (lower case, without its marks) and what follows it: "Functions:",
/// "**Edge cases:** …" and a bare "### Functions" heading each name a section; "def add(a,
/// b):" does not (no heading, the whole line).
fn heading(line: &str) -> (String, &str) {
    let lower = line.to_ascii_lowercase();
    let is_heading = |h: &str| {
        h.len() <= 24
            && h.chars()
                .all(|c| c.is_ascii_alphabetic() || " *_".contains(c))
    };
    match lower.split_once(':') {
        Some((h, _)) if is_heading(h) => (
            h.trim().trim_matches('*').trim().to_owned(),
            line[h.len() + 1..].trim(),
        ),
        None if is_heading(&lower) && HEADINGS.iter().any(|k| lower.contains(k)) => {
            (lower.trim_matches('*').trim().to_owned(), "")
        }
        _ => (String::new(), line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_well_formed_plan() {
        let reply = "Language: Python\nFunctions:\n- is_valid_email(address: str) -> bool\nEdge cases:\n- empty string\n- missing @\n";
        let p = Plan::parse(reply, "validate email addresses", Language::Rust);
        assert_eq!(p.language, Language::Python);
        assert_eq!(p.functions, vec!["is_valid_email(address: str) -> bool"]);
        assert_eq!(p.edge_cases, vec!["empty string", "missing @"]);
        assert_eq!(p.code_file, "solution.py");
    }

    #[test]
    fn reads_loose_markdown_plans() {
        let reply = "Sure! Here is the plan.\n\n**Language:** JavaScript\n\n### Functions\n1. `sum(a, b)`\n2. `mean(xs)`\n\n### Tests\n* negative numbers\n* an empty list\n\nGood luck!";
        let p = Plan::parse(reply, "sum numbers", Language::Python);
        assert_eq!(p.language, Language::Javascript);
        assert_eq!(p.functions, vec!["sum(a, b)", "mean(xs)"]);
        assert_eq!(p.edge_cases, vec!["negative numbers", "an empty list"]);
    }

    #[test]
    fn signatures_outside_sections_still_count() {
        let p = Plan::parse(
            "I would write:\ndef add(a, b):\nthat's it",
            "add",
            Language::Python,
        );
        assert_eq!(p.functions, vec!["def add(a, b):"]);
    }

    #[test]
    fn garbage_gets_defaults_and_the_description_wins() {
        let p = Plan::parse(
            "<|im_end|> ??? lorem ipsum",
            "a tetris game in rust",
            Language::Python,
        );
        assert_eq!(p.language, Language::Rust);
        assert!(p.functions.is_empty() && p.edge_cases.is_empty());
        assert_eq!(p.test_file, "tests/solution.rs");
        assert!(p.to_markdown().contains("- typical inputs"));
        let p = Plan::parse("", "sort a list", Language::Javascript);
        assert_eq!(p.language, Language::Javascript);
    }
}
