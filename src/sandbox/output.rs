//! A run's output, kept up to a cap and decoded as UTF-8 across chunk boundaries.

/// Output up to a cap, decoded as UTF-8 across chunk boundaries.
pub(super) struct CappedOutput {
    cap: usize,
    kept: usize,
    dropped: usize,
    carry: Vec<u8>,
    pub(super) text: String,
    pub(super) truncated: bool,
}

impl CappedOutput {
    pub(super) fn new(cap: usize) -> Self {
        Self {
            cap,
            kept: 0,
            dropped: 0,
            carry: Vec::new(),
            text: String::new(),
            truncated: false,
        }
    }

    /// Takes a chunk; returns the text it adds, if any.
    pub(super) fn push(&mut self, bytes: &[u8]) -> Option<String> {
        if self.kept >= self.cap {
            self.dropped += bytes.len();
            return None;
        }
        let room = self.cap - self.kept;
        let (take, rest) = bytes.split_at(bytes.len().min(room));
        self.kept += take.len();
        self.dropped += rest.len();
        self.carry.extend_from_slice(take);
        let text = crate::sanitize::take_text(&mut self.carry);
        if !rest.is_empty() || self.kept >= self.cap {
            self.truncated = !rest.is_empty();
        }
        self.text.push_str(&text);
        (!text.is_empty()).then_some(text)
    }

    pub(super) fn finish(&mut self) -> Option<String> {
        let mut tail = String::from_utf8_lossy(&std::mem::take(&mut self.carry)).into_owned();
        if self.dropped > 0 {
            self.truncated = true;
            tail.push_str(&format!(
                "\n[output cut at {} KiB; {} more bytes dropped]\n",
                self.cap >> 10,
                self.dropped
            ));
        }
        self.text.push_str(&tail);
        (!tail.is_empty()).then_some(tail)
    }
}
