use super::*;
use crate::event::ArtifactKind;
use crate::language::Language;
use crate::workflow::NameSource;
use crate::workflow::record::Tokens;
use crate::workflow::{Failure, Outcome, WorkflowResult};

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_600_000 + secs)
}

fn db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = Db::open(&dir.path().join("flotilla.db")).unwrap_or_else(|e| panic!("{e}"));
    (dir, db)
}

fn ok<T>(r: Result<T, DbError>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// A workflow's whole run as the engine records it: named, running, progress, a log line and
/// an artifact (not history), completed, its stages' record. Returns its result.
fn a_whole_run(db: &Db, id: &WorkflowId) -> WorkflowResult {
    ok(db.apply(&Event::Status {
        id: id.clone(),
        status: WorkflowStatus::Naming,
        progress: "Generating workflow name...".into(),
    }));
    ok(db.apply(&Event::Named {
        id: id.clone(),
        name: "csv-parser".into(),
        source: NameSource::Model,
    }));
    ok(db.apply(&Event::Status {
        id: id.clone(),
        status: WorkflowStatus::Running,
        progress: "Starting workflow...".into(),
    }));
    ok(db.apply(&Event::Progress {
        id: id.clone(),
        progress: "Running tests (1/3)".into(),
    }));
    // Not history: ignored.
    ok(db.apply(&Event::Log {
        id: id.clone(),
        text: "x".into(),
    }));
    ok(db.apply(&Event::artifact(
        id.clone(),
        ArtifactKind::Code,
        "x = 1",
        None,
    )));
    let result = WorkflowResult {
        dir: "/h/workflows/wf_7".into(),
        files: vec!["plan.md".into(), "solution.py".into()],
        main_file: Some("solution.py".into()),
        language: Some(Language::Python),
        attempts: 2,
        tests_passed: 4,
        tests_failed: 0,
    };
    ok(db.apply(&Event::Finished {
        id: id.clone(),
        outcome: Outcome::Completed(result.clone()),
        at: at(45),
    }));
    let mut record = Record::default();
    record.seconds.insert("plan".into(), 1.5);
    record.tokens.insert(
        "fast".into(),
        Tokens {
            tokens_in: 100,
            tokens_out: 50,
        },
    );
    ok(db.record(id, &record));
    result
}

#[test]
fn every_field_round_trips() {
    let (_dir, db) = db();
    let id = WorkflowId::new(7, at(0));
    let wf = Workflow::new(id.clone(), "write a csv parser".into(), at(0));
    ok(db.insert(&wf, None));
    let result = a_whole_run(&db, &id);

    let loaded = ok(db.load());
    assert_eq!(loaded.len(), 1);
    let w = &loaded[0];
    assert_eq!(w.id, id);
    assert_eq!(w.description, "write a csv parser");
    assert_eq!(w.name.as_deref(), Some("csv-parser"));
    assert_eq!(w.status(), WorkflowStatus::Completed);
    assert_eq!(w.progress, "Completed in 45.0s");
    assert_eq!(w.error(), None);
    assert_eq!(w.result(), Some(&result));
    assert_eq!(w.start_time, at(0));
    assert_eq!(w.end_time, Some(at(45)));
    let back = ok(db.record_of(&id));
    assert_eq!(back.seconds.get("plan"), Some(&1.5));
    assert_eq!(
        back.tokens.get("fast"),
        Some(&Tokens {
            tokens_in: 100,
            tokens_out: 50
        })
    );
    let changes = ok(db.transitions(&id));
    let statuses: Vec<_> = changes.iter().filter_map(|(_, s, _)| *s).collect();
    assert_eq!(
        statuses,
        [
            WorkflowStatus::Queued,
            WorkflowStatus::Naming,
            WorkflowStatus::Running,
            WorkflowStatus::Completed
        ]
    );
    assert!(
        changes
            .iter()
            .any(|(_, s, p)| s.is_none() && p == "Running tests (1/3)")
    );
    assert_eq!(ok(db.max_seq()), 7);
}

#[test]
fn a_failure_keeps_its_reason_and_an_ended_workflow_keeps_its_ending() {
    let (_dir, db) = db();
    let id = WorkflowId::new(1, at(0));
    ok(db.insert(&Workflow::new(id.clone(), "x".into(), at(0)), None));
    ok(db.apply(&Event::Finished {
        id: id.clone(),
        outcome: Outcome::Failed(Failure::Cancelled { at_exit: false }),
        at: at(3),
    }));
    ok(db.apply(&Event::Finished {
        id: id.clone(),
        outcome: Outcome::Failed(Failure::Other("late".into())),
        at: at(9),
    }));
    let w = &ok(db.load())[0];
    assert_eq!(
        (w.status(), w.error().as_deref()),
        (WorkflowStatus::Failed, Some("cancelled"))
    );
    assert_eq!(w.end_time, Some(at(3)));
    let endings = ok(db.transitions(&id))
        .into_iter()
        .filter(|(_, s, _)| *s == Some(WorkflowStatus::Failed))
        .count();
    assert_eq!(endings, 1, "the refused second ending leaves no trace");
    assert!(ok(db.started_times()).is_empty(), "it never ran");
}

#[test]
fn live_workflows_are_interrupted_on_recovery() {
    let (_dir, db) = db();
    for (n, status) in [
        (1, WorkflowStatus::Queued),
        (2, WorkflowStatus::Naming),
        (3, WorkflowStatus::Running),
    ] {
        let id = WorkflowId::new(n, at(n));
        ok(db.insert(&Workflow::new(id.clone(), "x".into(), at(n)), None));
        ok(db.apply(&Event::Status {
            id,
            status,
            progress: "p".into(),
        }));
    }
    let done = WorkflowId::new(4, at(4));
    ok(db.insert(&Workflow::new(done.clone(), "y".into(), at(4)), None));
    ok(db.apply(&Event::Finished {
        id: done.clone(),
        outcome: Outcome::Failed(Failure::Other("boom".into())),
        at: at(5),
    }));
    // Rows that name no owner: only when no other flotilla holds the home.
    assert_eq!(ok(db.recover_orphans(false)), 0);
    assert_eq!(ok(db.recover_orphans(true)), 3);
    let all = ok(db.load());
    for w in &all[..3] {
        assert_eq!(
            (w.status(), w.error().as_deref()),
            (WorkflowStatus::Failed, Some(INTERRUPTED)),
            "{w:?}"
        );
        assert!(w.end_time.is_some());
    }
    assert_eq!(all[3].error().as_deref(), Some("boom"));
    assert_eq!(ok(db.recover_orphans(true)), 0);
}

#[test]
fn a_workflow_whose_process_died_is_an_orphan_and_a_live_ones_is_not() {
    let (_dir, db) = db();
    let mine = ok(db.create("mine", at(1), None));
    let theirs = ok(db.create("theirs", at(2), None));
    // Owned by a process that has ended since.
    let mut child = std::process::Command::new("true")
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let pid = child.id();
    child.wait().unwrap_or_else(|e| panic!("{e}"));
    ok(db.write(|tx| {
        tx.execute(
            "UPDATE workflows SET owner = ?2 WHERE id = ?1",
            params![theirs.id.as_str(), format!("{pid}:1")],
        )
    }));
    // Even while another flotilla holds the home, a dead owner's workflow is over.
    assert_eq!(ok(db.orphans(false)), std::slice::from_ref(&theirs.id));
    assert_eq!(ok(db.recover_orphans(false)), 1);
    let all = ok(db.load());
    let status = |id: &WorkflowId| all.iter().find(|w| &w.id == id).map(|w| w.status());
    assert_eq!(status(&mine.id), Some(WorkflowStatus::Queued));
    assert_eq!(status(&theirs.id), Some(WorkflowStatus::Failed));
}

#[test]
fn an_older_schema_is_migrated_and_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("flotilla.db");
    {
        // A version-1 database, as the first schema wrote it.
        let conn = Connection::open(&path).unwrap_or_else(|e| panic!("{e}"));
        conn.execute_batch(schema::STEPS[0])
            .unwrap_or_else(|e| panic!("{e}"));
        conn.pragma_update(None, "user_version", 1)
            .unwrap_or_else(|e| panic!("{e}"));
        conn.execute(
            "INSERT INTO workflows (id, seq, description, name, status, progress, created_at)
             VALUES ('wf_3_1795600000', 3, 'old task', 'old-task', 'completed', 'Completed in 2.0s', 1795600000.0)",
            [],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }
    let db = ok(Db::open(&path));
    let version: i64 = db
        .conn()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap_or(0);
    assert_eq!(version, schema::VERSION);
    let all = ok(db.load());
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].name.as_deref(), Some("old-task"));
    // The new column works.
    let retry = Workflow::new(WorkflowId::new(4, at(9)), "old task".into(), at(9));
    ok(db.insert(&retry, Some(&all[0].id)));
    assert_eq!(ok(db.max_seq()), 4);
}

#[test]
fn a_newer_schema_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("flotilla.db");
    {
        let conn = Connection::open(&path).unwrap_or_else(|e| panic!("{e}"));
        conn.pragma_update(None, "user_version", 99)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let e = Db::open(&path)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("schema version 99") && e.contains("flotilla.db"),
        "{e}"
    );
}

#[test]
fn a_reader_and_a_writer_work_at_once() {
    let (dir, writer) = db();
    let path = dir.path().join("flotilla.db");
    let reader = ok(Db::open(&path));
    let writing = std::thread::spawn(move || {
        for n in 1..=200u64 {
            let id = WorkflowId::new(n, at(n));
            ok(writer.insert(&Workflow::new(id.clone(), format!("task {n}"), at(n)), None));
            ok(writer.apply(&Event::Status {
                id,
                status: WorkflowStatus::Running,
                progress: "p".into(),
            }));
        }
    });
    let mut seen = 0;
    while seen < 200 {
        let now = ok(reader.load()).len();
        assert!(now >= seen, "a reader never sees rows disappear");
        seen = now;
        if writing.is_finished() {
            seen = ok(reader.load()).len();
            break;
        }
    }
    let _ = writing.join();
    assert_eq!(seen, 200);
}

#[test]
fn the_history_and_the_live_store_follow_one_rule() {
    let (_dir, db) = db();
    let id = WorkflowId::new(3, at(0));
    let wf = Workflow::new(id.clone(), "sum a list".into(), at(0));
    ok(db.insert(&wf, None));
    let mut store = crate::store::Store::default();
    store.insert(wf);
    let events = [
        Event::Status {
            id: id.clone(),
            status: WorkflowStatus::Running,
            progress: "Generating code...".into(),
        },
        Event::Finished {
            id: id.clone(),
            outcome: Outcome::Failed(Failure::Cancelled { at_exit: false }),
            at: at(9),
        },
        // Late events of a cancelled task: neither takes them.
        Event::Named {
            id: id.clone(),
            name: "late-name".into(),
            source: NameSource::Model,
        },
        Event::Progress {
            id: id.clone(),
            progress: "Running tests (1/3)".into(),
        },
        Event::Status {
            id: id.clone(),
            status: WorkflowStatus::Running,
            progress: "again".into(),
        },
        Event::Finished {
            id: id.clone(),
            outcome: Outcome::Completed(WorkflowResult {
                dir: "/h/workflows/wf_3".into(),
                files: Vec::new(),
                main_file: None,
                language: None,
                attempts: 1,
                tests_passed: 1,
                tests_failed: 0,
            }),
            at: at(20),
        },
    ];
    for event in &events {
        ok(db.apply(event));
        store.apply(event);
    }
    let loaded = ok(db.load());
    let live = store.get(&id).unwrap_or_else(|| panic!("not in the store"));
    let history = &loaded[0];
    for (what, w) in [("store", live), ("history", history)] {
        assert_eq!(w.status(), WorkflowStatus::Failed, "{what}");
        assert_eq!(w.name, None, "{what}");
        assert_eq!(w.error().as_deref(), Some("cancelled"), "{what}");
        assert_eq!(w.end_time, Some(at(9)), "{what}");
        assert_eq!(w.result(), None, "{what}");
    }
    assert_eq!(live.progress, history.progress);
    // Three changes made it: queued (the insert), running, then the one ending.
    let changes = ok(db.transitions(&id));
    let statuses: Vec<Option<WorkflowStatus>> = changes.iter().map(|c| c.1).collect();
    assert_eq!(
        statuses,
        [
            Some(WorkflowStatus::Queued),
            Some(WorkflowStatus::Running),
            Some(WorkflowStatus::Failed)
        ],
        "{changes:?}"
    );
}
