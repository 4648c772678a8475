//! A long history: startup and listing with 10,000 past workflows, and the memory they take.
//! Run with `cargo bench --bench history`.

use crossterm::event::Event as TermEvent;
use flotilla::app::{App, Msg};
use flotilla::config::Config;
use flotilla::engine::Engine;
use flotilla::event::{self, Event, Outcome};
use flotilla::home::Home;
use flotilla::keymap::Keymap;
use flotilla::store::db::Db;
use flotilla::workflow::Failure;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

const HISTORY: usize = 10_000;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let home = Home::at(dir.path());
    {
        let db = Db::open(&home.db_file).unwrap_or_else(|e| panic!("{e}"));
        let start = Instant::now();
        let t0 = SystemTime::now() - Duration::from_secs(86_400 * 30);
        for n in 0..HISTORY {
            let at = t0 + Duration::from_secs(n as u64 * 60);
            let wf = db
                .create(&format!("task number {n}: write a function"), at, None)
                .unwrap_or_else(|e| panic!("{e}"));
            let outcome = if n % 3 == 0 {
                Outcome::Failed(Failure::TestsFailed {
                    attempts: 3,
                    failing: 1,
                    total: 4,
                })
            } else {
                Outcome::Completed(flotilla::workflow::WorkflowResult {
                    dir: home.workflow_dir(&wf.id),
                    files: vec![
                        "plan.md".into(),
                        "solution.py".into(),
                        "test_solution.py".into(),
                    ],
                    main_file: Some("solution.py".into()),
                    language: Some(flotilla::language::Language::Python),
                    attempts: 1,
                    tests_passed: 4,
                    tests_failed: 0,
                })
            };
            db.apply(&Event::Named {
                id: wf.id.clone(),
                name: format!("task-{n}"),
                source: flotilla::workflow::NameSource::Model,
            })
            .unwrap_or_else(|e| panic!("{e}"));
            db.apply(&Event::Finished {
                id: wf.id,
                outcome,
                at: at + Duration::from_secs(30),
            })
            .unwrap_or_else(|e| panic!("{e}"));
        }
        println!(
            "setup: {HISTORY} workflows written in {:.1} s",
            start.elapsed().as_secs_f64()
        );
    }

    let env = |_: &str| Err(std::env::VarError::NotPresent);
    let config = Config::parse(
        Path::new("c.toml"),
        "[providers.l]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\n",
        &env,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let before = rss_kib();
    let start = Instant::now();
    let (tx, _rx) = event::channel();
    let engine = Engine::new(config, home.clone(), tx).unwrap_or_else(|e| panic!("{e}"));
    let mut app = App::new(engine, Keymap::defaults());
    app.update(Msg::Term(TermEvent::Resize(160, 48)));
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap_or_else(|e| panic!("{e}"));
    terminal
        .draw(|f| flotilla::ui::render(&app, f))
        .unwrap_or_else(|e| panic!("{e}"));
    println!(
        "startup: open, load {} workflows and draw the first frame in {:.1} ms",
        app.model().store.len(),
        start.elapsed().as_secs_f64() * 1e3
    );
    println!(
        "memory: {:.1} MiB more with the history loaded (no logs)",
        (rss_kib().saturating_sub(before)) as f64 / 1024.0
    );
    let start = Instant::now();
    let frames = 100;
    for _ in 0..frames {
        terminal
            .draw(|f| flotilla::ui::render(&app, f))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    println!(
        "render: one frame with {HISTORY} workflows in {:.2} ms",
        start.elapsed().as_secs_f64() * 1e3 / frames as f64
    );

    let start = Instant::now();
    let mut out = Vec::new();
    flotilla::cli::history::list(&home, None, false, &mut out).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "list: `flotilla list` of {HISTORY} workflows in {:.1} ms ({} KiB of text)",
        start.elapsed().as_secs_f64() * 1e3,
        out.len() / 1024
    );
    let start = Instant::now();
    let mut out = Vec::new();
    flotilla::cli::history::list(&home, None, true, &mut out).unwrap_or_else(|e| panic!("{e}"));
    println!("list --json: {:.1} ms", start.elapsed().as_secs_f64() * 1e3);
}
