//! Nothing a model or a server says reaches the terminal as a control sequence: each headless
//! command is fed escape sequences through a scripted server's name and error message, and its
//! output is checked byte by byte.

mod support;

use support::mock::{MockServer, Reply, Wire};

/// A title change, a screen clear, a clipboard write (OSC 52), a charset switch, an 8-bit CSI.
const HOSTILE: &str =
    "\u{1b}]0;pwned-title\u{7}\u{1b}[2J\u{1b}]52;c;cHduZWQ=\u{7}\u{1b}(B\u{9b}31m";

fn flotilla(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    support::harness::run_flotilla(home, args)
}

/// Fails if `bytes` hold ESC, BEL, CSI in either form, or a title payload.
fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for bad in ['\u{1b}', '\u{7}', '\u{9b}', '\u{9d}'] {
        assert!(
            !text.contains(bad),
            "{what} printed {bad:?}: {:?}",
            text.chars().take(400).collect::<String>()
        );
    }
    assert!(!text.contains("pwned"), "{what}: {text}");
}

#[tokio::test]
async fn run_show_logs_and_list_print_no_control_sequences() {
    let server = MockServer::start(Wire::OpenAi, |req, _| {
        if req.is_naming() {
            Reply::text(&format!("{HOSTILE}adds two numbers"))
        } else {
            Reply::Status {
                code: 400,
                headers: Vec::new(),
                body: serde_json::json!({ "error": { "message": format!("bad request {HOSTILE} here") } })
                    .to_string(),
            }
        }
    })
    .await;
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "[providers.local]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:{}/v1\"\nmax_retries = 0\n",
            server.port
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let dir = home.path().to_owned();
    let outputs = tokio::task::spawn_blocking(move || {
        let run = flotilla(&dir, &["run", "write a function that adds two numbers"]);
        let rest: Vec<(String, std::process::Output)> = [
            vec!["show", "1"],
            vec!["show", "1", "--json"],
            vec!["logs", "1"],
            vec!["list"],
            vec!["list", "--json"],
        ]
        .into_iter()
        .map(|args| (args.join(" "), flotilla(&dir, &args)))
        .collect();
        (run, rest)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let (run, rest) = outputs;
    assert_eq!(run.status.code(), Some(1), "the workflow fails");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains("[adds-two-numbers]") && stdout.contains("bad request"),
        "the name and the server's message are there, cleaned: {stdout}"
    );
    assert_clean("run (stdout)", &run.stdout);
    assert_clean("run (stderr)", &run.stderr);
    for (what, out) in rest {
        assert_eq!(out.status.code(), Some(0), "{what}: {out:?}");
        assert!(!out.stdout.is_empty(), "{what} printed nothing");
        assert_clean(&what, &out.stdout);
        assert_clean(&what, &out.stderr);
    }
}
