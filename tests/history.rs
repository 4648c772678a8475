//! `flotilla list`, `show` and `logs` read the history while another flotilla process is
//! writing to it, without locking it out.

mod support;

use std::process::Command;
use std::time::Duration;
use support::harness::{home_for, start_headless_run};
use support::mock::{MockServer, Reply, Wire, named_then};

fn flotilla(home: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_flotilla"))
        // Outside any repository: flotilla would work on the one it starts in.
        .current_dir(std::env::temp_dir())
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .expect("run flotilla");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_works_while_another_process_writes() {
    let server = MockServer::start(Wire::OpenAi, named_then(Reply::Stall)).await;
    let home = home_for(&server);
    let mut writer =
        start_headless_run(home.path(), "write a function to validate email addresses").await;

    let (code, text) = flotilla(home.path(), &["list", "--json"]);
    assert_eq!(code, 0);
    let items: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let item = &items[0];
    for field in [
        "id",
        "name",
        "description",
        "status",
        "progress",
        "error",
        "created_at",
        "started_at",
        "ended_at",
        "elapsed_s",
        "dir",
    ] {
        assert!(item.get(field).is_some(), "{field} missing: {item}");
    }
    assert_eq!(item["status"], "running");
    assert_eq!(item["name"], "email-validator");
    assert_eq!(item["progress"], "Consulting overseer...");
    assert!(item["started_at"].as_f64().is_some() && item["ended_at"].is_null());

    let (_, table) = flotilla(home.path(), &["list"]);
    assert!(
        table
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains("email-validator") && l.contains("running")),
        "{table}"
    );
    let (_, running) = flotilla(home.path(), &["list", "--status", "completed"]);
    assert_eq!(running.lines().count(), 1, "only the header: {running}");
    let (code, shown) = flotilla(home.path(), &["show", "email-validator"]);
    assert_eq!(code, 0);
    assert!(
        shown.starts_with("Workflow: email-validator (wf_1_") && shown.contains("Status: running"),
        "{shown}"
    );
    let (_, log) = flotilla(home.path(), &["logs", "1"]);
    assert!(
        log.contains("Task: write a function to validate email addresses"),
        "{log}"
    );

    let _ = writer.kill();
    let _ = writer.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_follow_prints_until_the_workflow_ends() {
    use support::mock::{PLAN, Request, Role, namer_and_coder};
    let server = MockServer::start(Wire::OpenAi, |req: &Request, n| {
        if req.role() == Role::Plan {
            let mut pieces: Vec<String> = (0..30).map(|i| format!("thinking {i}\n")).collect();
            pieces.push(PLAN.into());
            Reply::Text {
                pieces,
                delay: Duration::from_millis(30),
            }
        } else {
            namer_and_coder(req, n)
        }
    })
    .await;
    let home = home_for(&server);
    let mut writer =
        start_headless_run(home.path(), "write a function that adds two numbers").await;

    let path = home.path().to_owned();
    let follow = tokio::task::spawn_blocking(move || flotilla(&path, &["logs", "1", "--follow"]));
    let (code, text) = tokio::time::timeout(Duration::from_secs(60), follow)
        .await
        .expect("logs --follow ends when the workflow does")
        .expect("join");
    assert_eq!(code, 0);
    assert!(
        text.contains("Task: write a function that adds two numbers"),
        "{text}"
    );
    assert!(
        text.contains("all 3 passed"),
        "it printed up to the end: {text}"
    );
    let _ = writer.wait();
}

/// A reply every workflow fails on at once (a 400 is not retried), after being named.
fn refused() -> impl Fn(&support::mock::Request, usize) -> Reply + Send + Sync + 'static {
    named_then(Reply::Status {
        code: 400,
        headers: Vec::new(),
        body: r#"{"error":{"message":"no"}}"#.into(),
    })
}

/// The history's workflows as `list --json` reads them.
fn listed(home: &std::path::Path) -> Vec<serde_json::Value> {
    let (code, text) = flotilla(home, &["list", "--json"]);
    assert_eq!(code, 0, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Starts `n` `flotilla run` processes on `home` that all open its database at the same
/// moment, as `for i in …; do flotilla run … & done` does: each waits at a gate (a FIFO it reads
/// one line from) until all are started. Returns their outputs.
async fn runs_at_once(home: &std::path::Path, n: usize, wave: &str) -> Vec<std::process::Output> {
    let gate = home.join(format!("gate-{wave}"));
    let made = Command::new("mkfifo").arg(&gate).status().expect("mkfifo");
    assert!(made.success());
    let children: Vec<std::process::Child> = (0..n)
        .map(|i| {
            Command::new("sh")
                .args([
                    "-c",
                    "read _ < \"$1\" && exec \"$2\" --home \"$3\" run \"$4\"",
                    "sh",
                ])
                .arg(&gate)
                .arg(env!("CARGO_BIN_EXE_flotilla"))
                .current_dir(std::env::temp_dir())
                .arg(home)
                .arg(format!("{wave} task {i}"))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start flotilla run")
        })
        .collect();
    let opened = std::fs::OpenOptions::new().write(true).open(&gate);
    let mut opened = opened.expect("open the gate");
    // One line each; the write end stays open until every run is past the gate, so a shell
    // that opens the FIFO late still finds its line.
    std::io::Write::write_all(&mut opened, "go\n".repeat(n).as_bytes()).expect("open the gate");
    let outputs = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| c.wait_with_output().expect("wait"))
            .collect::<Vec<_>>()
    });
    let outputs = tokio::time::timeout(Duration::from_secs(180), outputs)
        .await
        .expect("the runs end")
        .expect("join");
    drop(opened);
    for out in &outputs {
        // 1: the workflow failed on the server's 400, as it should; 2 would be a start-up
        // error such as a migration race.
        assert_eq!(
            out.status.code(),
            Some(1),
            "stdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    outputs
}

/// Every workflow recorded once, with ids 1..=n, none left live.
fn all_recorded(home: &std::path::Path, n: u64) {
    let items = listed(home);
    assert_eq!(items.len() as u64, n);
    let ids: std::collections::BTreeSet<&str> =
        items.iter().filter_map(|i| i["id"].as_str()).collect();
    assert_eq!(ids.len() as u64, n, "ids are unique");
    let mut seqs: Vec<u64> = ids
        .iter()
        .filter_map(|id| id.strip_prefix("wf_")?.split('_').next()?.parse().ok())
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=n).collect::<Vec<u64>>());
    for item in &items {
        assert_eq!(item["status"], "failed", "none stuck: {item}");
        assert!(
            item["error"].as_str().is_some_and(|e| e.contains("400")),
            "{item}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_runs_at_once_on_a_fresh_home_then_sixty_more_are_all_recorded() {
    let server = MockServer::start(Wire::OpenAi, refused()).await;
    let home = home_for(&server);
    // A fresh home: all 40 migrate the new database at once.
    runs_at_once(home.path(), 40, "first").await;
    all_recorded(home.path(), 40);
    // An existing home: 60 writers at once contend for the write lock.
    runs_at_once(home.path(), 60, "second").await;
    all_recorded(home.path(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_with_sigkill_is_listed_as_interrupted_while_another_runs_on() {
    let server = MockServer::start(Wire::OpenAi, named_then(Reply::Stall)).await;
    let home = home_for(&server);
    let mut killed = start_headless_run(home.path(), "write a function to reverse a list").await;
    let mut alive =
        start_headless_run(home.path(), "write a function to validate email addresses").await;
    // SAFETY: signals a child this test started.
    unsafe { libc::kill(killed.id() as libc::pid_t, libc::SIGKILL) };
    let _ = killed.wait();

    // The other process still holds the home: the dead one's workflow is known by its owner.
    let items = listed(home.path());
    assert_eq!(items.len(), 2);
    assert_eq!(
        (items[0]["status"].as_str(), items[0]["error"].as_str()),
        (Some("failed"), Some("interrupted")),
        "{items:?}"
    );
    assert_eq!(items[1]["status"], "running", "{items:?}");
    let (code, shown) = flotilla(home.path(), &["show", "1"]);
    assert_eq!(code, 0);
    assert!(
        shown.contains("Status: failed") && shown.contains("Error: interrupted"),
        "{shown}"
    );

    let _ = alive.kill();
    let _ = alive.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_run_records_the_cancel_and_exits_143() {
    let server = MockServer::start(Wire::OpenAi, named_then(Reply::Stall)).await;
    let home = home_for(&server);
    let mut run = start_headless_run(home.path(), "write a function to reverse a list").await;
    // SAFETY: signals a child this test started.
    unsafe { libc::kill(run.id() as libc::pid_t, libc::SIGTERM) };
    let status = tokio::task::spawn_blocking(move || run.wait());
    let status = tokio::time::timeout(Duration::from_secs(30), status)
        .await
        .expect("run ends on SIGTERM")
        .expect("join")
        .expect("wait");
    assert_eq!(status.code(), Some(143));
    let items = listed(home.path());
    assert_eq!(
        (items[0]["status"].as_str(), items[0]["error"].as_str()),
        (Some("failed"), Some("cancelled")),
        "{items:?}"
    );
}

#[test]
fn a_listing_into_a_closed_pipe_ends_quietly() {
    let home = tempfile::tempdir().expect("temp home");
    let db = flotilla::store::db::Db::open(&home.path().join("flotilla.db")).expect("db");
    for n in 0..2000 {
        db.create(&format!("task {n}"), std::time::SystemTime::now(), None)
            .expect("create");
    }
    drop(db);
    let mut child = Command::new(env!("CARGO_BIN_EXE_flotilla"))
        // Outside any repository: flotilla would work on the one it starts in.
        .current_dir(std::env::temp_dir())
        .arg("--home")
        .arg(home.path())
        .arg("list")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start flotilla list");
    // `| head -1`: read one line, then close the pipe.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 64];
    let _ = std::io::Read::read(&mut stdout, &mut first);
    drop(stdout);
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// A home on a 1 MiB file system that a workflow's log fills: writes fail, and `run` says so.
/// Its ending cannot be recorded, so there is no ✓ and no exit 0, and the listing afterwards
/// shows the workflow as interrupted rather than running. (The file system is a tmpfs mounted
/// in a user and mount namespace of its own, so this needs no root.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_gives_no_tick_without_a_record() {
    use support::mock::{Request, Role, name_for};
    let server = MockServer::start(Wire::OpenAi, |req: &Request, _| match req.role() {
        Role::Naming => name_for(req),
        // A plan far larger than the disk: the log that holds it fills the file system.
        Role::Plan => Reply::Text {
            pieces: (0..64).map(|_| "a plan line\n".repeat(5000)).collect(),
            delay: Duration::ZERO,
        },
        _ => Reply::Status {
            code: 400,
            headers: Vec::new(),
            body: r#"{"error":{"message":"no"}}"#.into(),
        },
    })
    .await;
    let outside = home_for(&server);
    // The overseer may write long plans here, so all of this one is read (and logged).
    let config = outside.path().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap_or_default();
    std::fs::write(&config, format!("{text}max_tokens = 100000\n")).expect("config");
    let home = outside.path().join("home");
    std::fs::create_dir(&home).expect("mkdir");
    let script = r#"set -e
mount -t tmpfs -o size=1m tmpfs "$2"
cp "$3/config.toml" "$2/"
set +e
"$1" --home "$2" run "write a function to reverse a list"
echo "exit=$?"
"$1" --home "$2" run "write a function to sort a list" > "$3/second.txt" 2>&1
echo "second-exit=$?"
echo "---"
"$1" --home "$2" list --json
echo "list-exit=$?"
"#;
    let out = tokio::task::spawn_blocking({
        let home = home.clone();
        let outside = outside.path().to_owned();
        move || {
            Command::new("unshare")
                .args([
                    "--user",
                    "--map-root-user",
                    "--mount",
                    "sh",
                    "-c",
                    script,
                    "sh",
                ])
                .arg(env!("CARGO_BIN_EXE_flotilla"))
                .current_dir(std::env::temp_dir())
                .arg(&home)
                .arg(&outside)
                .output()
                .expect("unshare")
        }
    });
    let out = tokio::time::timeout(Duration::from_secs(120), out)
        .await
        .expect("the run ends")
        .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let (run, listing) = stdout
        .split_once("---\n")
        .unwrap_or_else(|| panic!("no listing; stdout: {stdout}\nstderr: {stderr}"));
    assert!(run.contains("exit=1"), "{run}\nstderr: {stderr}");
    assert!(
        run.contains("! cannot record its ending:") && run.contains("disk is full"),
        "{run}"
    );
    assert!(!run.contains('✓'), "{run}");
    // A run started on the full disk: nothing is recorded, so nothing starts, and it says why.
    let second = std::fs::read_to_string(outside.path().join("second.txt")).unwrap_or_default();
    assert!(!run.contains("second-exit=0"), "{run}\n{second}");
    assert!(
        !second.contains('✓') && second.contains("disk is full"),
        "{second}"
    );
    let (json, status) = listing.rsplit_once("list-exit=").unwrap_or_default();
    assert_eq!(status.trim(), "0", "{listing}\nstderr: {stderr}");
    let items: Vec<serde_json::Value> =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(items.len(), 1);
    assert_eq!(
        (items[0]["status"].as_str(), items[0]["error"].as_str()),
        (Some("failed"), Some("interrupted")),
        "{items:?}"
    );
}
