//! The real `flotilla` binary in a real pseudo-terminal against a scripted server: input
//! bursts and the controls that need a terminal to be believed.

mod support;

use flotilla::home::Home;
use flotilla::store::db::Db;
use std::time::Duration;
use support::harness::home_for;
use support::mock::{MockServer, Reply, Wire, named_then};
use support::pty::Pty;

const TASKS: usize = 300;

/// flotilla's dashboard on `home` in a 120 × 36 terminal, once it has drawn itself.
fn dashboard(home: &std::path::Path) -> Pty {
    let pty = Pty::flotilla(home, 36, 120);
    pty.wait_for("the dashboard", Duration::from_secs(20), |s| {
        s.contains("New task")
    });
    pty
}

/// 300 tasks typed in one write, each sent to the background with ctrl-g: every one starts.
/// (crossterm's edge-triggered reader once stopped after the first 1 KiB read of a burst and
/// left the rest on the tty until the next key.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_tasks_typed_in_one_burst_all_start() {
    let server = MockServer::start(Wire::OpenAi, named_then(Reply::Stall)).await;
    let home = home_for(&server);
    let path = home.path().to_owned();
    let db_file = Home::at(&path).db_file;
    tokio::task::spawn_blocking(move || {
        let mut pty = dashboard(&path);
        let burst: Vec<u8> = (1..=TASKS)
            .flat_map(|n| format!("task number {n}\x07").into_bytes())
            .collect();
        pty.type_bytes(&burst);
        let last = format!("Started workflow wf_{TASKS}_");
        pty.wait_for("the last task to start", Duration::from_secs(60), |s| {
            s.contains(&last)
        });
        let status = pty.quit(true, Duration::from_secs(30));
        assert!(status.success(), "{status:?}");
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let db = Db::open(&db_file).unwrap_or_else(|e| panic!("{e}"));
    let all = db.load().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(all.len(), TASKS);
    for (n, wf) in all.iter().enumerate() {
        assert_eq!(wf.description, format!("task number {}", n + 1));
    }
}

/// SIGTERM (a service manager, `kill`) ends the dashboard as a confirmed quit does: live
/// workflows are cancelled and that is recorded; the exit status says which signal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_the_dashboard_and_records_the_cancels() {
    let server = MockServer::start(Wire::OpenAi, named_then(Reply::Stall)).await;
    let home = home_for(&server);
    let path = home.path().to_owned();
    let db_file = Home::at(&path).db_file;
    tokio::task::spawn_blocking(move || {
        let mut pty = dashboard(&path);
        pty.type_bytes(b"write a function to reverse a list\r");
        pty.wait_for("the plan request", Duration::from_secs(20), |s| {
            s.contains("Consulting overseer")
        });
        let pid = pty.child.process_id().expect("pid");
        // SAFETY: signals the child this test started.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
        let status = pty.wait_exit(Duration::from_secs(30));
        assert_eq!(status.exit_code(), 143, "{status:?}");
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let db = Db::open(&db_file).unwrap_or_else(|e| panic!("{e}"));
    let all = db.load().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(all.len(), 1);
    assert_eq!(
        all[0].error().as_deref(),
        Some("cancelled at exit"),
        "{:?}",
        all[0]
    );
}

/// A workflow another flotilla process starts on the same home shows in an open dashboard,
/// live, and its ending gets the design's one-line notice, with the bell when configured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_run_by_another_process_shows_live_and_is_announced() {
    let server = MockServer::start(Wire::OpenAi, support::mock::namer_and_coder).await;
    let home = home_for(&server);
    let config = home.path().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap_or_default();
    let notified = home.path().join("notified.txt");
    std::fs::write(
        &config,
        format!(
            "bell = true\ndesktop_notifications = true\nnotify_command = 'printf \"%s %s %s\\n\" \"$FLOTILLA_NAME\" \"$FLOTILLA_STATUS\" \"$FLOTILLA_DIR\" >> {}'\n{text}",
            notified.display()
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let path = home.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let pty = dashboard(&path);
        let run = std::process::Command::new(env!("CARGO_BIN_EXE_flotilla"))
            // Outside any repository: flotilla would work on the one it starts in.
            .current_dir(std::env::temp_dir())
            .arg("--home")
            .arg(&path)
            .args(["run", "write a function to validate email addresses"])
            .output()
            .expect("flotilla run");
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stdout)
        );
        let text = pty.wait_for(
            "the other process's workflow and its notice",
            Duration::from_secs(20),
            |s| s.contains("wf_1_") && s.contains("✓ [email-validator] Completed in"),
        );
        assert!(text.contains("completed"), "{text}");
        let bells = std::sync::Arc::clone(&pty.bells);
        pty.wait_for("the bell", Duration::from_secs(10), |_| {
            bells.load(std::sync::atomic::Ordering::SeqCst) >= 1
        });
        pty.wait_for("the desktop notification", Duration::from_secs(10), |_| {
            !pty.osc("9;").is_empty()
        });
        let shown = pty.osc("9;");
        assert!(
            shown.len() == 1 && shown[0].starts_with("flotilla: email-validator Completed in "),
            "{shown:?}"
        );
        pty.wait_for("notify_command", Duration::from_secs(10), |_| {
            std::fs::read_to_string(&notified).is_ok_and(|t| t.ends_with('\n'))
        });
        let line = std::fs::read_to_string(&notified).unwrap_or_default();
        assert!(
            line.starts_with("email-validator completed ") && line.contains("/workflows/wf_1_"),
            "{line}"
        );
        let status = pty.quit(false, Duration::from_secs(20));
        assert!(status.success(), "{status:?}");
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
}

/// Deleting and copying a folder's path go through the loop's background jobs: the notice
/// comes back from them, and the deletion reaches the history and the disk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_and_copy_path_are_carried_out_off_the_loop() {
    let server = MockServer::start(Wire::OpenAi, named_then(Reply::Stall)).await;
    let home = home_for(&server);
    let path = home.path().to_owned();
    let paths = Home::at(&path);
    let db_file = paths.db_file.clone();
    let workflows_dir = paths.workflows_dir.clone();
    let folders = workflows_dir.clone();
    tokio::task::spawn_blocking(move || {
        let mut pty = dashboard(&path);
        pty.type_bytes(b"write a function to validate email addresses\r");
        pty.wait_for("the workflow to run", Duration::from_secs(20), |s| {
            s.contains("wf_1_") && s.contains("running")
        });
        // Table focus, cancel it, then copy its path and delete it.
        pty.type_bytes(b"\t");
        pty.type_bytes(b"c");
        pty.wait_for("the cancel", Duration::from_secs(20), |s| {
            s.contains("cancelled")
        });
        pty.type_bytes(b"y");
        // No clipboard program here: the terminal is asked to copy (OSC 52), as over SSH.
        pty.wait_for("the path's notice", Duration::from_secs(20), |s| {
            s.contains("(through the terminal: OSC 52)")
        });
        pty.wait_for("the clipboard write", Duration::from_secs(20), |_| {
            !pty.osc("52;c;").is_empty()
        });
        let sent = pty.osc("52;c;");
        use base64::Engine as _;
        let copied = base64::engine::general_purpose::STANDARD
            .decode(&sent[0])
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_else(|e| panic!("{e}: {sent:?}"));
        assert!(
            copied.starts_with(&format!("{}/wf_1_", folders.display())),
            "{copied}"
        );
        pty.type_bytes(b"d");
        pty.wait_for("the question", Duration::from_secs(20), |s| {
            s.contains("Delete workflow?")
        });
        pty.type_bytes(b"y");
        pty.wait_for("the deletion's notice", Duration::from_secs(20), |s| {
            s.contains("Deleted wf_1_")
        });
        let status = pty.quit(false, Duration::from_secs(30));
        assert!(status.success(), "{status:?}");
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let db = Db::open(&db_file).unwrap_or_else(|e| panic!("{e}"));
    assert!(db.load().unwrap_or_else(|e| panic!("{e}")).is_empty());
    let left = std::fs::read_dir(&workflows_dir)
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(left, 0, "the folder is gone");
}

/// The mouse in a real terminal: a click selects a row, the wheel moves the selection and
/// scrolls, a click on a result tab shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mouse_selects_rows_scrolls_and_picks_result_tabs() {
    let server = MockServer::start(Wire::OpenAi, named_then(Reply::Stall)).await;
    let home = home_for(&server);
    let path = home.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let mut pty = dashboard(&path);
        for task in ["first task", "second task", "third task"] {
            pty.type_bytes(format!("{task}\x07").as_bytes());
        }
        pty.wait_for("three rows", Duration::from_secs(20), |s| {
            s.contains("wf_3_")
        });
        // The line over the log names the selected workflow.
        let selected = |s: &str, n: usize| {
            s.lines()
                .any(|l| l.contains(&format!("(wf_{n}_")) && l.contains(" · "))
        };
        pty.wait_for("the first to be selected", Duration::from_secs(10), |s| {
            selected(s, 1)
        });
        let (x, y) = pty.find("wf_3_").expect("the third row");
        pty.mouse(0, x, y);
        pty.wait_for("the click to select wf_3", Duration::from_secs(10), |s| {
            selected(s, 3)
        });
        let (x, y) = pty.find("wf_1_").expect("the first row");
        pty.mouse(64, x, y);
        pty.wait_for(
            "the wheel to move up to wf_2",
            Duration::from_secs(10),
            |s| selected(s, 2),
        );
        let (x, y) = pty.find("3 Tests").expect("the result tabs");
        pty.mouse(0, x + 2, y);
        pty.wait_for("the tests tab", Duration::from_secs(10), |s| {
            s.contains("No tests yet.")
        });
        let (x, y) = pty.find("1 Plan").expect("the result tabs");
        pty.mouse(0, x, y);
        pty.wait_for("the plan tab", Duration::from_secs(10), |s| {
            s.contains("No plan yet.")
        });
        let status = pty.quit(true, Duration::from_secs(30));
        assert!(status.success(), "{status:?}");
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
}
