//! Server-sent events, as OpenAI-compatible servers stream chat completions.

use super::lines::LineBuffer;

/// One dispatched event: its `event:` type (if any) and its joined `data:` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

/// An incremental SSE parser: comments (`:` lines, pings) and unknown fields are skipped.
#[derive(Debug, Default)]
pub struct SseParser {
    lines: LineBuffer,
    event: Option<String>,
    data: Option<String>,
}

impl SseParser {
    /// Feeds bytes; returns the events they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let lines = self.lines.push(bytes);
        let mut events = Vec::new();
        for line in lines {
            self.line(&line, &mut events);
        }
        events
    }

    /// Ends the stream: a last event without its blank line still counts.
    pub fn finish(&mut self) -> Vec<SseEvent> {
        let mut events = Vec::new();
        if let Some(line) = self.lines.finish() {
            self.line(&line, &mut events);
        }
        self.dispatch(&mut events);
        events
    }

    fn line(&mut self, line: &str, events: &mut Vec<SseEvent>) {
        if line.is_empty() {
            self.dispatch(events);
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => {
                let data = self.data.get_or_insert_with(String::new);
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(value);
            }
            "event" => self.event = Some(value.to_owned()),
            _ => {}
        }
    }

    fn dispatch(&mut self, events: &mut Vec<SseEvent>) {
        let event = self.event.take();
        if let Some(data) = self.data.take() {
            events.push(SseEvent { event, data });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(events: &[SseEvent]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    #[test]
    fn parses_events_and_skips_comments() {
        let mut p = SseParser::default();
        let ev = p.push(b": ping\n\ndata: {\"a\":1}\n\n: keep-alive\ndata: [DONE]\n\n");
        assert_eq!(data(&ev), vec!["{\"a\":1}", "[DONE]"]);
    }

    #[test]
    fn handles_crlf_and_multiline_data() {
        let mut p = SseParser::default();
        let ev = p.push(b"event: error\r\ndata: one\r\ndata:two\r\n\r\n");
        assert_eq!(
            ev,
            vec![SseEvent {
                event: Some("error".into()),
                data: "one\ntwo".into()
            }]
        );
    }

    #[test]
    fn any_chunk_boundary_gives_the_same_events() {
        let stream =
            "data: {\"t\":\"héllo\"}\r\n\r\n: ping\r\n\r\ndata: {\"t\":\"✓\"}\n\ndata: [DONE]\n\n";
        let bytes = stream.as_bytes();
        let mut whole = SseParser::default();
        let expected = whole.push(bytes);
        assert_eq!(expected.len(), 3);
        for split in 1..bytes.len() {
            let mut p = SseParser::default();
            let mut got = p.push(&bytes[..split]);
            got.extend(p.push(&bytes[split..]));
            got.extend(p.finish());
            assert_eq!(got, expected, "split at {split}");
        }
    }

    #[test]
    fn last_event_without_blank_line_is_kept() {
        let mut p = SseParser::default();
        assert!(p.push(b"data: tail").is_empty());
        assert_eq!(data(&p.finish()), vec!["tail"]);
    }
}
