//! Strips terminal control sequences from untrusted text (model replies, test output, a server's
//! error message) before it reaches the screen, stdout or a log line. The sequences are parsed
//! by `vte` (the parser of Alacritty), so every form ends where a terminal would end it: CSI,
//! OSC, DCS, SOS/PM/APC strings, charset designations such as `ESC ( B`, and their 8-bit C1
//! forms.

/// `text` with every character but ASCII letters, digits and those in `keep` replaced by `_`,
/// for a file name made from it.
pub fn file_name_part(text: &str, keep: &[char]) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || keep.contains(&c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Collects what a terminal would print, and newlines; tabs become spaces.
#[derive(Debug, Default)]
struct Printable {
    text: String,
}

impl vte::Perform for Printable {
    fn print(&mut self, c: char) {
        // Bidi overrides can make text read differently from what it is.
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if !c.is_control() && !bidi {
            self.text.push(c);
        }
    }

    fn execute(&mut self, byte: u8) {
        // A carriage return would overwrite the line on a terminal: `\r\n` keeps its newline
        // and a lone `\r` goes.
        match byte {
            b'\n' => self.text.push('\n'),
            b'\t' => self.text.push_str("    "),
            _ => {}
        }
    }
}

/// A streaming stripper: feed it chunks, get back only printable text, `\n` and tabs as spaces.
/// An escape sequence split across chunks is still removed whole.
#[derive(Default)]
pub struct Sanitizer {
    parser: vte::Parser,
}

impl std::fmt::Debug for Sanitizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sanitizer")
    }
}

impl Sanitizer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns the printable part of `chunk`, remembering an unfinished escape sequence.
    pub fn push(&mut self, chunk: &str) -> String {
        let mut bytes = Vec::with_capacity(chunk.len());
        let mut buf = [0u8; 4];
        for c in chunk.chars() {
            match c {
                // A C1 control is its 7-bit form, ESC and a letter (U+009B is `ESC [`): some
                // terminals obey them even in UTF-8.
                '\u{80}'..='\u{9f}' => bytes.extend_from_slice(&[0x1b, c as u8 - 0x40]),
                c => bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
            }
        }
        let mut out = Printable::default();
        self.parser.advance(&mut out, &bytes);
        out.text
    }
}

/// A writer that lets no control sequence through: what flotilla prints outside the dashboard
/// (`run`, `show`, `logs`, `list`, errors) holds text from models, servers and tests, and goes
/// to a terminal. Newlines stay; a UTF-8 character split across writes is kept whole.
pub struct SafeWriter<W: std::io::Write> {
    inner: W,
    sanitizer: Sanitizer,
    carry: Vec<u8>,
}

impl<W: std::io::Write> SafeWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            sanitizer: Sanitizer::new(),
            carry: Vec::new(),
        }
    }
}

impl<W: std::io::Write> std::io::Write for SafeWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.carry.extend_from_slice(buf);
        let text = take_text(&mut self.carry);
        self.inner
            .write_all(self.sanitizer.push(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Takes the text at the start of `carry` (invalid bytes as U+FFFD), leaving an incomplete
/// UTF-8 character at its end for the bytes that will follow.
pub fn take_text(carry: &mut Vec<u8>) -> String {
    let valid = match std::str::from_utf8(carry) {
        Ok(_) => carry.len(),
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        Err(_) => carry.len(),
    };
    let text = String::from_utf8_lossy(&carry[..valid]).into_owned();
    carry.drain(..valid);
    text
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
    fn charset_designations_and_other_escapes_leave_nothing() {
        assert_eq!(strip("a\x1b(Bb\x1b)0c\x1b#8d\x1bce\x1b7f"), "abcdef");
        assert_eq!(
            strip("x\x1bP1$r0m\x1b\\y\x1b_apc\x1b\\z\x1bXsos\x1b\\w"),
            "xyzw"
        );
        assert_eq!(strip("\u{9d}0;title\u{9c}ok"), "ok");
    }

    #[test]
    fn the_safe_writer_strips_across_writes() {
        use std::io::Write as _;
        let mut out = SafeWriter::new(Vec::new());
        let text = "ok \x1b]52;c;cHduZWQ=\x07✓ done\x1b[2J\n";
        for chunk in text.as_bytes().chunks(3) {
            out.write_all(chunk).unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(String::from_utf8_lossy(&out.inner), "ok ✓ done\n");
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
