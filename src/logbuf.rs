//! The in-memory tail of one workflow's log: whole lines plus the line being streamed.

use std::collections::VecDeque;

/// Lines kept per workflow; older ones are only in `log.txt`.
pub const MAX_LINES: usize = 5_000;
/// Bytes kept per workflow, whatever the lines' lengths.
pub const MAX_BYTES: usize = 512 * 1024;
/// Longest line kept; the rest of a longer one is only in `log.txt`.
pub const MAX_LINE: usize = 4 * 1024;
/// What ends a line cut at [`MAX_LINE`].
const CUT: &str = " … (cut: the whole line is in log.txt)";

#[derive(Debug, Default, Clone)]
pub struct LogBuffer {
    lines: VecDeque<String>,
    /// Bytes in `lines`.
    bytes: usize,
}

impl LogBuffer {
    /// Appends sanitized text; a newline ends the current line.
    pub fn push(&mut self, text: &str) {
        let mut parts = text.split('\n');
        if let Some(first) = parts.next() {
            if self.lines.is_empty() {
                self.lines.push_back(String::new());
            }
            self.extend_last(first);
        }
        for part in parts {
            self.lines.push_back(String::new());
            self.extend_last(part);
        }
        while self.len() > MAX_LINES || (self.bytes > MAX_BYTES && self.lines.len() > 1) {
            if let Some(old) = self.lines.pop_front() {
                self.bytes -= old.len();
            }
        }
    }

    /// Appends to the last line, up to [`MAX_LINE`] bytes.
    fn extend_last(&mut self, text: &str) {
        let Some(last) = self.lines.back_mut() else {
            return;
        };
        if last.len() >= MAX_LINE {
            return;
        }
        let room = MAX_LINE - last.len();
        let before = last.len();
        if text.len() <= room {
            last.push_str(text);
        } else {
            let mut end = room;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            last.push_str(&text[..end]);
            last.push_str(CUT);
        }
        self.bytes += last.len() - before;
    }

    /// Lines, not counting the empty one after a final newline.
    pub fn len(&self) -> usize {
        match self.lines.back() {
            Some(last) if last.is_empty() => self.lines.len() - 1,
            _ => self.lines.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn lines(&self, start: usize, count: usize) -> impl Iterator<Item = &str> {
        self.lines
            .iter()
            .take(self.len())
            .skip(start)
            .take(count)
            .map(String::as_str)
    }
}

/// The last `max_bytes` of a log file, from the first whole line, stripped of control
/// sequences (the file was sanitized when written; stripped again in case it was edited).
pub fn read_tail(path: &std::path::Path, max_bytes: u64) -> std::io::Result<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let start = len.saturating_sub(max_bytes);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::with_capacity((len - start) as usize);
    file.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    // A cut in the middle of a line drops that partial line.
    let text = if start > 0 {
        text.split_once('\n').map_or("", |(_, rest)| rest)
    } else {
        &text
    };
    Ok(crate::sanitize::strip(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_partial_lines() {
        let mut b = LogBuffer::default();
        b.push("def f");
        b.push("():\n    ret");
        b.push("urn 1\n");
        assert_eq!(
            b.lines(0, 10).collect::<Vec<_>>(),
            vec!["def f():", "    return 1"]
        );
        assert_eq!(b.len(), 2);
    }

    #[test]
    fn reads_the_tail_of_a_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("log.txt");
        let text: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&path, &text).unwrap_or_else(|e| panic!("{e}"));
        // As the dashboard has it: the tail arrives as a log event and is pushed.
        let from_file = |max| {
            let mut log = LogBuffer::default();
            log.push(&read_tail(&path, max).unwrap_or_else(|e| panic!("{e}")));
            log
        };
        let whole = from_file(1 << 20);
        assert_eq!(whole.len(), 1000);
        let tail = from_file(100);
        assert!(tail.len() < 20);
        assert_eq!(tail.lines(tail.len() - 1, 1).next(), Some("line 999"));
        assert!(
            tail.lines(0, 1)
                .next()
                .is_some_and(|l| l.starts_with("line ")),
            "no partial first line"
        );
    }

    #[test]
    fn keeps_a_bounded_number_of_bytes_and_cuts_long_lines() {
        let mut b = LogBuffer::default();
        // A 5 MB reply with no newline, streamed in pieces.
        for _ in 0..5_000 {
            b.push(&"é".repeat(500));
        }
        assert_eq!(b.len(), 1);
        let line = b.lines(0, 1).next().unwrap_or_default();
        assert!(
            line.len() <= MAX_LINE + CUT.len() && line.ends_with(CUT),
            "{}",
            line.len()
        );
        b.push("\nnext\n");
        assert_eq!(b.lines(1, 1).next(), Some("next"));
        // Many long lines: the oldest go once the bytes pass the bound.
        for i in 0..1_000 {
            b.push(&format!("{i} {}\n", "x".repeat(3_000)));
        }
        assert!(b.bytes <= MAX_BYTES, "{}", b.bytes);
        assert_eq!(b.bytes, b.lines.iter().map(String::len).sum::<usize>());
        assert!(
            b.lines(b.len() - 1, 1)
                .next()
                .is_some_and(|l| l.starts_with("999 "))
        );
    }

    #[test]
    fn keeps_a_bounded_tail() {
        let mut b = LogBuffer::default();
        for i in 0..MAX_LINES + 10 {
            b.push(&format!("line {i}\n"));
        }
        assert_eq!(b.len(), MAX_LINES);
        assert_eq!(b.lines(0, 1).next(), Some("line 10"));
    }
}
