//! `flotilla list`, `show` and `logs` read the history while another flotilla process is
//! writing to it, without locking it out.

mod support;

use std::process::Command;
use std::time::Duration;
use support::harness::{home_for, start_headless_run};
use support::mock::{MockServer, Reply, Wire, named_then};

fn flotilla(home: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_flotilla"))
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
