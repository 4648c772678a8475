//! The app driven through its event channel against a scripted loopback server that speaks the
//! real OpenAI (SSE) and Ollama (NDJSON) wire formats.

mod support;

use crossterm::event::{KeyCode, KeyModifiers};
use flotilla::app::Overlay;
use flotilla::keymap::Focus;
use flotilla::workflow::WorkflowStatus;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::harness::{TestApp, config};
use support::mock::{MockServer, Reply, Request, Role, Wire, named_then, namer_and_coder};

const DEADLINE: Duration = Duration::from_secs(20);

/// The status of the `i`th workflow; a missing row is a failure, never read as some status.
fn status(t: &TestApp, i: usize) -> WorkflowStatus {
    t.app
        .model()
        .store
        .at(i)
        .map(|w| w.status())
        .unwrap_or_else(|| panic!("no workflow at row {i}"))
}

#[tokio::test]
async fn foreground_and_background_workflows_run_in_parallel_and_complete() {
    let server = MockServer::start(Wire::OpenAi, namer_and_coder).await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ""));

    t.submit("write a function to validate email addresses");
    assert_eq!(t.app.model().store.len(), 1);
    let first = t.app.model().store.at(0).map(|w| w.id.clone());
    assert_eq!(
        t.app.view().selected,
        first,
        "a foreground workflow takes the selection"
    );
    assert_eq!(t.app.input_text(), "", "the input is free again at once");

    t.type_text("create a REST API client for GitHub");
    t.key(KeyCode::Enter, KeyModifiers::ALT);
    assert_eq!(t.app.model().store.len(), 2);
    assert_eq!(
        t.app.view().selected,
        first,
        "a background workflow leaves the selection alone"
    );
    let second = t
        .app
        .model()
        .store
        .at(1)
        .map(|w| w.id.clone())
        .unwrap_or_else(|| panic!("no second workflow"));
    assert!(second.as_str().starts_with("wf_2_"), "{second}");
    let notice = t
        .app
        .view()
        .notice
        .as_ref()
        .map(|n| n.text.clone())
        .unwrap_or_default();
    assert_eq!(notice, format!("Started workflow {second}"));

    t.wait_all_finished(DEADLINE).await;
    for i in 0..2 {
        let wf = t
            .app
            .model()
            .store
            .at(i)
            .unwrap_or_else(|| panic!("missing workflow {i}"));
        assert_eq!(wf.status(), WorkflowStatus::Completed, "{wf:?}");
        assert!(wf.progress.starts_with("Completed in "), "{}", wf.progress);
        assert!(wf.end_time.is_some());
        let result = wf.result().unwrap_or_else(|| panic!("no result"));
        let code = std::fs::read_to_string(result.dir.join("solution.py")).unwrap_or_default();
        assert_eq!(code, "def add(a, b):\n    return a + b\n");
        assert_eq!(
            (result.attempts, result.tests_passed, result.tests_failed),
            (1, 3, 0)
        );
        let log = std::fs::read_to_string(result.dir.join("log.txt")).unwrap_or_default();
        assert!(log.contains("def add(a, b):"), "{log}");
        assert!(log.contains("named by the veryfast model"), "{log}");
    }
    assert_eq!(t.workflow(0).name.as_deref(), Some("email-validator"));
    assert_eq!(t.workflow(1).name.as_deref(), Some("rest-client"));
    assert!(
        t.log_text(0).contains("return a + b"),
        "the streamed code reaches the log pane"
    );
    // Naming asked with a short few-shot prompt and a small token limit.
    let naming: Vec<Request> = server
        .chat_requests()
        .into_iter()
        .filter(Request::is_naming)
        .collect();
    assert_eq!(naming.len(), 2);
    assert!(
        naming[0].body["max_tokens"]
            .as_u64()
            .is_some_and(|n| n <= 32)
    );
    assert!(
        naming[0].body["messages"]
            .as_array()
            .is_some_and(|m| m.len() >= 5)
    );
    assert_eq!(naming[0].body["stream"], true);
}

#[tokio::test]
async fn generate_command_flags_start_in_background() {
    let server = MockServer::start(Wire::OpenAi, namer_and_coder).await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ""));
    t.submit("write a function to validate email addresses");
    t.submit("/generate --background build a rest thing");
    t.submit("/generate -b build another rest thing");
    assert_eq!(t.app.model().store.len(), 3);
    assert_eq!(
        t.app.view().selected,
        t.app.model().store.at(0).map(|w| w.id.clone())
    );
    t.wait_all_finished(DEADLINE).await;
    let names: Vec<_> = t
        .app
        .model()
        .store
        .iter()
        .filter_map(|w| w.name.clone())
        .collect();
    assert_eq!(
        names,
        vec!["email-validator", "rest-client", "rest-client-2"],
        "repeated names get -2"
    );
}

#[tokio::test]
async fn ollama_wire_format_works() {
    let server = MockServer::start(Wire::Ollama, namer_and_coder).await;
    let mut t = TestApp::new(&config("ollama", &server.base_url(), ""));
    t.submit("write a function to validate email addresses");
    t.wait_all_finished(DEADLINE).await;
    assert_eq!(status(&t, 0), WorkflowStatus::Completed);
    assert_eq!(t.workflow(0).name.as_deref(), Some("email-validator"));
    let requests = server.chat_requests();
    assert!(requests.iter().all(|r| r.path == "/api/chat"));
    assert!(
        requests
            .iter()
            .any(|r| r.body["options"]["num_predict"].as_u64().is_some())
    );
}

#[tokio::test]
async fn every_ollama_request_carries_its_context_and_a_cut_prompt_is_an_error() {
    let server = MockServer::start(Wire::Ollama, namer_and_coder).await;
    let text = config("ollama", &server.base_url(), "").replace(
        "max_retries = 2\n",
        "max_retries = 2\nctx = 2048\nkeep_alive = \"10m\"\n",
    );
    let mut t = TestApp::new(&text);
    t.submit("write a function to validate email addresses");
    t.wait_all_finished(DEADLINE).await;
    assert_eq!(status(&t, 0), WorkflowStatus::Completed);
    let requests = server.chat_requests();
    assert!(requests.len() >= 3);
    for r in &requests {
        assert_eq!(
            r.body["options"]["num_ctx"].as_u64(),
            Some(2048),
            "{}",
            r.body
        );
        assert_eq!(r.body["keep_alive"].as_str(), Some("10m"), "{}", r.body);
    }

    // Ollama says it read the whole context: it cut the prompt, and the workflow says so.
    *server.about.prompt_eval_count.lock().expect("count") = Some(2048);
    t.submit("write a function to validate email addresses");
    t.wait_all_finished(DEADLINE).await;
    assert_eq!(status(&t, 1), WorkflowStatus::Failed);
    let reason = t
        .workflow(1)
        .failure()
        .map(|f| f.to_string())
        .unwrap_or_default();
    assert!(reason.contains("num_ctx of 2048"), "{reason}");
    assert!(reason.contains("cut"), "{reason}");

    // A prompt far longer than the context is refused before it is sent.
    *server.about.prompt_eval_count.lock().expect("count") = None;
    let before = server.chat_requests().len();
    t.submit(&format!(
        "write a function that {}",
        "handles many words ".repeat(600)
    ));
    t.wait_all_finished(DEADLINE).await;
    assert_eq!(status(&t, 2), WorkflowStatus::Failed);
    let reason = t
        .workflow(2)
        .failure()
        .map(|f| f.to_string())
        .unwrap_or_default();
    assert!(
        reason.contains("more than Ollama's num_ctx of 2048"),
        "{reason}"
    );
    let sent = &server.chat_requests()[before..];
    assert!(
        sent.iter().all(|r| r.is_naming()),
        "only the name was asked for; {} requests",
        sent.len()
    );
}

#[tokio::test]
async fn garbage_name_falls_back_to_keywords() {
    let server = MockServer::start(Wire::OpenAi, |req: &Request, n| {
        if req.is_naming() {
            Reply::text("!!! ???")
        } else {
            namer_and_coder(req, n)
        }
    })
    .await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ""));
    t.submit("write a function to validate email addresses");
    t.wait_all_finished(DEADLINE).await;
    assert_eq!(
        t.workflow(0).name.as_deref(),
        Some("validate-email-addresses")
    );
    assert!(
        t.log_text(0)
            .contains("named from the description's keywords"),
        "{}",
        t.log_text(0)
    );
    assert_eq!(status(&t, 0), WorkflowStatus::Completed);
}

#[tokio::test]
async fn slow_naming_times_out_and_falls_back_without_blocking_input() {
    let server = MockServer::start(Wire::OpenAi, |req: &Request, n| {
        if req.is_naming() {
            Reply::Stall
        } else {
            namer_and_coder(req, n)
        }
    })
    .await;
    let mut t = TestApp::new(
        &config("openai", &server.base_url(), "")
            .replace("naming_timeout = 10", "naming_timeout = 0.5"),
    );
    t.submit("write a function to validate email addresses");
    // Typing goes on while naming waits.
    t.type_text("next task");
    assert_eq!(t.app.input_text(), "next task");
    t.wait_all_finished(DEADLINE).await;
    assert_eq!(
        t.workflow(0).name.as_deref(),
        Some("validate-email-addresses")
    );
    assert!(
        t.log_text(0).contains("did not answer within 0.5s"),
        "{}",
        t.log_text(0)
    );
}

#[tokio::test]
async fn dead_server_fails_the_workflow_with_a_reason_and_the_app_goes_on() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(9);
    let mut t = TestApp::new(&config(
        "openai",
        &format!("http://127.0.0.1:{port}/v1"),
        "",
    ));
    t.submit("write a function to validate email addresses");
    t.wait_all_finished(DEADLINE).await;
    let wf = t.workflow(0);
    assert_eq!(wf.status(), WorkflowStatus::Failed);
    assert_eq!(wf.name.as_deref(), Some("validate-email-addresses"));
    let error = wf.error().unwrap_or_default();
    assert!(
        error.contains("cannot connect") && error.contains(&port.to_string()),
        "{error}"
    );
    t.submit("another task");
    assert_eq!(t.app.model().store.len(), 2, "the app still takes work");
}

#[tokio::test]
async fn refusals_429_and_5xx_are_retried() {
    let code_calls = Arc::new(AtomicUsize::new(0));
    let calls = Arc::clone(&code_calls);
    let server = MockServer::start(Wire::OpenAi, move |req: &Request, n| {
        if req.is_naming() {
            return namer_and_coder(req, n);
        }
        if req.role() != Role::Plan {
            return namer_and_coder(req, n);
        }
        match calls.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::Status {
                code: 429,
                headers: vec![("retry-after".into(), "0".into())],
                body: r#"{"error":{"message":"slow down"}}"#.into(),
            },
            1 => Reply::Status {
                code: 503,
                headers: vec![],
                body: "busy".into(),
            },
            _ => namer_and_coder(req, n),
        }
    })
    .await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ""));
    t.submit("write a function to validate email addresses");
    t.wait_all_finished(DEADLINE).await;
    assert_eq!(
        status(&t, 0),
        WorkflowStatus::Completed,
        "{:?}",
        t.app.model().store.at(0)
    );
    assert_eq!(
        code_calls.load(Ordering::SeqCst),
        3,
        "two refusals, then the plan"
    );
}

#[tokio::test]
async fn retries_are_bounded() {
    let server = MockServer::start(Wire::OpenAi, |req: &Request, n| {
        if req.is_naming() {
            namer_and_coder(req, n)
        } else {
            Reply::Status {
                code: 500,
                headers: vec![],
                body: r#"{"error":{"message":"model crashed"}}"#.into(),
            }
        }
    })
    .await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ""));
    t.submit("write a function to validate email addresses");
    t.wait_all_finished(DEADLINE).await;
    let error = t
        .app
        .model()
        .store
        .at(0)
        .and_then(|w| w.error().clone())
        .unwrap_or_default();
    assert!(
        error.contains("HTTP 500") && error.contains("model crashed"),
        "{error}"
    );
    let code_requests = server
        .chat_requests()
        .iter()
        .filter(|r| !r.is_naming())
        .count();
    assert_eq!(code_requests, 3, "one try and max_retries = 2 retries");
}

#[tokio::test]
async fn error_mid_stream_fails_with_the_servers_message() {
    for wire in [Wire::OpenAi, Wire::Ollama] {
        let server = MockServer::start(wire, |req: &Request, n| {
            if req.is_naming() {
                namer_and_coder(req, n)
            } else {
                Reply::ErrorMidStream {
                    pieces: vec!["def ".into()],
                    message: "context window exceeded".into(),
                }
            }
        })
        .await;
        let kind = if wire == Wire::OpenAi {
            "openai"
        } else {
            "ollama"
        };
        let mut t = TestApp::new(&config(kind, &server.base_url(), ""));
        t.submit("write a function to validate email addresses");
        t.wait_all_finished(DEADLINE).await;
        let error = t
            .app
            .model()
            .store
            .at(0)
            .and_then(|w| w.error().clone())
            .unwrap_or_default();
        assert!(
            error.contains("context window exceeded"),
            "{wire:?}: {error}"
        );
    }
}

#[tokio::test]
async fn garbage_stream_fails_one_workflow() {
    let server = MockServer::start(
        Wire::OpenAi,
        named_then(Reply::Raw("data: <html>oops</html>\n\n".into())),
    )
    .await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ""));
    t.submit("write a function to validate email addresses");
    t.wait_all_finished(DEADLINE).await;
    let error = t
        .app
        .model()
        .store
        .at(0)
        .and_then(|w| w.error().clone())
        .unwrap_or_default();
    assert!(error.contains("unexpected"), "{error}");
}

#[tokio::test]
async fn control_sequences_in_model_output_never_reach_the_log() {
    let server = MockServer::start(Wire::OpenAi, |req: &Request, _| {
        if req.is_naming() {
            Reply::text("\u{1b}[31mevil\u{1b}]0;pwned\u{7}-name")
        } else {
            Reply::text("```python\nprint('hi')\u{1b}[2J\u{1b}]0;title\u{7}\n```\n")
        }
    })
    .await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ""));
    t.submit("write a function to validate email addresses");
    t.wait_all_finished(DEADLINE).await;
    let log = t.log_text(0);
    assert!(!log.contains('\u{1b}') && !log.contains('\u{7}'), "{log:?}");
    assert!(log.contains("print('hi')"));
    let name = t
        .app
        .model()
        .store
        .at(0)
        .and_then(|w| w.name.clone())
        .unwrap_or_default();
    assert!(flotilla::workflow::name::is_valid(&name), "{name:?}");
}

#[tokio::test]
async fn run_slots_queue_named_workflows() {
    let server = MockServer::start(Wire::OpenAi, |req: &Request, n| {
        if req.role() != Role::Plan {
            namer_and_coder(req, n)
        } else {
            let mut pieces: Vec<String> = (0..20).map(|i| format!("thinking {i}\n")).collect();
            pieces.push(support::mock::PLAN.into());
            Reply::Text {
                pieces,
                delay: Duration::from_millis(20),
            }
        }
    })
    .await;
    let mut t = TestApp::new(
        &config("openai", &server.base_url(), "").replace("max_parallel = 4", "max_parallel = 1"),
    );
    t.submit("write a function to validate email addresses");
    t.submit("create a REST API client for GitHub");
    t.wait_until(
        "the second workflow to wait for a slot with its name",
        DEADLINE,
        |app| {
            app.model()
                .store
                .at(1)
                .is_some_and(|w| w.status() == WorkflowStatus::Queued && w.name.is_some())
        },
    )
    .await;
    assert_eq!(status(&t, 0), WorkflowStatus::Running);
    t.wait_all_finished(DEADLINE).await;
    assert_eq!(status(&t, 1), WorkflowStatus::Completed);
}

#[tokio::test]
async fn cancel_key_fails_the_selected_workflow_with_reason_cancelled() {
    let server = MockServer::start(Wire::OpenAi, named_then(Reply::Stall)).await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ""));
    t.submit("write a function to validate email addresses");
    t.wait_until("the workflow to run", DEADLINE, |app| {
        app.model()
            .store
            .at(0)
            .is_some_and(|w| w.status() == WorkflowStatus::Running)
    })
    .await;
    t.key(KeyCode::Tab, KeyModifiers::NONE);
    assert_eq!(t.app.view().focus, Focus::Table);
    t.key(KeyCode::Char('c'), KeyModifiers::NONE);
    t.wait_all_finished(DEADLINE).await;
    let wf = t.workflow(0);
    assert_eq!(wf.status(), WorkflowStatus::Failed);
    assert_eq!(wf.error().as_deref(), Some("cancelled"));
}

#[tokio::test]
async fn workflow_and_cancel_commands_resolve_ids_and_names() {
    let server = MockServer::start(Wire::OpenAi, named_then(Reply::Stall)).await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ""));
    t.submit("write a function to validate email addresses");
    t.type_text("create a REST API client");
    t.key(KeyCode::Char('g'), KeyModifiers::CONTROL);
    t.wait_until("both named", DEADLINE, |app| {
        app.model().store.iter().all(|w| w.name.is_some())
    })
    .await;
    let second = t
        .app
        .model()
        .store
        .at(1)
        .map(|w| w.id.clone())
        .unwrap_or_else(|| panic!("no second"));

    t.submit("/wf 2");
    assert_eq!(t.app.view().selected.as_ref(), Some(&second));
    assert_eq!(t.app.overlay(), Some(&Overlay::Details(second.clone())));
    t.key(KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!(t.app.overlay(), None);

    t.submit("/cancel email-validator");
    t.submit(&format!("/cancel {second}"));
    t.wait_all_finished(DEADLINE).await;
    assert!(
        t.app
            .model()
            .store
            .iter()
            .all(|w| w.error().as_deref() == Some("cancelled"))
    );

    t.submit("/wf nope");
    assert_eq!(
        t.app.input_text(),
        "/wf nope",
        "a failed command keeps its text"
    );
    assert!(
        t.app
            .view()
            .notice
            .as_ref()
            .is_some_and(|n| n.text.contains("no workflow matches"))
    );
}

#[tokio::test]
async fn bad_commands_get_a_hint_and_keep_the_text() {
    let server = MockServer::start(Wire::OpenAi, namer_and_coder).await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ""));
    t.submit("/frobnicate now");
    assert_eq!(t.app.input_text(), "/frobnicate now");
    assert!(
        t.app
            .view()
            .notice
            .as_ref()
            .is_some_and(|n| n.text.starts_with("unknown command /frobnicate"))
    );
    assert!(t.app.model().store.is_empty());
    // Clear the kept text as a user would: to the line's start, then delete to its end.
    t.key(KeyCode::Home, KeyModifiers::NONE);
    t.key(KeyCode::Char('k'), KeyModifiers::CONTROL);
    assert_eq!(t.app.input_text(), "");
    t.submit("/workflows");
    assert_eq!(t.app.view().focus, Focus::Table);
}

#[tokio::test]
async fn quit_asks_first_while_workflows_are_live() {
    let server = MockServer::start(Wire::OpenAi, named_then(Reply::Stall)).await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ""));
    t.submit("write a function to validate email addresses");
    t.key(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(t.app.overlay(), Some(&Overlay::ConfirmQuit));
    assert!(!t.app.should_quit());
    t.key(KeyCode::Char('n'), KeyModifiers::NONE);
    assert_eq!(t.app.overlay(), None);
    t.submit("/quit");
    assert_eq!(t.app.overlay(), Some(&Overlay::ConfirmQuit));
    t.key(KeyCode::Char('y'), KeyModifiers::NONE);
    assert!(t.app.should_quit());
    // What main does next: live workflows end as "cancelled at exit", recorded before it returns.
    let engine = t.app.engine().clone();
    engine.shutdown(DEADLINE).await;
    let db = flotilla::store::db::Db::open(&t.home.path().join("flotilla.db"))
        .unwrap_or_else(|e| panic!("{e}"));
    let recorded = db.load().unwrap_or_default();
    assert_eq!(recorded[0].error().as_deref(), Some("cancelled at exit"));
    t.wait_all_finished(DEADLINE).await;
    assert_eq!(t.workflow(0).error().as_deref(), Some("cancelled at exit"));
}

#[tokio::test]
async fn retry_delete_clear_parallel_and_filter() {
    let server = MockServer::start(Wire::OpenAi, namer_and_coder).await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ""));
    t.submit("write a function to validate email addresses");
    t.submit("create a REST API client for GitHub");
    t.wait_all_finished(DEADLINE).await;
    let first = t
        .app
        .model()
        .store
        .at(0)
        .map(|w| w.id.clone())
        .unwrap_or_else(|| panic!("no workflow"));

    // r on the first: a new workflow with the same task, linked to it in the history.
    t.submit("/wf 1");
    t.key(KeyCode::Esc, KeyModifiers::NONE);
    t.key(KeyCode::Tab, KeyModifiers::NONE);
    t.key(KeyCode::Char('r'), KeyModifiers::NONE);
    assert_eq!(t.app.model().store.len(), 3);
    let retry = t.workflow(2);
    assert_eq!(
        retry.description,
        "write a function to validate email addresses"
    );
    assert!(retry.id.as_str().starts_with("wf_3_"));
    assert_eq!(t.app.view().selected.as_ref(), Some(&retry.id));
    t.wait_all_finished(DEADLINE).await;
    assert_eq!(t.workflow(2).name.as_deref(), Some("email-validator-2"));

    // The filter: a status, or text; Esc clears it.
    t.key(KeyCode::Char('/'), KeyModifiers::NONE);
    t.type_text("rest");
    assert_eq!(t.app.visible(), vec![1]);
    t.key(KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(t.app.view().mode, flotilla::app::Mode::Normal);
    assert_eq!(
        t.app.view().selected.as_ref().map(|i| i.seq()),
        Some(2),
        "the selection moved onto a shown row"
    );
    t.key(KeyCode::Esc, KeyModifiers::NONE);
    assert!(t.app.view().filter.is_empty());
    t.key(KeyCode::Char('/'), KeyModifiers::NONE);
    t.type_text("completed");
    assert_eq!(t.app.visible().len(), 3);
    t.key(KeyCode::Esc, KeyModifiers::NONE);

    // d asks first, then removes the history and the folder.
    let dir = t.home.path().join("workflows").join(first.as_str());
    assert!(dir.exists());
    t.key(KeyCode::Char('i'), KeyModifiers::NONE);
    t.submit("/delete 1");
    assert_eq!(
        t.app.overlay(),
        Some(&Overlay::ConfirmDelete(first.clone()))
    );
    t.key(KeyCode::Char('n'), KeyModifiers::NONE);
    assert!(dir.exists() && t.app.model().store.get(&first).is_some());
    t.submit("/delete 1");
    t.key(KeyCode::Char('y'), KeyModifiers::NONE);
    assert!(!dir.exists());
    assert!(t.app.model().store.get(&first).is_none());
    let db = flotilla::store::db::Db::open(&t.home.path().join("flotilla.db"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(db.load().map(|w| w.len()).unwrap_or(0), 2);

    // /parallel changes the run slots; /clear deletes every finished workflow.
    t.submit("/parallel 1");
    assert_eq!(t.app.engine().parallel(), 1);
    // /clear asks first, saying how many; n keeps them.
    t.submit("/clear");
    assert!(
        matches!(t.app.overlay(), Some(Overlay::ConfirmClear(ids)) if ids.len() == 2),
        "{:?}",
        t.app.overlay()
    );
    assert!(
        t.screen()
            .contains("Delete 2 finished workflows and their folders?")
    );
    t.key(KeyCode::Char('n'), KeyModifiers::NONE);
    assert_eq!(t.app.model().store.len(), 2);
    assert_eq!(db.load().map(|w| w.len()).unwrap_or(0), 2);
    t.submit("/clear");
    t.key(KeyCode::Char('y'), KeyModifiers::NONE);
    assert!(t.app.model().store.is_empty());
    assert_eq!(db.load().map(|w| w.len()).unwrap_or(9), 0);

    // y with no clipboard shows the path.
    t.submit("another task");
    t.key(KeyCode::Tab, KeyModifiers::NONE);
    t.key(KeyCode::Char('y'), KeyModifiers::NONE);
    let notice = t
        .app
        .view()
        .notice
        .as_ref()
        .map(|n| n.text.clone())
        .unwrap_or_default();
    assert!(notice.contains("workflows/wf_4_"), "{notice}");
}

#[tokio::test]
async fn a_stalled_stream_times_out_with_a_reason() {
    let server = MockServer::start(Wire::OpenAi, named_then(Reply::Stall)).await;
    let config = config("openai", &server.base_url(), "")
        .replace("max_retries = 2", "max_retries = 2\nstall_timeout = 0.5");
    let mut t = TestApp::new(&config);
    t.submit("write a function to validate email addresses");
    t.wait_all_finished(DEADLINE).await;
    let error = t
        .app
        .model()
        .store
        .at(0)
        .and_then(|w| w.error().clone())
        .unwrap_or_default();
    assert!(error.contains("stalled"), "{error}");
}

#[tokio::test]
async fn naming_goes_before_waiting_code_on_a_one_slot_server() {
    let server = MockServer::start(Wire::OpenAi, |req: &Request, n| {
        if req.is_naming() {
            namer_and_coder(req, n)
        } else {
            Reply::Text {
                pieces: (0..20).map(|i| format!("line {i}\n")).collect(),
                delay: Duration::from_millis(15),
            }
        }
    })
    .await;
    let config = config("openai", &server.base_url(), "")
        .replace("max_concurrent = 4", "max_concurrent = 1");
    let mut t = TestApp::new(&config);
    t.submit("write a function to validate email addresses");
    t.submit("create a REST API client for GitHub");
    t.wait_until("both to be running", DEADLINE, |app| {
        app.model()
            .store
            .iter()
            .all(|w| w.status() == WorkflowStatus::Running)
    })
    .await;
    // One code stream holds the only slot; the other waits for it.
    t.wait_until("one plan stream to start", DEADLINE, |app| {
        app.model()
            .logs
            .values()
            .any(|l| l.lines(0, usize::MAX).any(|l| l == "line 0"))
    })
    .await;
    t.submit("parse a csv file");
    t.wait_until("the third workflow to be named", DEADLINE, |app| {
        app.model().store.at(2).is_some_and(|w| w.name.is_some())
    })
    .await;
    let order: Vec<&str> = server
        .chat_requests()
        .iter()
        .map(|r| if r.is_naming() { "name" } else { "other" })
        .collect();
    // The third name was asked while one plan streamed and the other waited: it went first.
    assert_eq!(order[..4], ["name", "name", "other", "name"], "{order:?}");
}

#[tokio::test]
async fn a_connection_dropped_before_any_answer_is_retried() {
    let plans = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&plans);
    let server = MockServer::start(Wire::OpenAi, move |req: &Request, n| {
        if req.role() == Role::Plan && seen.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::Hangup
        } else {
            namer_and_coder(req, n)
        }
    })
    .await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ""));
    t.submit("write a function to validate email addresses");
    t.wait_all_finished(DEADLINE).await;
    assert_eq!(
        status(&t, 0),
        WorkflowStatus::Completed,
        "{:?}",
        t.app.model().store.at(0)
    );
    assert_eq!(
        plans.load(Ordering::SeqCst),
        2,
        "asked again after the hang-up"
    );
}

#[tokio::test]
async fn retry_command_links_the_new_workflow_to_the_old() {
    let server = MockServer::start(Wire::OpenAi, namer_and_coder).await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ""));
    t.submit("create a REST API client for GitHub");
    t.wait_all_finished(DEADLINE).await;
    t.submit("/retry rest-client");
    assert_eq!(t.app.model().store.len(), 2);
    t.wait_all_finished(DEADLINE).await;
    let old = t
        .app
        .model()
        .store
        .at(0)
        .map(|w| w.id.clone())
        .unwrap_or_else(|| panic!("no workflow"));
    let new = t.workflow(1);
    assert_eq!(new.description, "create a REST API client for GitHub");
    assert_eq!(new.status(), WorkflowStatus::Completed);
    let conn = rusqlite::Connection::open(t.home.path().join("flotilla.db"))
        .unwrap_or_else(|e| panic!("{e}"));
    let linked: Option<String> = conn
        .query_row(
            "SELECT retry_of FROM workflows WHERE id = ?1",
            [new.id.as_str()],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(linked.as_deref(), Some(old.as_str()));
    // The dashboard's details and `show` say so, read back from the history too.
    assert_eq!(new.retry_of.as_ref(), Some(&old));
    let home = flotilla::home::Home::at(t.home.path());
    let mut shown = Vec::new();
    flotilla::cli::history::show(&home, "2", false, &mut shown).unwrap_or_else(|e| panic!("{e}"));
    let shown = String::from_utf8_lossy(&shown);
    assert!(shown.contains(&format!("Retry of: {old}")), "{shown}");
    let mut json = Vec::new();
    flotilla::cli::history::show(&home, "2", true, &mut json).unwrap_or_else(|e| panic!("{e}"));
    let json: serde_json::Value = serde_json::from_slice(&json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(json["retry_of"], old.as_str());
    t.submit("/retry nope");
    assert!(
        t.app
            .view()
            .notice
            .as_ref()
            .is_some_and(|n| n.text.contains("no workflow matches"))
    );
}

#[tokio::test]
async fn a_stream_closed_without_its_end_marker_is_an_error() {
    for wire in [Wire::OpenAi, Wire::Ollama] {
        let server = MockServer::start(
            wire,
            named_then(Reply::Truncated(vec!["def add(a, b):\n".into()])),
        )
        .await;
        let kind = if wire == Wire::OpenAi {
            "openai"
        } else {
            "ollama"
        };
        let mut t = TestApp::new(&config(kind, &server.base_url(), ""));
        t.submit("write a function that adds two numbers");
        t.wait_all_finished(DEADLINE).await;
        let wf = t.workflow(0);
        assert_eq!(wf.status(), WorkflowStatus::Failed, "{wire:?}");
        let error = wf.error().unwrap_or_default();
        assert!(
            error.contains("the server closed the stream early"),
            "{wire:?}: {error}"
        );
    }
}

#[tokio::test]
async fn a_trickling_stream_meets_the_request_deadline() {
    // A piece every 200 ms never stalls, but the whole answer takes far longer than allowed.
    let server = MockServer::start(
        Wire::OpenAi,
        named_then(Reply::Text {
            pieces: vec!["word ".into(); 100],
            delay: Duration::from_millis(200),
        }),
    )
    .await;
    let config = config("openai", &server.base_url(), "")
        .replace("max_retries = 2", "max_retries = 2\nrequest_timeout = 1");
    let mut t = TestApp::new(&config);
    t.submit("write a function to validate email addresses");
    t.wait_all_finished(DEADLINE).await;
    let error = t.workflow(0).error().unwrap_or_default();
    assert!(error.contains("request_timeout"), "{error}");
}

#[tokio::test]
async fn lowering_parallel_holds_back_queued_workflows_until_fewer_run() {
    let server = MockServer::start(Wire::OpenAi, named_then(Reply::Stall)).await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ""));
    for n in 0..5 {
        t.submit(&format!("task number {n}"));
    }
    let running = |app: &flotilla::app::App| {
        app.model()
            .store
            .iter()
            .filter(|w| w.status() == WorkflowStatus::Running)
            .count()
    };
    t.wait_until("four running, one queued", DEADLINE, |app| {
        running(app) == 4
            && app
                .model()
                .store
                .at(4)
                .is_some_and(|w| w.status() == WorkflowStatus::Queued)
    })
    .await;
    t.submit("/parallel 2");
    // Two running workflows end: two slots come free, and both are taken back.
    for i in 0..2 {
        t.submit(&format!("/cancel {}", i + 1));
    }
    t.wait_until("two cancelled", DEADLINE, |app| {
        app.model()
            .store
            .iter()
            .filter(|w| w.status() == WorkflowStatus::Failed)
            .count()
            == 2
    })
    .await;
    // The queued one would have had a slot by now if one had gone to it; give the engine
    // the chance by waiting for one more event round trip (a name for a new workflow).
    t.submit("task number 5");
    t.wait_until("the new workflow to be queued", DEADLINE, |app| {
        app.model()
            .store
            .at(5)
            .is_some_and(|w| w.status() == WorkflowStatus::Queued)
    })
    .await;
    assert_eq!(running(&t.app), 2);
    assert_eq!(status(&t, 4), WorkflowStatus::Queued);
    // One more ends: below the limit, the first queued one starts.
    t.submit("/cancel 3");
    t.wait_until("the queued workflow to start", DEADLINE, |app| {
        app.model()
            .store
            .at(4)
            .is_some_and(|w| w.status() == WorkflowStatus::Running)
    })
    .await;
    assert_eq!(running(&t.app), 2);
}

#[tokio::test]
async fn a_workflow_waiting_for_a_server_slot_says_so_instead_of_a_stage() {
    // One request at a time; the first workflow's plan takes a while.
    let slow_plan = Reply::Text {
        pieces: (0..40).map(|i| format!("step {i}\n")).collect(),
        delay: Duration::from_millis(50),
    };
    let planned = Arc::new(AtomicUsize::new(0));
    let script = {
        let planned = Arc::clone(&planned);
        move |req: &Request, _n: usize| match req.role() {
            Role::Plan if planned.fetch_add(1, Ordering::SeqCst) == 0 => slow_plan.clone(),
            _ => namer_and_coder(req, 0),
        }
    };
    let server = MockServer::start(Wire::OpenAi, script).await;
    let text = config("openai", &server.base_url(), "")
        .replace("max_concurrent = 4", "max_concurrent = 1");
    let mut t = TestApp::new(&text);
    t.submit("write a function to validate email addresses");
    t.wait_until("the first plan to be asked", DEADLINE, |_| {
        planned.load(Ordering::SeqCst) >= 1
    })
    .await;
    t.submit("/generate --background create a REST API client for GitHub");
    t.wait_until(
        "the second workflow to wait for the server",
        DEADLINE,
        |app| {
            app.model().store.at(1).is_some_and(|w| {
                w.progress.starts_with("Waiting for local: ") && w.progress.ends_with(" ahead")
            })
        },
    )
    .await;
    // Once served, it shows its stage again, and both complete.
    t.wait_until("the second workflow to be served", DEADLINE, |app| {
        app.model()
            .store
            .at(1)
            .is_some_and(|w| !w.progress.starts_with("Waiting for"))
    })
    .await;
    t.wait_all_finished(DEADLINE).await;
    assert_eq!(status(&t, 0), WorkflowStatus::Completed);
    assert_eq!(status(&t, 1), WorkflowStatus::Completed);
}

#[tokio::test]
async fn a_past_workflows_log_is_read_off_the_loop_when_selected() {
    let server = MockServer::start(Wire::OpenAi, namer_and_coder).await;
    let mut t = TestApp::new(&config("openai", &server.base_url(), ""));
    t.submit("write a function to validate email addresses");
    t.wait_all_finished(DEADLINE).await;
    let id = t.workflow(0).id;
    let mut t = t.reopen();
    assert_eq!(t.workflow(0).id, id, "in the history");
    assert!(
        !t.app.model().logs.contains_key(&id),
        "nothing read before it is selected"
    );
    t.key(KeyCode::Tab, KeyModifiers::NONE);
    t.key(KeyCode::Down, KeyModifiers::NONE);
    assert_eq!(t.app.view().selected.as_ref(), Some(&id));
    // Selecting only asks for it; the text arrives as an event.
    t.wait_until("the log from log.txt", DEADLINE, |app| {
        app.model().logs.get(&id).is_some_and(|l| {
            l.lines(0, usize::MAX)
                .any(|l| l.contains("Starting workflow"))
        })
    })
    .await;
    t.wait_until("the code from the folder", DEADLINE, |app| {
        app.model()
            .results
            .get(&id, flotilla::event::ArtifactKind::Code)
            .is_some()
    })
    .await;
}
