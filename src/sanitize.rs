//! Strips terminal control sequences from untrusted text (model replies, test output) before it
//! reaches the screen or a log line.

/// Where the stripper stands inside an escape sequence; kept between chunks so a sequence split
/// across two stream chunks is still removed whole.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    Text,
    /// Just saw ESC.
    Escape,
    /// Inside `ESC [ …` until a final byte.
    Csi,
    /// Inside an OSC/DCS/APC/PM/SOS string until BEL or `ESC \`.
    String,
    /// Saw ESC inside a string: a `\` ends it.
    StringEscape,
    /// Saw `\r`: dropped unless a `\n` follows (then the pair is one newline).
    CarriageReturn,
}

/// A streaming stripper: feed it chunks, get back only printable text, `\n` and tabs as spaces.
#[derive(Debug, Default, Clone)]
pub struct Sanitizer {
    state: State,
}

impl Sanitizer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns the printable part of `chunk`, remembering an unfinished escape sequence.
    pub fn push(&mut self, chunk: &str) -> String {
        let mut out = String::with_capacity(chunk.len());
        for c in chunk.chars() {
            self.state = match (self.state, c) {
                (State::Escape, '[') => State::Csi,
                (State::Escape, ']' | 'P' | '_' | '^' | 'X') => State::String,
                // Two-byte sequences such as `ESC c` (reset) or `ESC 7`: drop both.
                (State::Escape, _) => State::Text,
                (State::Csi, '\u{40}'..='\u{7e}') => State::Text,
                (State::Csi, _) => State::Csi,
                (State::String, '\u{7}' | '\u{9c}') => State::Text,
                (State::String, '\u{1b}') => State::StringEscape,
                (State::String, _) => State::String,
                (State::StringEscape, '\\') => State::Text,
                (State::StringEscape, _) => State::String,
                // A lone carriage return would overwrite the line on a terminal, so only the
                // `\r\n` pair survives, as one newline.
                (State::Text | State::CarriageReturn, c) => {
                    match c {
                        '\u{1b}' => State::Escape,
                        '\u{9b}' => State::Csi,
                        '\u{9d}' | '\u{90}' | '\u{9f}' | '\u{9e}' | '\u{98}' => State::String,
                        '\r' => State::CarriageReturn,
                        '\n' => {
                            out.push('\n');
                            State::Text
                        }
                        '\t' => {
                            out.push_str("    ");
                            State::Text
                        }
                        c if c.is_control() => State::Text,
                        // Bidi overrides can make text read differently from what it is.
                        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => State::Text,
                        c => {
                            out.push(c);
                            State::Text
                        }
                    }
                }
            };
        }
        out
    }
}

/// Strips control sequences from a whole string.
pub fn strip(text: &str) -> String {
    Sanitizer::new().push(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_plain_text_and_newlines() {
        assert_eq!(
            strip("def f():\n    return 1\n"),
            "def f():\n    return 1\n"
        );
    }

    #[test]
    fn removes_csi_colors_and_cursor_moves() {
        assert_eq!(strip("\x1b[31mred\x1b[0m \x1b[2J\x1b[10;5Hok"), "red ok");
    }

    #[test]
    fn removes_osc_title_and_hyperlinks() {
        assert_eq!(strip("a\x1b]0;pwned\x07b"), "ab");
        assert_eq!(strip("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\"), "link");
    }

    #[test]
    fn removes_c0_c1_controls_and_bidi() {
        assert_eq!(strip("a\x08b\x07c\u{9b}31md\u{202e}e"), "abcde");
    }

    #[test]
    fn crlf_becomes_newline_and_lone_cr_is_dropped() {
        assert_eq!(strip("a\r\nb\rc"), "a\nbc");
    }

    #[test]
    fn tabs_become_spaces() {
        assert_eq!(strip("\tx"), "    x");
    }

    #[test]
    fn sequence_split_across_chunks_is_removed() {
        let mut s = Sanitizer::new();
        let mut out = s.push("before\x1b[3");
        out += &s.push("1mafter\x1b]0;ti");
        out += &s.push("tle\x07end");
        assert_eq!(out, "beforeafterend");
    }
}
