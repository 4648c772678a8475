//! The in-memory tail of one workflow's log: whole lines plus the line being streamed.

use std::collections::VecDeque;

/// Lines kept per workflow; older ones are only in `log.txt`.
pub const MAX_LINES: usize = 5_000;

#[derive(Debug, Default, Clone)]
pub struct LogBuffer {
    lines: VecDeque<String>,
}

impl LogBuffer {
    /// Appends sanitized text; a newline ends the current line.
    pub fn push(&mut self, text: &str) {
        let mut parts = text.split('\n');
        if let Some(first) = parts.next() {
            match self.lines.back_mut() {
                Some(last) => last.push_str(first),
                None => self.lines.push_back(first.to_owned()),
            }
        }
        for part in parts {
            self.lines.push_back(part.to_owned());
        }
        while self.len() > MAX_LINES {
            self.lines.pop_front();
        }
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
    fn keeps_a_bounded_tail() {
        let mut b = LogBuffer::default();
        for i in 0..MAX_LINES + 10 {
            b.push(&format!("line {i}\n"));
        }
        assert_eq!(b.len(), MAX_LINES);
        assert_eq!(b.lines(0, 1).next(), Some("line 10"));
    }
}
