//! The code-generation pipeline against the scripted server: plan, code, tests, sandboxed runs,
//! fixes, the overseer's review, and the results left on disk.

mod support;

use crossterm::event::{KeyCode, KeyModifiers};
use flotilla::event::ArtifactKind;
use flotilla::workflow::WorkflowStatus;
use std::time::Duration;
use support::harness::{TestApp, config};
use support::mock::{
    BAD_CODE, GOOD_CODE, MockServer, PLAN, Reply, Request, Role, TESTS, Wire, name_for,
};

const DEADLINE: Duration = Duration::from_secs(60);

fn script(
    code: &'static str,
    fixes: &'static [&'static str],
    review: &'static str,
    tests: &'static [&'static str],
) -> impl Fn(&Request, usize) -> Reply + Send + Sync + 'static {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let fix_n = AtomicUsize::new(0);
    let test_n = AtomicUsize::new(0);
    move |req: &Request, _| match req.role() {
        Role::Naming => name_for(req),
        Role::Plan => Reply::text(PLAN),
        Role::Code => Reply::text(code),
        Role::Fix => {
            let i = fix_n.fetch_add(1, Ordering::SeqCst);
            Reply::text(fixes[i.min(fixes.len() - 1)])
        }
        Role::Tests => {
            let i = test_n.fetch_add(1, Ordering::SeqCst);
            Reply::text(tests[i.min(tests.len() - 1)])
        }
        Role::Review => Reply::text(review),
        Role::Other => Reply::text("?"),
    }
}

fn result_json(t: &TestApp) -> serde_json::Value {
    let wf = t.app.store.at(0).unwrap_or_else(|| panic!("no workflow"));
    let path = t
        .home
        .path()
        .join("workflows")
        .join(wf.id.as_str())
        .join("result.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"))
}

fn roles(server: &MockServer) -> Vec<Role> {
    server.chat_requests().iter().map(Request::role).collect()
}

#[tokio::test]
async fn passes_first_time_and_leaves_its_results() {
    let server = MockServer::start(
        Wire::OpenAi,
        script(GOOD_CODE, &[GOOD_CODE], "CODE", &[TESTS]),
    )
    .await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ""));
    t.submit("write a function that adds two numbers");
    t.wait_until("tests to run", DEADLINE, |app| {
        app.store
            .at(0)
            .is_some_and(|w| w.progress == "Running tests (1/3)")
    })
    .await;
    t.wait_all_finished(DEADLINE).await;
    let wf = t.workflow(0);
    assert_eq!(wf.status, WorkflowStatus::Completed, "{wf:?}");
    assert_eq!(
        roles(&server),
        [Role::Naming, Role::Plan, Role::Code, Role::Tests]
    );

    let dir = t.home.path().join("workflows").join(wf.id.as_str());
    for file in [
        "plan.md",
        "solution.py",
        "test_solution.py",
        "attempts/1/output.txt",
        "log.txt",
    ] {
        assert!(dir.join(file).exists(), "{file} missing");
    }
    let output = std::fs::read_to_string(dir.join("attempts/1/output.txt")).unwrap_or_default();
    assert!(output.contains("3 passed"), "{output}");
    let plan = std::fs::read_to_string(dir.join("plan.md")).unwrap_or_default();
    assert!(
        plan.contains("Language: python") && plan.contains("- add(a, b) -> int"),
        "{plan}"
    );

    let json = result_json(&t);
    assert_eq!(json["status"], "completed");
    assert_eq!(json["language"], "python");
    assert_eq!(json["attempts"], 1);
    assert_eq!(json["tests"]["passed"], 3);
    assert_eq!(json["tests"]["failed"], 0);
    assert_eq!(json["main_file"], "solution.py");
    for tier in ["veryfast", "fast", "overseer"] {
        assert!(
            json["tokens"][tier]["out"].as_u64().is_some_and(|n| n > 0),
            "{tier}: {}",
            json["tokens"]
        );
    }
    for stage in ["naming", "plan", "code", "tests", "run"] {
        assert!(
            json["seconds"][stage].as_f64().is_some(),
            "{stage}: {}",
            json["seconds"]
        );
    }
    assert!(
        json["files"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f == "test_solution.py"))
    );

    // The result view gets every tab (highlighted off the loop, so maybe after the end).
    t.wait_until("every artifact", DEADLINE, |app| {
        ArtifactKind::ALL
            .iter()
            .all(|k| app.results.get(&wf.id, *k).is_some())
    })
    .await;
}

#[tokio::test]
async fn fails_once_and_is_fixed() {
    let server = MockServer::start(
        Wire::OpenAi,
        script(BAD_CODE, &[GOOD_CODE], "CODE", &[TESTS]),
    )
    .await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ""));
    t.submit("write a function that adds two numbers");
    t.wait_all_finished(DEADLINE).await;
    let wf = t.workflow(0);
    assert_eq!(wf.status, WorkflowStatus::Completed, "{wf:?}");
    assert_eq!(
        roles(&server),
        [Role::Naming, Role::Plan, Role::Code, Role::Tests, Role::Fix]
    );
    let fix = server
        .chat_requests()
        .into_iter()
        .find(|r| r.role() == Role::Fix)
        .unwrap_or_else(|| panic!("no fix"));
    assert!(
        fix.last_user().contains("return a - b") && fix.last_user().contains("failed"),
        "the fix sees code and output"
    );
    let json = result_json(&t);
    assert_eq!(json["attempts"], 2);
    let first = std::fs::read_to_string(
        t.home
            .path()
            .join("workflows")
            .join(wf.id.as_str())
            .join("attempts/1/output.txt"),
    );
    assert!(first.unwrap_or_default().contains("2 failed"));
}

#[tokio::test]
async fn exhausts_its_attempts_and_keeps_the_best() {
    let server = MockServer::start(
        Wire::OpenAi,
        script(BAD_CODE, &[BAD_CODE], "CODE: add subtracts", &[TESTS]),
    )
    .await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ""));
    t.submit("write a function that adds two numbers");
    t.wait_all_finished(DEADLINE).await;
    let wf = t.workflow(0);
    assert_eq!(wf.status, WorkflowStatus::Failed);
    assert_eq!(
        wf.error.as_deref(),
        Some("tests failed after 3 attempts: 2 of 3 failing")
    );
    assert_eq!(
        roles(&server),
        [
            Role::Naming,
            Role::Plan,
            Role::Code,
            Role::Tests,
            Role::Fix,
            Role::Review,
            Role::Fix
        ],
        "from the second failure on, the overseer reviews first"
    );
    let json = result_json(&t);
    assert_eq!(json["status"], "failed");
    assert_eq!(
        json["error"],
        "tests failed after 3 attempts: 2 of 3 failing"
    );
    assert_eq!(json["attempts"], 3);
    let dir = t.home.path().join("workflows").join(wf.id.as_str());
    assert!(
        std::fs::read_to_string(dir.join("solution.py"))
            .unwrap_or_default()
            .contains("a - b"),
        "the best attempt is kept"
    );
    assert!(dir.join("attempts/3/output.txt").exists());
}

const WRONG_TESTS: &str =
    "```python\nfrom solution import *\n\ndef test_add():\n    assert add(2, 2) == 5\n```";

#[tokio::test]
async fn the_overseer_can_blame_the_tests_and_they_are_rewritten() {
    let server = MockServer::start(
        Wire::OpenAi,
        script(
            GOOD_CODE,
            &[GOOD_CODE],
            "TESTS: 2 + 2 is 4",
            &[WRONG_TESTS, TESTS],
        ),
    )
    .await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ""));
    t.submit("write a function that adds two numbers");
    t.wait_all_finished(DEADLINE).await;
    let wf = t.workflow(0);
    assert_eq!(wf.status, WorkflowStatus::Completed, "{wf:?}");
    assert_eq!(
        roles(&server),
        [
            Role::Naming,
            Role::Plan,
            Role::Code,
            Role::Tests,
            Role::Fix,
            Role::Review,
            Role::Tests
        ]
    );
    let rewrite = server
        .chat_requests()
        .into_iter()
        .filter(|r| r.role() == Role::Tests)
        .nth(1)
        .unwrap_or_else(|| panic!("no rewrite"));
    assert!(
        rewrite
            .last_user()
            .contains("judged wrong: TESTS: 2 + 2 is 4"),
        "{}",
        rewrite.last_user()
    );
    // Tests are written from the description and plan, never from the code.
    let first = server
        .chat_requests()
        .into_iter()
        .find(|r| r.role() == Role::Tests)
        .unwrap_or_else(|| panic!("no tests"));
    assert!(!first.last_user().contains("return a + b"));
    assert_eq!(result_json(&t)["attempts"], 3);
}

#[tokio::test]
async fn cancelling_while_tests_run_kills_them_at_once() {
    let dir = tempfile::tempdir().expect("pid dir");
    let pid_file = dir.path().join("pid");
    let hang: &'static str = Box::leak(
        format!(
            "```python\nimport os, time\nfrom solution import *\n\ndef test_hang():\n    open({:?}, 'w').write(str(os.getpid()))\n    print('hanging', 'now', flush=True)\n    time.sleep(1000)\n```",
            pid_file.display().to_string()
        )
        .into_boxed_str(),
    );
    let tests: &'static [&'static str] = Box::leak(vec![hang].into_boxed_slice());
    let server =
        MockServer::start(Wire::OpenAi, script(GOOD_CODE, &[GOOD_CODE], "CODE", tests)).await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ""));
    t.submit("write a function that adds two numbers");
    // Its output reaching the log is the event that says it is running.
    t.wait_until("the hanging test to start", DEADLINE, |app| {
        app.store
            .at(0)
            .and_then(|w| app.logs.get(&w.id))
            .is_some_and(|l| l.lines(0, usize::MAX).any(|l| l.contains("hanging now")))
    })
    .await;
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap_or_default()
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    t.key(KeyCode::Tab, KeyModifiers::NONE);
    t.key(KeyCode::Char('c'), KeyModifiers::NONE);
    t.wait_all_finished(Duration::from_secs(5)).await;
    assert_eq!(
        t.app.store.at(0).and_then(|w| w.error.clone()).as_deref(),
        Some("cancelled")
    );
    // Killed with its group: gone, or a zombie about to be reaped (no command line).
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let alive =
            std::fs::read_to_string(format!("/proc/{pid}/cmdline")).is_ok_and(|c| !c.is_empty());
        if !alive {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "test process {pid} outlived the cancel"
        );
        tokio::task::yield_now().await;
    }
    assert_eq!(result_json(&t)["error"], "cancelled");
}

#[tokio::test]
async fn run_tests_false_stops_after_the_code() {
    let server = MockServer::start(
        Wire::OpenAi,
        script(GOOD_CODE, &[GOOD_CODE], "CODE", &[TESTS]),
    )
    .await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), "run_tests = false"));
    t.submit("write a function that adds two numbers");
    t.wait_all_finished(DEADLINE).await;
    assert_eq!(
        t.app.store.at(0).map(|w| w.status),
        Some(WorkflowStatus::Completed)
    );
    assert_eq!(roles(&server), [Role::Naming, Role::Plan, Role::Code]);
    assert_eq!(result_json(&t)["attempts"], 0);
}

#[tokio::test]
async fn the_language_follows_the_description() {
    const JS_CODE: &str =
        "```javascript\nfunction add(a, b) { return a + b; }\nmodule.exports = { add };\n```";
    const JS_TESTS: &str = "```javascript\nconst test = require('node:test');\nconst assert = require('node:assert');\nconst { add } = require('./solution.js');\ntest('adds', () => assert.strictEqual(add(2, 3), 5));\n```";
    let server = MockServer::start(
        Wire::OpenAi,
        script(JS_CODE, &[JS_CODE], "CODE", &[JS_TESTS]),
    )
    .await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ""));
    t.submit("a node script that adds two numbers");
    t.wait_all_finished(DEADLINE).await;
    let wf = t.workflow(0);
    assert_eq!(
        wf.status,
        WorkflowStatus::Completed,
        "{wf:?} {}",
        t.log_text(0)
    );
    let json = result_json(&t);
    assert_eq!(json["language"], "javascript");
    assert_eq!(json["main_file"], "solution.js");
    let code_prompt = server
        .chat_requests()
        .into_iter()
        .find(|r| r.role() == Role::Code)
        .map(|r| r.body.to_string())
        .unwrap_or_default();
    assert!(
        code_prompt.contains("module.exports"),
        "the code prompt tells how to export"
    );
}
