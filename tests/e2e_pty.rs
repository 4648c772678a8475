//! The real `flotilla` binary in a real pseudo-terminal against the real llama.cpp server: type a
//! description, press Enter, type another, press the background hotkey, and read the screen
//! until both workflows show a final state.

mod support;

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::llama::LlamaServer;

const ROWS: u16 = 36;
const COLS: u16 = 120;

struct Screen {
    parser: Arc<Mutex<vt100::Parser>>,
    updates: mpsc::Receiver<()>,
}

impl Screen {
    fn text(&self) -> String {
        self.parser
            .lock()
            .map(|p| p.screen().contents())
            .unwrap_or_default()
    }

    /// Waits for the screen to satisfy `done`, re-checking on each output from the program.
    fn wait_for(&self, what: &str, deadline: Duration, done: impl Fn(&str) -> bool) -> String {
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
}

/// Table rows in a final state (the log pane's title also says "completed", so match the icon).
fn final_rows(text: &str) -> usize {
    text.lines()
        .filter(|l| l.starts_with("│✓ wf_") || l.starts_with("│✗ wf_"))
        .filter(|l| l.contains(" completed ") || l.contains(" failed "))
        .count()
}

#[test]
fn dashboard_in_a_real_terminal_runs_foreground_and_background_workflows() {
    let server = LlamaServer::shared();
    let home = tempfile::tempdir().expect("temp home");
    let config = format!(
        "naming_timeout = 60\nmax_attempts = 1\n[providers.local]\nkind = \"openai\"\nbase_url = \"{}\"\nmax_concurrent = 1\n\
         [tiers.veryfast]\nprovider = \"local\"\nmodel = \"smollm2\"\n[tiers.fast]\nprovider = \"local\"\nmodel = \"smollm2\"\nmax_tokens = 120\n",
        server.base_url()
    );
    std::fs::write(home.path().join("config.toml"), config).expect("config");

    let pty = native_pty_system();
    let pair = pty
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("openpty");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_flotilla"));
    cmd.arg("--home");
    cmd.arg(home.path());
    cmd.env("TERM", "xterm-256color");
    let mut child = pair.slave.spawn_command(cmd).expect("spawn flotilla");
    drop(pair.slave);

    let parser = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
    let (tx, updates) = mpsc::channel();
    let mut reader = pair.master.try_clone_reader().expect("pty reader");
    let feed = Arc::clone(&parser);
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut p) = feed.lock() {
                p.process(&buf[..n]);
            }
            let _ = tx.send(());
        }
    });
    let screen = Screen { parser, updates };
    let mut keys = pair.master.take_writer().expect("pty writer");

    screen.wait_for("the dashboard", Duration::from_secs(20), |s| {
        s.contains("Background Workflows") && s.contains("New task")
    });
    keys.write_all(b"write a function to validate email addresses\r")
        .expect("type");
    screen.wait_for("the first workflow", Duration::from_secs(20), |s| {
        s.contains("wf_1_")
    });
    // alt-enter: ESC then CR.
    keys.write_all(b"create a REST API client for GitHub\x1b\r")
        .expect("type");
    let text = screen.wait_for("the background notice", Duration::from_secs(20), |s| {
        s.contains("Started workflow wf_2_")
    });
    assert!(text.contains("wf_2_"), "{text}");

    let text = screen.wait_for("both workflows to end", Duration::from_secs(300), |s| {
        final_rows(s) == 2
    });
    // The log pane still shows the first (foreground) workflow.
    let title = text
        .lines()
        .find(|l| l.contains("(wf_1_"))
        .unwrap_or_default()
        .to_owned();
    assert!(title.contains(" · started "), "{text}");
    assert!(
        text.contains("2 completed") || text.contains("failed"),
        "{text}"
    );

    keys.write_all(b"\x03").expect("ctrl-c");
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done_tx.send(child.wait());
    });
    let status = done_rx.recv_timeout(Duration::from_secs(10));
    let status = status.unwrap_or_else(|_| {
        panic!(
            "flotilla did not exit on ctrl-c; screen:\n{}",
            screen.text()
        )
    });
    assert!(status.map(|s| s.success()).unwrap_or(false));
}
