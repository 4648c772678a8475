//! A workflow's log: each line goes, sanitized, both to `workflows/<id>/log.txt` and to the
//! dashboard as an event.

use crate::event::{Event, EventSender, Recorded};
use crate::sanitize::Sanitizer;
use crate::workflow::WorkflowId;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;

pub struct WorkLog {
    id: WorkflowId,
    events: EventSender,
    inner: Mutex<Inner>,
}

struct Inner {
    file: Option<BufWriter<File>>,
    path: std::path::PathBuf,
    sanitizer: Sanitizer,
    /// True when the last text written ended a line.
    at_line_start: bool,
}

impl WorkLog {
    /// Opens (appending) `dir/log.txt`; if it cannot be opened the log still reaches the screen.
    pub fn open(id: WorkflowId, dir: &Path, events: EventSender) -> Self {
        let path = dir.join(crate::workflow::folder::LOG);
        let file = std::fs::create_dir_all(dir)
            .and_then(|_| File::options().create(true).append(true).open(&path))
            .map_err(|e| {
                tracing::warn!(%id, "cannot open log.txt: {e}");
                let _ = events.send(Event::Unrecorded {
                    id: id.clone(),
                    what: Recorded::Log,
                    error: format!("{}: {e}", path.display()),
                });
            })
            .ok()
            .map(BufWriter::new);
        Self {
            id,
            events,
            inner: Mutex::new(Inner {
                file,
                path,
                sanitizer: Sanitizer::new(),
                at_line_start: true,
            }),
        }
    }

    /// A whole line of flotilla's own words.
    pub fn line(&self, text: &str) {
        let mut inner = self.lock();
        let mut out = if inner.at_line_start {
            String::new()
        } else {
            "\n".to_owned()
        };
        out.push_str(&crate::sanitize::strip(text));
        out.push('\n');
        inner.at_line_start = true;
        self.write(&mut inner, out);
    }

    /// Untrusted streamed text (a model's reply, test output), written as it comes.
    pub fn stream(&self, chunk: &str) {
        let mut inner = self.lock();
        let clean = inner.sanitizer.push(chunk);
        if clean.is_empty() {
            return;
        }
        inner.at_line_start = clean.ends_with('\n');
        self.write(&mut inner, clean);
    }

    /// Ends a streamed part, so the next line starts fresh.
    pub fn end_stream(&self) {
        let mut inner = self.lock();
        if !inner.at_line_start {
            inner.at_line_start = true;
            self.write(&mut inner, "\n".to_owned());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self, inner: &mut Inner, text: String) {
        if let Some(file) = &mut inner.file
            && let Err(e) = file.write_all(text.as_bytes()).and_then(|_| file.flush())
        {
            tracing::warn!(id = %self.id, "cannot write log.txt: {e}");
            inner.file = None;
            // Said once; the dashboard still gets the text.
            let _ = self.events.send(Event::Unrecorded {
                id: self.id.clone(),
                what: Recorded::Log,
                error: format!("{}: {e}", inner.path.display()),
            });
        }
        // The dashboard may have quit first (headless runs, shutdown); the file has the text.
        let _ = self.events.send(Event::Log {
            id: self.id.clone(),
            text,
        });
    }
}
