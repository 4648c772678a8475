//! The code-generation pipeline against the scripted server: plan, code, tests, sandboxed runs,
//! fixes, the overseer's review, and the results left on disk.

mod support;

use crossterm::event::{KeyCode, KeyModifiers};
use flotilla::event::ArtifactKind;
use flotilla::workflow::{Failure, Request as Asked, WorkflowStatus};
use std::time::Duration;
use support::harness::{TestApp, config};
use support::mock::{
    BAD_CODE, GOOD_CODE, MockServer, PLAN, Reply, Request, Role, TESTS, Wire, name_for,
};

const DEADLINE: Duration = Duration::from_secs(60);

/// A scripted model. Code candidates are told apart by their seed (none for the temperature-0
/// one, `k` for the k-th sampled one; asked-again requests get the last entry); test replies
/// and fixes come in order; rewrites of tests are the later `tests` entries.
#[derive(Clone, Copy)]
struct Script {
    code: &'static [&'static str],
    fixes: &'static [&'static str],
    review: &'static str,
    tests: &'static [&'static str],
}

fn script(s: Script) -> impl Fn(&Request, usize) -> Reply + Send + Sync + 'static {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let fix_n = AtomicUsize::new(0);
    let test_n = AtomicUsize::new(0);
    let nth = |list: &'static [&'static str], i: usize| list[i.min(list.len() - 1)];
    move |req: &Request, _| match req.role() {
        Role::Naming => name_for(req),
        Role::Plan => Reply::text(PLAN),
        Role::Code => {
            let i = match req.body["seed"].as_u64() {
                None => 0,
                Some(k) if k < 100 => k as usize,
                Some(_) => usize::MAX,
            };
            Reply::text(nth(s.code, i))
        }
        Role::Fix => Reply::text(nth(s.fixes, fix_n.fetch_add(1, Ordering::SeqCst))),
        Role::Tests => Reply::text(nth(s.tests, test_n.fetch_add(1, Ordering::SeqCst))),
        Role::Review => Reply::text(s.review),
        Role::Other => Reply::text("?"),
    }
}

/// One candidate and one suite: the loop's steps come in a fixed order.
const ONE_BY_ONE: &str = "candidates = 1\ntest_suites = 1";

/// `add` multiplying, and raising to a power: both meet `add(2, 2) == 4`.
const PRODUCT: &str = "```python\ndef add(a, b):\n    return a * b\n```";
const POWER: &str = "```python\ndef add(a, b):\n    return a ** b\n```";
/// One weak test: a + b, a * b and a ** b all pass it, yet behave differently elsewhere.
const WEAK: &str = "```python\nfrom solution import add\n\nassert add(2, 2) == 4\n```";

/// A workflow with these code candidates (one asked for each) and the weak test alone, in one
/// round.
async fn against_the_weak_test(code: &'static [&'static str]) -> TestApp {
    against(code, WEAK).await
}

/// A workflow with these code candidates (one asked for each) and this one suite, in one round.
async fn against(code: &'static [&'static str], suite: &'static str) -> TestApp {
    against_on("write a function that adds two numbers", code, suite).await
}

/// `against`, for `task`.
async fn against_on(task: &str, code: &'static [&'static str], suite: &'static str) -> TestApp {
    let extra = format!(
        "candidates = {}\ntest_suites = 1\nmax_attempts = 1",
        code.len()
    );
    let tests: &'static [&'static str] = Box::leak(vec![suite].into_boxed_slice());
    let script = Script {
        code,
        fixes: &[BAD_CODE],
        review: "CODE",
        tests,
    };
    finished_task(task, script, &extra, |_| None).await.1
}

/// Runs "write a function that adds two numbers" to its end on a scripted server.
async fn finished(s: Script, extra: &str) -> (MockServer, TestApp) {
    finished_answering(s, extra, |_| None).await
}

/// As `finished`, with `answer` replying instead of the script to the requests it takes.
async fn finished_answering(
    s: Script,
    extra: &str,
    answer: impl Fn(&Request) -> Option<Reply> + Send + Sync + 'static,
) -> (MockServer, TestApp) {
    finished_task("write a function that adds two numbers", s, extra, answer).await
}

/// Runs `task` to its end on a scripted server, `answer` replying first.
async fn finished_task(
    task: &str,
    s: Script,
    extra: &str,
    answer: impl Fn(&Request) -> Option<Reply> + Send + Sync + 'static,
) -> (MockServer, TestApp) {
    let scripted = script(s);
    let server = MockServer::start(Wire::OpenAi, move |req: &Request, n| {
        answer(req).unwrap_or_else(|| scripted(req, n))
    })
    .await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), extra));
    t.submit(task);
    t.wait_all_finished(DEADLINE).await;
    (server, t)
}

fn count(server: &MockServer, role: Role) -> usize {
    server
        .chat_requests()
        .iter()
        .filter(|r| r.role() == role)
        .count()
}

fn wf_dir(t: &TestApp) -> std::path::PathBuf {
    let wf = t.workflow(0);
    t.home.path().join("workflows").join(wf.id.as_str())
}

fn read(t: &TestApp, file: &str) -> String {
    std::fs::read_to_string(wf_dir(t).join(file)).unwrap_or_default()
}

fn result_json(t: &TestApp) -> serde_json::Value {
    let wf = t
        .app
        .model()
        .store
        .at(0)
        .unwrap_or_else(|| panic!("no workflow"));
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
        script(Script {
            code: &[GOOD_CODE],
            fixes: &[GOOD_CODE],
            review: "CODE",
            tests: &[TESTS],
        }),
    )
    .await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ONE_BY_ONE));
    t.submit("write a function that adds two numbers");
    t.wait_until("tests to run", DEADLINE, |app| {
        app.model()
            .store
            .at(0)
            .is_some_and(|w| w.progress == "Running tests (1/3)")
    })
    .await;
    t.wait_all_finished(DEADLINE).await;
    let wf = t.workflow(0);
    assert_eq!(wf.status(), WorkflowStatus::Completed, "{wf:?}");
    assert_eq!(
        roles(&server),
        [Role::Naming, Role::Plan, Role::Code, Role::Tests]
    );

    let dir = wf_dir(&t);
    for file in [
        "plan.md",
        "solution.py",
        "test_solution.py",
        "candidates/1/solution.py",
        "suites/1/test_solution.py",
        "runs/c1-s1.txt",
        "output.txt",
        "log.txt",
    ] {
        assert!(dir.join(file).exists(), "{file} missing");
    }
    // The prose around the block never reaches the file.
    assert_eq!(
        read(&t, "solution.py"),
        "def add(a, b):\n    return a + b\n"
    );
    assert!(read(&t, "runs/c1-s1.txt").contains("3 passed"));
    let plan = read(&t, "plan.md");
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
    assert_eq!(json["candidates"][0]["chosen"], true);
    assert_eq!(json["candidates"][0]["score"], 3);
    assert_eq!(json["suites"][0]["usable"], true);
    assert_eq!(json["suites"][0]["tests"], 3);
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

    // The result view gets every tab (highlighted off the loop, so maybe after the end) but
    // the diff, which only a workflow on a repository has.
    t.wait_until("every artifact", DEADLINE, |app| {
        ArtifactKind::ALL
            .iter()
            .filter(|k| **k != ArtifactKind::Diff)
            .all(|k| app.model().results.get(&wf.id, *k).is_some())
    })
    .await;
    assert!(
        t.app
            .model()
            .results
            .get(&wf.id, ArtifactKind::Diff)
            .is_none()
    );
}

#[tokio::test]
async fn fails_once_and_is_fixed() {
    let (server, t) = finished(
        Script {
            code: &[BAD_CODE],
            fixes: &[GOOD_CODE],
            review: "CODE",
            tests: &[TESTS],
        },
        ONE_BY_ONE,
    )
    .await;
    let wf = t.workflow(0);
    assert_eq!(wf.status(), WorkflowStatus::Completed, "{wf:?}");
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
    assert_eq!(
        json["candidates"][1]["chosen"], true,
        "{}",
        json["candidates"]
    );
    assert!(read(&t, "runs/c1-s1.txt").contains("2 failed"));
    assert!(read(&t, "solution.py").contains("a + b"));
}

#[tokio::test]
async fn exhausts_its_attempts_and_keeps_the_best() {
    const WORSE: &str = "```python\ndef add(a, b):\n    return 7\n```";
    let (server, t) = finished(
        Script {
            code: &[BAD_CODE],
            fixes: &[WORSE],
            review: "CODE: add subtracts",
            tests: &[TESTS],
        },
        ONE_BY_ONE,
    )
    .await;
    let wf = t.workflow(0);
    assert_eq!(wf.status(), WorkflowStatus::Failed);
    assert_eq!(
        wf.error().as_deref(),
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
    assert_eq!(json["attempts"], 3);
    // Fixes that score lower are set aside: the first candidate stays.
    assert!(
        read(&t, "solution.py").contains("a - b"),
        "the best is kept"
    );
    assert_eq!(json["candidates"][0]["chosen"], true);
    assert_eq!(json["candidates"][1]["kept"], false);
    assert_eq!(json["candidates"][2]["kept"], false);
    assert!(read(&t, "log.txt").contains("set aside"));
}

const WRONG_TESTS: &str =
    "```python\nfrom solution import *\n\ndef test_add():\n    assert add(2, 2) == 5\n```";

#[tokio::test]
async fn the_overseer_can_blame_the_tests_and_they_are_rewritten() {
    let (server, t) = finished(
        Script {
            code: &[GOOD_CODE],
            fixes: &[GOOD_CODE],
            review: "TESTS: 2 + 2 is 4",
            tests: &[WRONG_TESTS, TESTS],
        },
        ONE_BY_ONE,
    )
    .await;
    let wf = t.workflow(0);
    assert_eq!(wf.status(), WorkflowStatus::Completed, "{wf:?}");
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
    let json = result_json(&t);
    assert_eq!(json["attempts"], 3);
    assert_eq!(json["suites"][0]["usable"], false);
    assert!(
        json["suites"][0]["problem"]
            .as_str()
            .is_some_and(|p| p.contains("judged wrong by the overseer"))
    );
}

#[tokio::test]
async fn a_right_candidate_wins_over_wrong_ones_and_a_wrong_test() {
    // A second suite with one wrong case: no candidate passes it, and it decides nothing.
    const HALF_WRONG: &str =
        "```python\nfrom solution import add\n\nassert add(1, 1) == 2\nassert add(2, 2) == 5\n```";
    let (server, t) = finished(
        Script {
            code: &[BAD_CODE, GOOD_CODE, PRODUCT, GOOD_CODE],
            fixes: &[BAD_CODE],
            review: "CODE",
            tests: &[TESTS, HALF_WRONG],
        },
        "candidates = 4\ntest_suites = 2\nmax_attempts = 1",
    )
    .await;
    assert_eq!(count(&server, Role::Code), 4);
    assert_eq!(count(&server, Role::Tests), 2);
    let json = result_json(&t);
    let chosen: Vec<u64> = json["candidates"]
        .as_array()
        .unwrap_or_else(|| panic!("no candidates"))
        .iter()
        .enumerate()
        .filter(|(_, c)| c["chosen"] == true)
        .map(|(i, _)| i as u64)
        .collect();
    // The two right candidates agree: 2 × 4 tests passed; the earlier of them is kept.
    assert_eq!(chosen, [1], "{}", json["candidates"]);
    assert_eq!(json["candidates"][1]["score"], 8);
    assert_eq!(
        json["candidates"][0]["score"], 2,
        "a - b and a * b agree on passing add(0, 0) alone"
    );
    assert!(read(&t, "solution.py").contains("a + b"));
    // Honest: the wrong case still fails, so the workflow is not called completed.
    assert_eq!(
        t.workflow(0).error().as_deref(),
        Some("tests failed after 1 attempt: 1 of 5 failing")
    );
    assert!(read(&t, "output.txt").contains("→ 2. candidate 2"));
}

#[tokio::test]
async fn a_test_writer_that_answers_with_code_gives_a_candidate_and_is_asked_again() {
    let (server, t) = finished(
        Script {
            code: &[BAD_CODE],
            fixes: &[BAD_CODE],
            review: "CODE",
            tests: &[GOOD_CODE, TESTS],
        },
        ONE_BY_ONE,
    )
    .await;
    let wf = t.workflow(0);
    assert_eq!(wf.status(), WorkflowStatus::Completed, "{wf:?}");
    assert_eq!(count(&server, Role::Tests), 2, "the suite is asked again");
    let json = result_json(&t);
    assert_eq!(json["candidates"][1]["origin"], "from test suite 1");
    assert_eq!(json["candidates"][1]["chosen"], true);
    assert!(read(&t, "solution.py").contains("a + b"));
    // The implementation never sits in the suite, where it would shadow the code.
    assert!(!read(&t, "test_solution.py").contains("return a + b"));
    assert!(read(&t, "log.txt").contains("not usable as tests: no test in the reply"));
}

#[tokio::test]
async fn code_in_a_late_rewrite_of_the_tests_is_run_and_probed_like_any_candidate() {
    // Both candidates fail the right suite; the fix fails too; in the last round the overseer
    // blames the tests and their rewrite holds an implementation and no test.
    let (server, t) = finished(
        Script {
            code: &[PRODUCT, POWER],
            fixes: &[BAD_CODE],
            review: "TESTS",
            tests: &[TESTS, GOOD_CODE],
        },
        "candidates = 2\ntest_suites = 1\nmax_attempts = 3",
    )
    .await;
    assert_eq!(count(&server, Role::Review), 1);
    let json = result_json(&t);
    let late = &json["candidates"][3];
    assert_eq!(late["origin"], "from rewrite of suite 1", "{json}");
    assert!(late["passed"].as_u64().is_some_and(|p| p > 0), "{late}");
    assert_eq!(late["failed"], 0, "{late}");
    assert!(late["returned"].as_u64().is_some_and(|r| r > 0), "{late}");
    assert_eq!(late["chosen"], true, "{}", json["candidates"]);
    assert!(read(&t, "solution.py").contains("a + b"));
}

/// One code reply against the right suite: the workflow completes, with no fix, keeping `kept`.
async fn completes_keeping(reply: &'static str, kept: &str) -> TestApp {
    let code: &'static [&'static str] = Box::leak(vec![reply].into_boxed_slice());
    let (server, t) = finished(
        Script {
            code,
            fixes: &[BAD_CODE],
            review: "CODE",
            tests: &[TESTS],
        },
        ONE_BY_ONE,
    )
    .await;
    let wf = t.workflow(0);
    assert_eq!(wf.status(), WorkflowStatus::Completed, "{wf:?}");
    assert_eq!(read(&t, "solution.py"), kept);
    assert_eq!(count(&server, Role::Fix), 0);
    t
}

#[tokio::test]
async fn trailing_junk_after_a_right_function_is_left_out() {
    const JUNK: &str = "```python\ndef add(a, b):\n    return a + b\n\nprint(add(1, 2))\nassert add(1, 1) ==:\n```\n```";
    completes_keeping(JUNK, "def add(a, b):\n    return a + b\n").await;
}

#[tokio::test]
async fn imports_that_fail_in_the_sandbox_and_that_nothing_needs_are_left_out() {
    // Seen in eval runs: right functions under an import the sandbox's Python lacks, a name
    // `itertools` does not have, and a builtin imported from `math`.
    const IMPORTS: &str = "```python\nimport flotilla_no_such_module as np\nfrom itertools import intersperse\nfrom math import max\n\ndef add(a, b):\n    return max(a, b) + min(a, b)\n```";
    let t = completes_keeping(
        IMPORTS,
        "def add(a, b):\n    return max(a, b) + min(a, b)\n",
    )
    .await;
    assert!(
        read(&t, "log.txt").contains(
            "candidate 1: `import flotilla_no_such_module as np`, `from itertools import intersperse`, `from math import max` cannot be imported here and nothing needs it: left out"
        ),
        "{}",
        read(&t, "log.txt")
    );
}

#[tokio::test]
async fn a_test_writers_implementation_that_imports_the_code_runs_without_that_import() {
    // The reply imports the code, then defines it: as a candidate, the import would be the code
    // importing itself (an ImportError in Python), so it is left behind.
    const SELF_IMPORT: &str =
        "```python\nfrom solution import add\n\ndef add(a, b):\n    return a + b\n```";
    let (_server, t) = finished(
        Script {
            code: &[BAD_CODE],
            fixes: &[BAD_CODE],
            review: "CODE",
            tests: &[SELF_IMPORT, TESTS],
        },
        ONE_BY_ONE,
    )
    .await;
    let wf = t.workflow(0);
    assert_eq!(wf.status(), WorkflowStatus::Completed, "{wf:?}");
    let json = result_json(&t);
    assert_eq!(json["candidates"][1]["origin"], "from test suite 1");
    assert_eq!(
        json["candidates"][1]["chosen"], true,
        "{}",
        json["candidates"]
    );
    assert_eq!(
        read(&t, "solution.py"),
        "def add(a, b):\n    return a + b\n"
    );
}

#[tokio::test]
async fn a_reply_with_no_code_is_asked_again_and_never_run() {
    const PROSE: &str = "To add two numbers, use the plus operator on them and return it.";
    let (server, t) = finished(
        Script {
            code: &[PROSE, GOOD_CODE],
            fixes: &[BAD_CODE],
            review: "CODE",
            tests: &[TESTS],
        },
        ONE_BY_ONE,
    )
    .await;
    let wf = t.workflow(0);
    assert_eq!(wf.status(), WorkflowStatus::Completed, "{wf:?}");
    assert_eq!(count(&server, Role::Code), 2);
    assert!(read(&t, "log.txt").contains("no usable code in the reply (not run)"));
    // One candidate only: the prose was never written or run.
    assert!(!wf_dir(&t).join("candidates/2").exists());
    assert!(read(&t, "candidates/1/solution.py").contains("a + b"));
}

#[tokio::test]
async fn replies_with_no_code_at_all_fail_with_the_reason() {
    let (server, t) = finished(
        Script {
            code: &["I cannot help with that."],
            fixes: &[BAD_CODE],
            review: "CODE",
            tests: &[TESTS],
        },
        ONE_BY_ONE,
    )
    .await;
    assert_eq!(
        t.workflow(0).error().as_deref(),
        Some("the fast model wrote no usable code in 3 replies")
    );
    assert_eq!(
        t.workflow(0).failure(),
        Some(&Failure::NoCode { replies: 3 })
    );
    assert_eq!(count(&server, Role::Code), 3, "asked again twice, no more");
}

#[tokio::test]
async fn a_server_error_fails_the_workflow_naming_the_request() {
    let script = Script {
        code: &[GOOD_CODE],
        fixes: &[GOOD_CODE],
        review: "CODE",
        tests: &[TESTS],
    };
    let (_server, t) = finished_answering(script, ONE_BY_ONE, |req| {
        (req.role() == Role::Tests).then(|| Reply::Status {
            code: 500,
            headers: Vec::new(),
            body: r#"{"error":{"message":"out of memory"}}"#.into(),
        })
    })
    .await;
    let wf = t.workflow(0);
    let Some(Failure::Model { request, problem }) = wf.failure() else {
        panic!("not a model's failure: {wf:?}");
    };
    assert_eq!(*request, Asked::Tests);
    assert!(
        problem.contains("HTTP 500") && problem.contains("out of memory"),
        "{problem}"
    );
    assert!(
        wf.error()
            .is_some_and(|e| e.starts_with("test generation failed: HTTP 500")),
        "{wf:?}"
    );
}

/// Wrong code first, a right fix when asked.
const BAD_THEN_FIXED: Script = Script {
    code: &[BAD_CODE],
    fixes: &[GOOD_CODE],
    review: "CODE",
    tests: &[TESTS],
};

/// llama.cpp's server refusing a prompt longer than its context, byte for byte.
fn context_exceeded() -> Reply {
    Reply::Status {
        code: 400,
        headers: Vec::new(),
        body: r#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":2146,"n_ctx":2048}}"#.into(),
    }
}

#[tokio::test]
async fn a_fix_prompt_too_long_for_the_context_is_asked_again_with_less_output() {
    const FITS: usize = 1200;
    // The first fix request overflows; a shorter one fits.
    let (server, t) = finished_answering(BAD_THEN_FIXED, ONE_BY_ONE, |req| {
        (req.role() == Role::Fix && req.last_user().len() > FITS).then(context_exceeded)
    })
    .await;
    let fixes: Vec<usize> = server
        .chat_requests()
        .iter()
        .filter(|r| r.role() == Role::Fix)
        .map(|r| r.last_user().len())
        .collect();
    assert!(
        fixes.len() >= 2 && fixes[0] > FITS && fixes[1] <= FITS,
        "{fixes:?}"
    );
    assert_eq!(
        t.workflow(0).status(),
        WorkflowStatus::Completed,
        "{:?}",
        t.workflow(0)
    );
    assert!(read(&t, "solution.py").contains("a + b"));
}

#[tokio::test]
async fn a_server_failing_a_fix_keeps_the_code_already_tested() {
    let (server, t) = finished_answering(BAD_THEN_FIXED, ONE_BY_ONE, |req| {
        (req.role() == Role::Fix).then(context_exceeded)
    })
    .await;
    let wf = t.workflow(0);
    assert!(
        wf.error().is_some_and(|e| e
            .starts_with("fixing the code failed: HTTP 400 from http://127.0.0.1:")
            && e.contains("exceeds the available context size")),
        "{wf:?}"
    );
    assert_eq!(count(&server, Role::Fix), 2, "asked once more, no more");
    assert!(
        read(&t, "solution.py").contains("a - b"),
        "the tested code is kept"
    );
}

#[tokio::test]
async fn no_usable_tests_is_said_and_the_code_is_still_kept() {
    let (server, t) = finished(
        Script {
            code: &[GOOD_CODE],
            fixes: &[BAD_CODE],
            review: "CODE",
            tests: &["```python\ndef test_truth():\n    assert True\n```"],
        },
        ONE_BY_ONE,
    )
    .await;
    assert_eq!(
        t.workflow(0).error().as_deref(),
        Some("no usable tests after 3 tries")
    );
    assert_eq!(count(&server, Role::Tests), 3);
    assert!(read(&t, "solution.py").contains("a + b"));
    assert_eq!(count(&server, Role::Fix), 0, "the code is never blamed");
}

#[tokio::test]
async fn tests_that_cannot_load_are_rewritten_and_never_blamed_on_the_code() {
    const BROKEN: &str = "```python\nfrom math import no_such_function\nfrom solution import add\n\ndef test_add():\n    assert add(1, 2) == 3\n```";
    let (server, t) = finished(
        Script {
            code: &[GOOD_CODE],
            fixes: &[BAD_CODE],
            review: "CODE",
            tests: &[BROKEN],
        },
        ONE_BY_ONE,
    )
    .await;
    let error = t.workflow(0).error().unwrap_or_default();
    assert!(
        error.starts_with("tests could not load: ") && error.contains("no_such_function"),
        "{error}"
    );
    assert_eq!(count(&server, Role::Fix), 0, "the code is never blamed");
    assert_eq!(count(&server, Role::Tests), 3, "rewritten twice, no more");
    assert!(read(&t, "solution.py").contains("a + b"));
}

#[tokio::test]
async fn cancelling_while_tests_run_kills_them_at_once() {
    // The test starts a process with a marker on its command line; the host must not see it
    // once the workflow is cancelled.
    let marker = format!("4{}.5", std::process::id());
    let hang: &'static str = Box::leak(
        format!(
            "```python\nimport subprocess, time\nfrom solution import *\n\ndef test_hang():\n    add(1, 2)\n    subprocess.Popen(['sleep', '{marker}'])\n    print('hanging', 'now', flush=True)\n    time.sleep(1000)\n    assert add(1, 2) == 3\n```"
        )
        .into_boxed_str(),
    );
    let tests: &'static [&'static str] = Box::leak(vec![hang].into_boxed_slice());
    let server = MockServer::start(
        Wire::OpenAi,
        script(Script {
            code: &[GOOD_CODE],
            fixes: &[GOOD_CODE],
            review: "CODE",
            tests,
        }),
    )
    .await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ONE_BY_ONE));
    t.submit("write a function that adds two numbers");
    // Its output reaching the log is the event that says it is running.
    t.wait_until("the hanging test to start", DEADLINE, |app| {
        app.model()
            .store
            .at(0)
            .and_then(|w| app.model().logs.get(&w.id))
            .is_some_and(|l| l.lines(0, usize::MAX).any(|l| l.contains("hanging now")))
    })
    .await;
    let running = |marker: &str| {
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .any(|c| c.starts_with("sleep ") && c.contains(marker))
    };
    // Popen returns before `sleep` is exec'd: wait for it to show (another process's state,
    // which sends no event: polled, not spun on).
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !running(&marker) {
        assert!(
            std::time::Instant::now() < deadline,
            "the test's process never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    t.key(KeyCode::Tab, KeyModifiers::NONE);
    t.key(KeyCode::Char('c'), KeyModifiers::NONE);
    t.wait_all_finished(Duration::from_secs(5)).await;
    assert_eq!(t.workflow(0).error().as_deref(), Some("cancelled"));
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while running(&marker) {
        assert!(
            std::time::Instant::now() < deadline,
            "the test's process outlived the cancel"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(result_json(&t)["error"], "cancelled");
}

#[tokio::test]
async fn run_tests_false_stops_after_the_code() {
    let (server, t) = finished(
        Script {
            code: &[GOOD_CODE],
            fixes: &[GOOD_CODE],
            review: "CODE",
            tests: &[TESTS],
        },
        "run_tests = false",
    )
    .await;
    assert_eq!(
        t.app.model().store.at(0).map(|w| w.status()),
        Some(WorkflowStatus::Completed)
    );
    assert_eq!(roles(&server), [Role::Naming, Role::Plan, Role::Code]);
    assert_eq!(result_json(&t)["attempts"], 0);
    assert_eq!(
        read(&t, "solution.py"),
        "def add(a, b):\n    return a + b\n"
    );
}

#[tokio::test]
async fn the_language_follows_the_description() {
    const JS_CODE: &str =
        "```javascript\nfunction add(a, b) { return a + b; }\nmodule.exports = { add };\n```";
    const JS_TESTS: &str = "```javascript\nconst test = require('node:test');\nconst assert = require('node:assert');\nconst { add } = require('./solution.js');\ntest('adds', () => assert.strictEqual(add(2, 3), 5));\n```";
    let server = MockServer::start(
        Wire::OpenAi,
        script(Script {
            code: &[JS_CODE],
            fixes: &[JS_CODE],
            review: "CODE",
            tests: &[JS_TESTS],
        }),
    )
    .await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ""));
    t.submit("a node script that adds two numbers");
    t.wait_all_finished(DEADLINE).await;
    let wf = t.workflow(0);
    assert_eq!(
        wf.status(),
        WorkflowStatus::Completed,
        "{wf:?} {}",
        t.log_text(0)
    );
    let json = result_json(&t);
    assert_eq!(json["language"], "javascript");
    assert_eq!(json["main_file"], "solution.js");
    assert_eq!(count(&server, Role::Code), 4, "four candidates by default");
    assert_eq!(count(&server, Role::Tests), 2, "two suites by default");
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

#[tokio::test]
async fn when_no_test_decides_the_candidates_that_behave_alike_win() {
    // Every expected value is wrong: no candidate passes anything, so tests decide nothing.
    const ALL_WRONG: &str =
        "```python\nfrom solution import add\n\nassert add(2, 3) == 7\nassert add(1, 1) == 3\n```";
    let (_server, t) = finished(
        Script {
            code: &[BAD_CODE, PRODUCT, GOOD_CODE, GOOD_CODE],
            fixes: &[BAD_CODE],
            review: "CODE",
            tests: &[ALL_WRONG],
        },
        "candidates = 4\ntest_suites = 1\nmax_attempts = 1",
    )
    .await;
    let json = result_json(&t);
    let candidates = json["candidates"].as_array().cloned().unwrap_or_default();
    let scores: Vec<u64> = candidates
        .iter()
        .filter_map(|c| c["score"].as_u64())
        .collect();
    assert_eq!(scores, [0, 0, 0, 0]);
    let agreeing: Vec<u64> = candidates
        .iter()
        .filter_map(|c| c["agreeing"].as_u64())
        .collect();
    assert_eq!(agreeing, [1, 1, 2, 2], "a + b twice returns 5 and 2 twice");
    assert_eq!(candidates[2]["chosen"], true, "{candidates:?}");
    assert!(read(&t, "solution.py").contains("a + b"));
    assert_eq!(
        t.workflow(0).error().as_deref(),
        Some("tests failed after 1 attempt: 2 of 2 failing")
    );
}

#[tokio::test]
async fn examples_in_the_task_become_a_suite() {
    let server = MockServer::start(
        Wire::OpenAi,
        script(Script {
            code: &[BAD_CODE, GOOD_CODE],
            fixes: &[BAD_CODE],
            review: "CODE",
            tests: &["I can't write tests."],
        }),
    )
    .await;
    let mut t = TestApp::new(&config(
        "openai",
        &server.base_url(),
        "candidates = 2\ntest_suites = 1\nmax_attempts = 1",
    ));
    // The examples choose the right candidate over the wrong one, but examples are no test
    // suite: with no model-written tests the workflow does not complete.
    t.submit(
        "def add(a, b):\n    \"\"\"Adds, so add(-1, 1) == 0.\n    >>> add(2, 3)\n    5\n    \"\"\"",
    );
    t.wait_all_finished(DEADLINE).await;
    let wf = t.workflow(0);
    assert_eq!(wf.status(), WorkflowStatus::Failed, "{wf:?}");
    assert!(
        wf.error()
            .as_deref()
            .is_some_and(|e| e.contains("no usable tests")),
        "{wf:?}"
    );
    let json = result_json(&t);
    let origins: Vec<&str> = json["suites"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s["origin"].as_str()).collect())
        .unwrap_or_default();
    assert!(origins.contains(&"examples in the task"), "{origins:?}");
    assert!(read(&t, "solution.py").contains("a + b"));
}

#[tokio::test]
async fn code_and_test_requests_end_after_their_block() {
    let (server, _t) = finished(
        Script {
            code: &[GOOD_CODE],
            fixes: &[GOOD_CODE],
            review: "CODE",
            tests: &[TESTS],
        },
        ONE_BY_ONE,
    )
    .await;
    for r in server.chat_requests() {
        let stop = r.body["stop"].clone();
        match r.role() {
            Role::Code | Role::Tests | Role::Fix => {
                assert_eq!(stop, serde_json::json!(["```\n\n"]))
            }
            _ => assert!(stop.is_null(), "{:?}: {stop}", r.role()),
        }
    }
}

#[tokio::test]
async fn passing_tests_alone_do_not_complete_a_workflow_no_other_candidate_confirms() {
    let t = against_the_weak_test(&[GOOD_CODE, PRODUCT]).await;
    let wf = t.workflow(0);
    assert_eq!(wf.status(), WorkflowStatus::Failed);
    assert_eq!(
        wf.error().as_deref(),
        Some(
            "unconfirmed: the code passes all 1 tests, but no other candidate behaves the same on the task's inputs"
        )
    );
    assert!(
        read(&t, "solution.py").contains("a + b"),
        "the earlier is kept"
    );
    // Two candidates that agree complete it.
    let t = against_the_weak_test(&[GOOD_CODE, GOOD_CODE]).await;
    assert_eq!(t.workflow(0).status(), WorkflowStatus::Completed);
}

#[tokio::test]
async fn passing_code_most_candidates_dispute_does_not_complete_a_workflow() {
    // a + b, a * b and a ** b all pass the weak test; the two that agree (a + b) are not most
    // of the four.
    let t = against_the_weak_test(&[GOOD_CODE, PRODUCT, GOOD_CODE, POWER]).await;
    let wf = t.workflow(0);
    assert_eq!(wf.status(), WorkflowStatus::Failed);
    assert_eq!(
        wf.error().as_deref(),
        Some(
            "unconfirmed: the code passes all 1 tests, but only 2 of the 4 candidates that return values behave like it"
        )
    );
    assert!(read(&t, "solution.py").contains("a + b"));
    // A third a + b makes them most: the same weak test then completes it.
    let t = against_the_weak_test(&[GOOD_CODE, PRODUCT, GOOD_CODE, GOOD_CODE]).await;
    assert_eq!(t.workflow(0).status(), WorkflowStatus::Completed);
}

#[tokio::test]
async fn candidates_are_probed_again_when_the_replies_call_with_the_wrong_type() {
    // The only call in the replies, `add(None, 2)`, raises a TypeError in every candidate, and
    // all pass the one test: with nothing to tell them apart the first, a product, was kept.
    // Plain numbers show three sums agreeing.
    const RAISES: &str = "```python\nfrom solution import add\n\ndef test_none():\n    try:\n        add(None, 2)\n    except TypeError:\n        return\n    assert False\n```";
    let t = against(&[PRODUCT, GOOD_CODE, GOOD_CODE, GOOD_CODE], RAISES).await;
    let wf = t.workflow(0);
    assert_eq!(wf.status(), WorkflowStatus::Completed, "{:?}", wf.error());
    assert!(read(&t, "solution.py").contains("a + b"));
    assert!(read(&t, "log.txt").contains("probing again with"));
}

/// Rust's `add`: the sum, and a product, difference, quotient and maximum; only the sum and the product
/// meet the weak test `add(2, 2) == 4`.
const RS_SUM: &str = "```rust\npub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n```";
const RS_PRODUCT: &str = "```rust\npub fn add(a: i32, b: i32) -> i32 {\n    a * b\n}\n```";
const RS_DIFFERENCE: &str = "```rust\npub fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n```";
const RS_QUOTIENT: &str =
    "```rust\npub fn add(a: i32, b: i32) -> i32 {\n    a.checked_div(b).unwrap_or(0)\n}\n```";
const RS_LARGER: &str = "```rust\npub fn add(a: i32, b: i32) -> i32 {\n    a.max(b)\n}\n```";
const RS_WEAK: &str =
    "```rust\nuse solution::*;\n\n#[test]\nfn adds() {\n    assert_eq!(add(2, 2), 4);\n}\n```";

/// A Rust workflow with these candidates against the weak test alone, in one round.
async fn rust_against_the_weak_test(code: &'static [&'static str]) -> TestApp {
    let task = "write a Rust function `add(a: i32, b: i32) -> i32` that adds two numbers";
    against_on(task, code, RS_WEAK).await
}

#[tokio::test]
async fn rust_candidates_are_probed_before_passing_code_completes() {
    // The product alone passes the one test, which the others fail: nothing backs it (the
    // `rs/is_even` workflow that completed wrongly when Rust was not probed).
    let t = rust_against_the_weak_test(&[RS_DIFFERENCE, RS_PRODUCT, RS_QUOTIENT, RS_LARGER]).await;
    let wf = t.workflow(0);
    assert_eq!(wf.status(), WorkflowStatus::Failed, "{:?}", wf.error());
    assert_eq!(
        wf.error().as_deref(),
        Some(
            "unconfirmed: the code passes all 1 tests, but no other candidate behaves the same on the task's inputs"
        )
    );
    assert!(read(&t, "src/lib.rs").contains("a * b"));
    // Three sums of four: most candidates back it, and it completes.
    let t = rust_against_the_weak_test(&[RS_SUM, RS_PRODUCT, RS_SUM, RS_SUM]).await;
    let wf = t.workflow(0);
    assert_eq!(wf.status(), WorkflowStatus::Completed, "{:?}", wf.error());
    assert!(read(&t, "src/lib.rs").contains("a + b"));
}

#[tokio::test]
async fn hostile_tests_from_the_model_reach_nothing_outside_their_sandbox() {
    // A planted secret in the home, and a marker the tests try to create there.
    let home = std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()));
    let secrets = tempfile::tempdir_in(&home).unwrap_or_else(|e| panic!("{e}"));
    let secret = secrets.path().join("api-key");
    std::fs::write(&secret, "sk-planted-secret").unwrap_or_else(|e| panic!("{e}"));
    let marker = home.join(format!("flotilla-pwned-{}", std::process::id()));
    // The tests find flotilla's home from their own folder (<home>/cache/scratch/run-…).
    let hostile: &'static str = Box::leak(
        format!(
            "```python\nimport os\nfrom solution import *\n\ndef test_add():\n    home = os.path.dirname(os.path.dirname(os.path.dirname(os.getcwd())))\n    for p in [os.path.join(home, 'config.toml'), os.path.join(home, 'flotilla.db'), {marker:?}]:\n        try:\n            open(p, 'a').write('pwned')\n            print('WROTE', p)\n        except OSError as e:\n            print('DENIED', p, type(e).__name__)\n    try:\n        print('SECRET', open({secret:?}).read())\n    except OSError as e:\n        print('NO SECRET', type(e).__name__)\n    assert add(2, 3) == 5\n```",
            marker = marker.display().to_string(),
            secret = secret.display().to_string(),
        )
        .into_boxed_str(),
    );
    let tests: &'static [&'static str] = Box::leak(vec![hostile].into_boxed_slice());
    let (_server, t) = finished(
        Script {
            code: &[GOOD_CODE],
            fixes: &[GOOD_CODE],
            review: "CODE",
            tests,
        },
        ONE_BY_ONE,
    )
    .await;
    assert!(!marker.exists(), "the tests wrote in the home");
    let config = std::fs::read_to_string(t.home.path().join("config.toml")).unwrap_or_default();
    assert!(
        !config.contains("pwned"),
        "the tests wrote flotilla's config"
    );
    let runs: String = std::fs::read_dir(wf_dir(&t).join("runs"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    assert!(runs.contains("NO SECRET"), "{runs}");
    assert!(
        runs.contains("DENIED /root") || runs.contains("DENIED /home"),
        "{runs}"
    );
    assert!(!runs.contains("sk-planted-secret"));
    // flotilla's home is under /tmp here: what the tests "wrote" there went to their private
    // /tmp, and the real files are untouched.
    let db = std::fs::read(t.home.path().join("flotilla.db")).unwrap_or_default();
    assert!(
        !db.ends_with(b"pwned"),
        "the tests wrote flotilla's history"
    );
    assert!(
        read(&t, "log.txt").contains("sandbox: fs=ns+landlock"),
        "the log names the protections"
    );
}

/// A plan naming `signature` in Python, for tasks other than `add`.
fn plan_for(signature: &'static str) -> impl Fn(&Request) -> Option<Reply> + Send + Sync + 'static {
    move |req: &Request| {
        (req.role() == Role::Plan).then(|| {
            Reply::text(&format!(
                "Language: python\nFunctions:\n- {signature}\nEdge cases:\n- empty input\n"
            ))
        })
    }
}

#[tokio::test]
async fn a_suite_whose_only_test_asserts_nothing_is_no_test() {
    // Measured on a task the project had never seen: this suite's one test calls without
    // asserting, and two agreeing wrong candidates completed on it.
    const SORTED_SET: &str =
        "```python\ndef dedupe_keep_order(items):\n    return sorted(set(items))\n```";
    const CALLS_ONLY: &str = "```python\nfrom solution import dedupe_keep_order\n\ndef test_dedupe_keep_order():\n    dedupe_keep_order([1, 2, 3, 2, 4, 5])\n```";
    let (server, t) = finished_task(
        "Write a Python function `dedupe_keep_order(items)` that removes duplicates from a list, keeping the first occurrence of each in its original order.",
        Script {
            code: &[SORTED_SET, SORTED_SET],
            fixes: &[SORTED_SET],
            review: "CODE",
            tests: &[CALLS_ONLY],
        },
        "candidates = 2\ntest_suites = 1\nmax_attempts = 1",
        plan_for("dedupe_keep_order(items) -> list"),
    )
    .await;
    let wf = t.workflow(0);
    assert_eq!(wf.status(), WorkflowStatus::Failed, "{wf:?}");
    assert_eq!(wf.error().as_deref(), Some("no usable tests after 3 tries"));
    assert_eq!(count(&server, Role::Tests), 3, "asked again twice");
    let log = read(&t, "log.txt");
    assert!(
        log.contains("no test asserts anything about what the code returns"),
        "{log}"
    );
}

#[tokio::test]
async fn an_example_stated_by_its_arguments_alone_catches_wrong_code() {
    // The task's "for example [1, 2, 3] gives 123" had gone unread, and two agreeing
    // `int(digits[0])` completed on a test they pass.
    const FIRST_DIGIT: &str =
        "```python\ndef digits_to_int(digits):\n    return int(digits[0])\n```";
    const JOINED: &str = "```python\ndef digits_to_int(digits):\n    return int(''.join(str(d) for d in digits))\n```";
    const ONE_DIGIT: &str = "```python\nfrom solution import digits_to_int\n\ndef test_one_digit():\n    assert digits_to_int([7]) == 7\n```";
    let (_server, t) = finished_task(
        "Write a Python function `digits_to_int(digits)` that turns a list of decimal digits into the integer they spell, for example [1, 2, 3] gives 123.",
        Script {
            code: &[FIRST_DIGIT, FIRST_DIGIT, JOINED],
            fixes: &[FIRST_DIGIT],
            review: "CODE",
            tests: &[ONE_DIGIT],
        },
        "candidates = 3\ntest_suites = 1\nmax_attempts = 1",
        plan_for("digits_to_int(digits) -> int"),
    )
    .await;
    let wf = t.workflow(0);
    assert_ne!(wf.status(), WorkflowStatus::Completed, "{wf:?}");
    assert!(
        read(&t, "solution.py").contains("join"),
        "the example chose the right candidate: {}",
        read(&t, "solution.py")
    );
    let suites = result_json(&t)["suites"].to_string();
    assert!(suites.contains("examples in the task"), "{suites}");
}
