//! A real `flotilla` process killed with SIGKILL mid-run: nothing it recorded is lost, and its
//! live workflows come back as failed ("interrupted"), their logs kept.

mod support;

use flotilla::config::Config;
use flotilla::engine::Engine;
use flotilla::event;
use flotilla::home::Home;
use flotilla::workflow::WorkflowStatus;
use support::harness::{home_for, start_headless_run};
use support::mock::{MockServer, Reply, Wire, named_then};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_process_leaves_its_history_and_its_live_workflows_are_interrupted() {
    let server = MockServer::start(Wire::OpenAi, named_then(Reply::Stall)).await;
    let home = home_for(&server);

    // Killed while it plans (its plan request stalls on the server).
    let mut child =
        start_headless_run(home.path(), "write a function to validate email addresses").await;
    // SAFETY: signals the child this test started.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
    let _ = child.wait();

    // Start again on the same home.
    let paths = Home::at(home.path());
    let config = Config::load(&paths.config_file).unwrap_or_else(|e| panic!("{e}"));
    let (tx, _rx) = event::channel();
    let engine = Engine::new(config, paths.clone(), tx).unwrap_or_else(|e| panic!("{e}"));
    let history = engine.take_history();
    assert_eq!(history.len(), 1);
    let wf = &history[0];
    assert_eq!(
        wf.name.as_deref(),
        Some("email-validator"),
        "its name was recorded before the kill"
    );
    assert_eq!(wf.status(), WorkflowStatus::Failed);
    assert_eq!(wf.error().as_deref(), Some("interrupted"));
    assert!(wf.id.as_str().starts_with("wf_1_"));
    let log =
        std::fs::read_to_string(paths.workflow_dir(&wf.id).join("log.txt")).unwrap_or_default();
    assert!(
        log.contains("Consulting overseer"),
        "the partial log is kept: {log}"
    );
    let changes = engine_transitions(&paths, wf);
    assert!(
        changes.contains(&"running".to_owned())
            && changes.last().map(String::as_str) == Some("failed"),
        "{changes:?}"
    );

    // The id counter goes on from the history.
    let next = engine
        .start("another task".into())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(next.id.as_str().starts_with("wf_2_"), "{}", next.id);
}

fn engine_transitions(home: &Home, wf: &flotilla::workflow::Workflow) -> Vec<String> {
    let db = flotilla::store::db::Db::open(&home.db_file).unwrap_or_else(|e| panic!("{e}"));
    db.transitions(&wf.id)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .filter_map(|(_, s, _)| s.map(|s| s.as_str().to_owned()))
        .collect()
}
