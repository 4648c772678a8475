//! From token bytes to the text a client sees: whole UTF-8 characters only, and nothing from a
//! stop text on (held back while it could still be the start of one).

/// Turns the pieces of one reply into text to send.
#[derive(Debug, Default)]
pub struct ReplyText {
    /// Bytes of a character split across tokens.
    partial: Vec<u8>,
    /// Text decoded but not sent: it may be the start of a stop text.
    held: String,
    stop: Vec<String>,
    stopped: bool,
}

impl ReplyText {
    pub fn new(stop: Vec<String>) -> Self {
        Self {
            stop: stop.into_iter().filter(|s| !s.is_empty()).collect(),
            ..Self::default()
        }
    }

    /// Adds one token's bytes; returns the text that can be sent now. After a stop text is
    /// seen, [`Self::stopped`] holds and nothing more comes.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        if self.stopped {
            return String::new();
        }
        self.partial.extend_from_slice(bytes);
        let valid = match std::str::from_utf8(&self.partial) {
            Ok(s) => s.len(),
            // Invalid bytes in the middle are replaced; an incomplete character at the end waits.
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => self.partial.len(),
        };
        let rest = self.partial.split_off(valid);
        let decoded = String::from_utf8_lossy(&self.partial).into_owned();
        self.partial = rest;
        self.held.push_str(&decoded);

        if let Some(at) = self
            .stop
            .iter()
            .filter_map(|s| self.held.find(s.as_str()))
            .min()
        {
            self.stopped = true;
            self.held.truncate(at);
            return std::mem::take(&mut self.held);
        }
        // Keep back the longest end of the text that begins some stop text.
        let keep = self
            .stop
            .iter()
            .map(|s| overlap(&self.held, s))
            .max()
            .unwrap_or(0);
        let send = self.held.len() - keep;
        let rest = self.held.split_off(send);
        std::mem::replace(&mut self.held, rest)
    }

    /// Whether a stop text ended the reply.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// What is left at the end of the reply (held text, a cut character as U+FFFD).
    pub fn finish(&mut self) -> String {
        if self.stopped {
            return String::new();
        }
        let mut out = std::mem::take(&mut self.held);
        out.push_str(&String::from_utf8_lossy(&std::mem::take(&mut self.partial)));
        out
    }
}

/// The length of the longest end of `text` that is a proper start of `stop`, on a character
/// boundary.
fn overlap(text: &str, stop: &str) -> usize {
    (1..stop.len().min(text.len() + 1))
        .rev()
        .find(|&n| {
            text.is_char_boundary(text.len() - n)
                && stop.is_char_boundary(n)
                && text.ends_with(&stop[..n])
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stop: &[&str], pieces: &[&[u8]]) -> (String, bool) {
        let mut r = ReplyText::new(stop.iter().map(|s| s.to_string()).collect());
        let mut out = String::new();
        for p in pieces {
            out.push_str(&r.push(p));
        }
        out.push_str(&r.finish());
        (out, r.stopped())
    }

    #[test]
    fn a_character_split_across_tokens_is_sent_whole() {
        let snow = "☃".as_bytes();
        let mut r = ReplyText::new(vec![]);
        assert_eq!(r.push(b"a"), "a");
        assert_eq!(r.push(&snow[..1]), "");
        assert_eq!(r.push(&snow[1..]), "☃");
        // A reply cut inside a character ends with a replacement character.
        assert_eq!(r.push(&snow[..2]), "");
        assert_eq!(r.finish(), "\u{FFFD}");
    }

    #[test]
    fn the_stop_text_and_what_follows_are_never_sent() {
        assert_eq!(
            run(&["```"], &[b"x = 1\n", b"``", b"`\nmore"]),
            ("x = 1\n".to_owned(), true)
        );
        // A stop text inside one piece.
        assert_eq!(run(&["END"], &[b"abcENDdef"]), ("abc".to_owned(), true));
        // The earliest of several.
        assert_eq!(run(&["b", "a"], &[b"xab"]), ("x".to_owned(), true));
    }

    #[test]
    fn held_text_that_turns_out_not_to_stop_is_sent() {
        let mut r = ReplyText::new(vec!["STOP".into()]);
        assert_eq!(r.push(b"ok ST"), "ok ");
        assert_eq!(r.push(b"ART"), "START");
        assert_eq!(r.push(b" ST"), " ");
        assert_eq!(r.finish(), "ST");
        assert!(!r.stopped());
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        assert_eq!(run(&[], &[b"a\xffb"]), ("a\u{FFFD}b".to_owned(), false));
    }
}
