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

/// The header's count of a status (`2 queued · 0 naming · …`); 0 when it is not there.
fn header_count(text: &str, word: &str) -> u32 {
    let header = text.lines().next().unwrap_or_default();
    let words: Vec<&str> = header.split_whitespace().collect();
    words
        .windows(2)
        .find(|w| w[1] == word)
        .and_then(|w| w[0].parse().ok())
        .unwrap_or(0)
}

#[test]
fn header_counts_are_read_from_the_first_line() {
    let text = " flotilla  2 queued · 1 naming · 0 running · 1 completed · 3 failed  │ local ● up\n│✓ wf_1_ x completed";
    assert_eq!(header_count(text, "queued"), 2);
    assert_eq!(header_count(text, "completed"), 1);
    assert_eq!(header_count(text, "failed"), 3);
    assert_eq!(header_count(text, "cancelled"), 0);
}

#[test]
fn dashboard_in_a_real_terminal_runs_foreground_and_background_workflows() {
    let server = LlamaServer::shared();
    let home = tempfile::tempdir().expect("temp home");
    let config = format!(
        "naming_timeout = 60\nmax_attempts = 1\ncandidates = 2\ntest_suites = 1\n[providers.local]\nkind = \"openai\"\nbase_url = \"{}\"\nmax_concurrent = 1\n\
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

    let text = screen.wait_for("both workflows to end", Duration::from_secs(600), |s| {
        final_rows(s) == 2
    });
    // The log pane still shows the first (foreground) workflow.
    let title = text
        .lines()
        .find(|l| l.contains("(wf_1_"))
        .unwrap_or_default()
        .to_owned();
    assert!(title.contains(" · started "), "{text}");
    // The header counts both as ended: completed and failed add up to 2.
    let ended: u32 = ["completed", "failed"]
        .iter()
        .map(|word| header_count(&text, word))
        .sum();
    assert_eq!(ended, 2, "{text}");

    let status = screen.quit(false, Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
}
