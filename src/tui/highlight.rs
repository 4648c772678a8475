//! Syntax highlighting for the result view (syntect's bundled grammars and a dark theme),
//! turned into ratatui lines once per artifact, not per frame.

use crate::language::Language;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use std::sync::OnceLock;
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, Theme, ThemeSet};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

fn assets() -> &'static (SyntaxSet, Theme) {
    static ASSETS: OnceLock<(SyntaxSet, Theme)> = OnceLock::new();
    ASSETS.get_or_init(|| {
        let syntaxes = SyntaxSet::load_defaults_newlines();
        let mut themes = ThemeSet::load_defaults();
        let theme = themes
            .themes
            .remove("base16-ocean.dark")
            .unwrap_or_default();
        (syntaxes, theme)
    })
}

/// Sanitized text as styled lines; plain lines when the language has no grammar.
pub fn lines(text: &str, language: Option<Language>) -> Vec<Line<'static>> {
    let (syntaxes, theme) = assets();
    let syntax = language.and_then(|l| syntaxes.find_syntax_by_token(l.fence()));
    let Some(syntax) = syntax else {
        return text.lines().map(|l| Line::raw(l.to_owned())).collect();
    };
    let mut highlighter = HighlightLines::new(syntax, theme);
    LinesWithEndings::from(text)
        .map(|line| match highlighter.highlight_line(line, syntaxes) {
            Ok(ranges) => Line::from(
                ranges
                    .into_iter()
                    .map(|(style, piece)| {
                        Span::styled(
                            piece.trim_end_matches(['\n', '\r']).to_owned(),
                            convert(style),
                        )
                    })
                    .collect::<Vec<_>>(),
            ),
            Err(_) => Line::raw(line.trim_end_matches(['\n', '\r']).to_owned()),
        })
        .collect()
}

fn convert(style: syntect::highlighting::Style) -> Style {
    let fg = style.foreground;
    let mut out = Style::new().fg(Color::Rgb(fg.r, fg.g, fg.b));
    if style.font_style.contains(FontStyle::BOLD) {
        out = out.add_modifier(Modifier::BOLD);
    }
    if style.font_style.contains(FontStyle::ITALIC) {
        out = out.add_modifier(Modifier::ITALIC);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_each_language_and_keeps_the_text() {
        for (lang, code) in [
            (Language::Python, "def add(a, b):\n    return a + b\n"),
            (
                Language::Javascript,
                "function add(a, b) { return a + b; }\n",
            ),
            (Language::Rust, "pub fn add(a: i64) -> i64 { a }\n"),
        ] {
            let lines = lines(code, Some(lang));
            let text: Vec<String> = lines
                .iter()
                .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
                .collect();
            assert_eq!(text.join("\n") + "\n", code);
            let colors: std::collections::HashSet<_> = lines
                .iter()
                .flat_map(|l| l.spans.iter().map(|s| s.style.fg))
                .collect();
            assert!(colors.len() > 1, "{lang}: no highlighting");
        }
        assert_eq!(lines("plain\ntext", None).len(), 2);
    }
}
