//! The real `flotilla` binary in a real pseudo-terminal: keys written to it, its screen read
//! through a terminal emulator (vt100), conditions waited on with a deadline, re-checked on
//! each output.

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Pty {
    parser: Arc<Mutex<vt100::Parser>>,
    /// BEL bytes the program wrote (it sets no title, so none ends an OSC sequence).
    pub bells: Arc<std::sync::atomic::AtomicUsize>,
    /// The OSC sequences the program wrote (ended by ST), without their ESC ] and ST:
    /// `52;c;<base64>` for the clipboard, `9;<text>` for a desktop notification.
    pub osc: Arc<Mutex<Vec<String>>>,
    updates: mpsc::Receiver<()>,
    pub keys: Box<dyn Write + Send>,
    pub child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
}

impl Pty {
    /// Starts `flotilla --home HOME` in a terminal of `rows` × `cols`, outside any repository.
    pub fn flotilla(home: &Path, rows: u16, cols: u16) -> Self {
        Self::flotilla_in(home, &std::env::temp_dir(), rows, cols)
    }

    /// Starts `flotilla --home HOME` in the folder `cwd` (a repository: it works on it).
    pub fn flotilla_in(home: &Path, cwd: &Path, rows: u16, cols: u16) -> Self {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_flotilla"));
        cmd.cwd(cwd);
        cmd.arg("--home");
        cmd.arg(home);
        cmd.env("TERM", "xterm-256color");
        // No clipboard program is reachable: copies go through the terminal (OSC 52).
        cmd.env_remove("DISPLAY");
        cmd.env_remove("WAYLAND_DISPLAY");
        let child = pair.slave.spawn_command(cmd).expect("spawn flotilla");
        drop(pair.slave);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let (tx, updates) = mpsc::channel();
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let feed = Arc::clone(&parser);
        let bells = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let rung = Arc::clone(&bells);
        let osc = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&osc);
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            // An OSC sequence may be split across reads: the unfinished one is kept.
            let mut pending: Vec<u8> = Vec::new();
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                pending.extend_from_slice(&buf[..n]);
                while let Some(start) = find(&pending, b"\x1b]") {
                    let Some(len) = find(&pending[start..], b"\x1b\\") else {
                        pending.drain(..start);
                        break;
                    };
                    let sequence = String::from_utf8_lossy(&pending[start + 2..start + len]);
                    if let Ok(mut all) = seen.lock() {
                        all.push(sequence.into_owned());
                    }
                    pending.drain(..start + len + 2);
                }
                if find(&pending, b"\x1b]").is_none() {
                    pending.clear();
                }
                let count = buf[..n].iter().filter(|b| **b == 0x07).count();
                rung.fetch_add(count, std::sync::atomic::Ordering::SeqCst);
                if let Ok(mut p) = feed.lock() {
                    p.process(&buf[..n]);
                }
                let _ = tx.send(());
            }
        });
        let keys = pair.master.take_writer().expect("pty writer");
        Self {
            parser,
            bells,
            osc,
            updates,
            keys,
            child,
            _master: pair.master,
        }
    }

    /// The OSC sequences written so far that start with `prefix` (e.g. "52;c;"), without it.
    pub fn osc(&self, prefix: &str) -> Vec<String> {
        self.osc
            .lock()
            .map(|all| {
                all.iter()
                    .filter_map(|s| s.strip_prefix(prefix).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn text(&self) -> String {
        contents(&self.parser)
    }

    /// Waits for the screen to satisfy `done`, re-checking on each output from the program.
    pub fn wait_for(&self, what: &str, deadline: Duration, done: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + deadline;
        loop {
            let text = self.text();
            if done(&text) {
                return text;
            }
            let left = end.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "timed out waiting for {what}; screen:\n{text}"
            );
            let _ = self.updates.recv_timeout(left);
        }
    }

    /// A mouse event in xterm's SGR encoding, at the 0-based cell (`x`, `y`): `button` 0 is
    /// the left button (pressed, then released), 64 and 65 the wheel up and down.
    pub fn mouse(&mut self, button: u8, x: usize, y: usize) {
        let (col, row) = (x + 1, y + 1);
        let mut bytes = format!("\x1b[<{button};{col};{row}M");
        if button < 64 {
            bytes.push_str(&format!("\x1b[<{button};{col};{row}m"));
        }
        self.type_bytes(bytes.as_bytes());
    }

    /// The 0-based cell where `needle` first appears on the screen.
    pub fn find(&self, needle: &str) -> Option<(usize, usize)> {
        self.text().lines().enumerate().find_map(|(y, line)| {
            line.find(needle)
                .map(|byte| (line[..byte].chars().count(), y))
        })
    }

    pub fn type_bytes(&mut self, bytes: &[u8]) {
        self.keys.write_all(bytes).expect("type");
        self.keys.flush().expect("flush");
    }

    /// Presses ctrl-c (and `y` when live workflows make the dashboard ask) and waits for the
    /// program to exit; its exit status.
    pub fn quit(mut self, live: bool, deadline: Duration) -> portable_pty::ExitStatus {
        self.type_bytes(b"\x03");
        if live {
            self.wait_for("the quit question", Duration::from_secs(10), |s| {
                s.contains("Quit and cancel them?")
            });
            self.type_bytes(b"y");
        }
        self.wait_exit(deadline)
    }

    /// Waits for the program to exit; its exit status.
    pub fn wait_exit(self, deadline: Duration) -> portable_pty::ExitStatus {
        let (done_tx, done_rx) = mpsc::channel();
        let mut child = self.child;
        std::thread::spawn(move || {
            let _ = done_tx.send(child.wait());
        });
        match done_rx.recv_timeout(deadline) {
            Ok(Ok(status)) => status,
            other => panic!(
                "flotilla did not exit ({other:?}); screen:\n{}",
                contents(&self.parser)
            ),
        }
    }
}

fn contents(parser: &Arc<Mutex<vt100::Parser>>) -> String {
    parser
        .lock()
        .map(|p| p.screen().contents())
        .unwrap_or_default()
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
