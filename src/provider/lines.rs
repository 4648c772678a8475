//! Splits a byte stream into lines, whatever the chunk boundaries: `\n`, `\r\n` and a lone `\r`
//! end a line, and a UTF-8 character split across chunks is joined before decoding.

#[derive(Debug, Default)]
pub struct LineBuffer {
    buf: Vec<u8>,
}

impl LineBuffer {
    /// Adds bytes and returns every line they complete, without its terminator.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buf.extend_from_slice(bytes);
        let mut lines = Vec::new();
        let mut start = 0;
        let mut i = 0;
        while i < self.buf.len() {
            match self.buf[i] {
                b'\n' => {
                    lines.push(decode(&self.buf[start..i]));
                    i += 1;
                    start = i;
                }
                b'\r' => {
                    // Wait for the next byte: `\r\n` must count as one line end.
                    if i + 1 == self.buf.len() {
                        break;
                    }
                    lines.push(decode(&self.buf[start..i]));
                    i += if self.buf[i + 1] == b'\n' { 2 } else { 1 };
                    start = i;
                }
                _ => i += 1,
            }
        }
        self.buf.drain(..start);
        lines
    }

    /// Returns the unterminated last line at the end of the stream, if any.
    pub fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.buf);
        let rest = rest.strip_suffix(b"\r").unwrap_or(&rest);
        (!rest.is_empty()).then(|| decode(rest))
    }
}

fn decode(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_lf_crlf_and_cr() {
        let mut b = LineBuffer::default();
        assert_eq!(b.push(b"a\nb\r\nc\rd"), vec!["a", "b", "c"]);
        assert_eq!(b.finish().as_deref(), Some("d"));
    }

    #[test]
    fn crlf_split_across_chunks_is_one_line_end() {
        let mut b = LineBuffer::default();
        assert_eq!(b.push(b"a\r"), Vec::<String>::new());
        assert_eq!(b.push(b"\nb\n"), vec!["a", "b"]);
        assert_eq!(b.finish(), None);
    }

    #[test]
    fn utf8_split_across_chunks_is_joined() {
        let text = "héllo wörld ✓\n".as_bytes();
        let mut b = LineBuffer::default();
        let mut lines = Vec::new();
        for byte in text {
            lines.extend(b.push(std::slice::from_ref(byte)));
        }
        assert_eq!(lines, vec!["héllo wörld ✓"]);
    }
}
