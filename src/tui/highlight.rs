//! Syntax highlighting for the result view (syntect's bundled grammars, with a dark or a light
//! theme following the dashboard's), turned into ratatui lines as far as they are shown.

use crate::language::Language;
use crate::tui::theme::Syntax;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use std::sync::OnceLock;
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, Theme, ThemeSet};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

/// The grammars, and the dark and the light theme.
fn assets() -> &'static (SyntaxSet, Theme, Theme) {
    static ASSETS: OnceLock<(SyntaxSet, Theme, Theme)> = OnceLock::new();
    ASSETS.get_or_init(|| {
        let syntaxes = SyntaxSet::load_defaults_newlines();
        let mut themes = ThemeSet::load_defaults();
        let mut take = |name: &str| themes.themes.remove(name).unwrap_or_default();
        let dark = take("base16-ocean.dark");
        let light = take("InspiredGitHub");
        (syntaxes, dark, light)
    })
}

/// Sanitized text as styled lines; plain lines when the language has no grammar or colour is
/// off.
pub fn lines(text: &str, language: Option<Language>, colors: Syntax) -> Vec<Line<'static>> {
    let (syntaxes, dark, light) = assets();
    let theme = match colors {
        Syntax::Dark => Some(dark),
        Syntax::Light => Some(light),
        Syntax::None => None,
    };
    let syntax = language.and_then(|l| syntaxes.find_syntax_by_token(l.fence()));
    let (Some(theme), Some(syntax)) = (theme, syntax) else {
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

/// A diff's lines: additions green, removals red, hunk heads cyan, file heads bold; plain when
/// colour is off.
pub fn diff_lines(text: &str, colors: Syntax) -> Vec<Line<'static>> {
    text.lines()
        .map(|line| {
            let style = match colors {
                Syntax::None => Style::default(),
                _ if line.starts_with("+++") || line.starts_with("---") => {
                    Style::default().add_modifier(Modifier::BOLD)
                }
                _ if line.starts_with('+') => Style::default().fg(Color::Green),
                _ if line.starts_with('-') => Style::default().fg(Color::Red),
                _ if line.starts_with("@@") => Style::default().fg(Color::Cyan),
                _ if line.starts_with("diff ") => Style::default().add_modifier(Modifier::BOLD),
                _ => Style::default(),
            };
            Line::styled(line.to_owned(), style)
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
            let lines = lines(code, Some(lang), Syntax::Dark);
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
        assert_eq!(lines("plain\ntext", None, Syntax::Dark).len(), 2);
        // The light theme colours the same code otherwise; NO_COLOR not at all.
        let code = "def add(a, b):\n    return a + b\n";
        let fg = |s: Syntax| -> Vec<_> {
            lines(code, Some(Language::Python), s)
                .iter()
                .flat_map(|l| l.spans.iter().map(|s| s.style.fg))
                .collect()
        };
        assert_ne!(fg(Syntax::Dark), fg(Syntax::Light));
        assert!(fg(Syntax::None).iter().all(Option::is_none));
    }
}
