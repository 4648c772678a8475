//! The real `flotilla` binary in a real pseudo-terminal against the real llama.cpp server: type a
//! description, press Enter, type another, press the background hotkey, and read the screen
//! until both workflows show a final state.

mod support;

use std::time::Duration;
use support::llama::LlamaServer;
use support::pty::Pty;

const ROWS: u16 = 36;
const COLS: u16 = 120;

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

    let mut screen = Pty::flotilla(home.path(), ROWS, COLS);

    screen.wait_for("the dashboard", Duration::from_secs(20), |s| {
        s.contains("Background Workflows") && s.contains("New task")
    });
    screen.type_bytes(b"write a function to validate email addresses\r");
    screen.wait_for("the first workflow", Duration::from_secs(20), |s| {
        s.contains("wf_1_")
    });
    // alt-enter: ESC then CR.
    screen.type_bytes(b"create a REST API client for GitHub\x1b\r");
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

    let status = screen.quit(false, Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
}
