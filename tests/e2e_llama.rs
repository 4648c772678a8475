//! End to end against a real llama.cpp server (llama-cpp-python) running the real SmolLM2-135M
//! model. The model's code is weak, so these assert the pipeline, not the code's quality.

mod support;

use flotilla::workflow::WorkflowStatus;
use flotilla::workflow::name as naming;
use std::process::Command;
use std::time::Duration;
use support::harness::TestApp;
use support::llama::LlamaServer;

/// A hang detector, not a timing: the server answers one request at a time, both tests share it,
/// and a busy machine may take several times as long as this one.
const DEADLINE: Duration = Duration::from_secs(600);

/// Held by the tests that run workflows: the server answers one request at a time, so a test's
/// deadline would otherwise count the other test's requests too.
static SERVER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `candidates` code candidates and half as many suites (at least one).
fn real_config(base_url: &str, max_attempts: u32, candidates: usize) -> String {
    let suites = (candidates / 2).max(1);
    format!(
        r#"max_parallel = 4
naming_timeout = 60
max_attempts = {max_attempts}
candidates = {candidates}
test_suites = {suites}

[providers.local]
kind = "openai"
base_url = "{base_url}"
max_concurrent = 1

[tiers.veryfast]
provider = "local"
model = "smollm2"
[tiers.fast]
provider = "local"
model = "smollm2"
max_tokens = 160
[tiers.overseer]
provider = "local"
model = "smollm2"
max_tokens = 240
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_parallel_workflows_are_named_by_the_model_and_finish_with_artifacts() {
    let _server = SERVER.lock().await;
    let server = LlamaServer::shared();
    let mut t = TestApp::new(&real_config(&server.base_url(), 1, 2));
    let tasks = [
        "write a function to validate email addresses",
        "create a REST API client for GitHub",
        "parse a csv file and sum the second column",
    ];
    t.submit(tasks[0]);
    for task in &tasks[1..] {
        t.submit(&format!("/generate --background {task}"));
    }
    assert_eq!(t.app.model().store.len(), 3);
    t.wait_until("all three to be running or past it", DEADLINE, |app| {
        app.model().store.iter().all(|w| w.name.is_some())
    })
    .await;
    t.wait_all_finished(DEADLINE).await;

    let mut names = Vec::new();
    for (i, wf) in t.app.model().store.iter().enumerate() {
        let name = wf.name.clone().unwrap_or_default();
        assert!(naming::is_valid(&name), "{name:?}");
        let words = name.split('-').count();
        assert!((2..=5).contains(&words), "{name:?}");
        let log = t.log_text(i);
        assert!(
            log.contains("named by the veryfast model"),
            "workflow {i} was not named by the model:\n{log}"
        );
        names.push(name);
        match wf.status() {
            WorkflowStatus::Completed => {
                let result = wf
                    .result()
                    .unwrap_or_else(|| panic!("completed without a result"));
                assert!(
                    result.files.iter().any(|f| f.starts_with("solution.")),
                    "{:?}",
                    result.files
                );
                for file in &result.files {
                    let text = std::fs::read_to_string(result.dir.join(file)).unwrap_or_default();
                    assert!(!text.trim().is_empty(), "{file} is empty");
                }
                assert!(wf.progress.starts_with("Completed in "), "{}", wf.progress);
            }
            WorkflowStatus::Failed => {
                assert!(
                    wf.error().as_ref().is_some_and(|e| !e.is_empty()),
                    "failed without a reason: {wf:?}"
                );
            }
            other => panic!("workflow {i} ended {other}"),
        }
        let dir = t.home.path().join("workflows").join(wf.id.as_str());
        let log_file = std::fs::read_to_string(dir.join("log.txt")).unwrap_or_default();
        assert!(
            log_file.contains(&format!("Task: {}", tasks[i])),
            "{log_file}"
        );
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 3, "names are unique");
}

#[test]
fn headless_run_and_name_print_the_seed_lines() {
    let server = LlamaServer::shared();
    let home = tempfile::tempdir().expect("temp home");
    std::fs::write(
        home.path().join("config.toml"),
        real_config(&server.base_url(), 1, 2),
    )
    .expect("config");
    let flotilla = env!("CARGO_BIN_EXE_flotilla");

    let out = Command::new(flotilla)
        // Outside any repository: flotilla would work on the one it starts in.
        .current_dir(std::env::temp_dir())
        .args(["--home"])
        .arg(home.path())
        .args(["name", "write a function to validate email addresses"])
        .output()
        .expect("run flotilla name");
    assert!(out.status.success());
    let name = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(naming::is_valid(&name) && name.contains('-'), "{name:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("named by the veryfast model"));

    let out = Command::new(flotilla)
        .current_dir(std::env::temp_dir())
        .args(["--home"])
        .arg(home.path())
        .args(["run", "write a python function that adds two numbers"])
        .output()
        .expect("run flotilla run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("→ [naming] Generating workflow name..."),
        "{stdout}"
    );
    assert!(stdout.contains("] Starting workflow..."), "{stdout}");
    for stage in [
        "Consulting overseer...",
        "Generating code...",
        "Generating tests...",
    ] {
        assert!(stdout.contains(&format!("] {stage}")), "{stage}: {stdout}");
    }
    // Tests run unless none of the model's suites was usable, which the ending then says.
    assert!(
        stdout.contains("] Running tests (1/1)") || stdout.contains("failed: no usable tests"),
        "{stdout}"
    );
    match out.status.code() {
        Some(0) => assert!(
            stdout.contains("✓ [") && stdout.contains("] Completed in "),
            "{stdout}"
        ),
        Some(1) => assert!(
            stdout.contains("✗ [") && stdout.contains("] failed: "),
            "{stdout}"
        ),
        other => panic!("exit code {other:?}: {stdout}"),
    }

    let out = Command::new(flotilla)
        .current_dir(std::env::temp_dir())
        .args(["--home"])
        .arg(home.path())
        .arg("doctor")
        .output()
        .expect("doctor");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("✓ tier veryfast"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_workflow_goes_through_every_stage_and_leaves_result_json() {
    let _server = SERVER.lock().await;
    let server = LlamaServer::shared();
    let mut t = TestApp::new(&real_config(&server.base_url(), 3, 4));
    t.submit("write a python function is_even(n) that returns True for even numbers");
    t.wait_until("the workflow to end", DEADLINE, |app| {
        app.model()
            .store
            .at(0)
            .is_some_and(|w| !w.status().is_live())
    })
    .await;
    let wf = t.workflow(0);
    let log = t.log_text(0);
    for stage in [
        "── Consulting overseer ──",
        "── Generating code ──",
        "── Generating tests ──",
    ] {
        assert!(log.contains(stage), "{stage} missing:\n{log}");
    }
    let dir = t.home.path().join("workflows").join(wf.id.as_str());
    let text = std::fs::read_to_string(dir.join("result.json")).unwrap_or_default();
    let json: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("result.json: {e}"));
    assert_eq!(json["id"], wf.id.as_str());
    assert_eq!(json["language"], "python");
    for file in ["plan.md", "solution.py", "candidates/1/solution.py"] {
        assert!(dir.join(file).exists(), "{file} missing");
    }
    let candidates = json["candidates"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        candidates.iter().filter(|c| c["chosen"] == true).count(),
        1,
        "one candidate is kept: {candidates:?}"
    );
    let usable = json["suites"]
        .as_array()
        .is_some_and(|s| s.iter().any(|s| s["usable"] == true));
    if usable {
        // Every candidate ran against the usable suites; what ran is on disk.
        assert!(log.contains("── Running tests (1/3) ──"), "{log}");
        for file in ["test_solution.py", "output.txt", "runs/c1-s1.txt"] {
            assert!(dir.join(file).exists(), "{file} missing");
        }
    }
    match wf.status() {
        WorkflowStatus::Completed => assert_eq!(json["status"], "completed"),
        WorkflowStatus::Failed => {
            assert_eq!(json["status"], "failed");
            let error = wf.error().unwrap_or_default();
            assert!(
                !error.is_empty() && json["error"] == error.as_str(),
                "{error}"
            );
            let honest = [
                "tests failed after 3 attempts: ",
                "no usable tests after 3 tries",
                "tests could not load: ",
            ];
            assert!(honest.iter().any(|h| error.starts_with(h)), "{error}");
            if error.starts_with("tests failed after 3 attempts") {
                // Two failures: a fix, then the overseer's review before the last run.
                assert!(log.contains("── Fixing code (2/3) ──"), "{log}");
                assert!(log.contains("── Reviewing failures (3/3) ──"), "{log}");
                assert_eq!(json["attempts"], 3);
            }
        }
        other => panic!("ended {other}"),
    }
    assert!(
        json["tokens"]["fast"]["out"]
            .as_u64()
            .is_some_and(|n| n > 0)
    );
}
