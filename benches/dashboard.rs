//! How the dashboard keeps up: events applied per second while hundreds of workflows stream,
//! the cost of one frame with hundreds of rows, and the real binary's CPU use while idle.
//! Run with `cargo bench --bench dashboard`.

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use flotilla::app::{App, Msg};
use flotilla::config::Config;
use flotilla::engine::Engine;
use flotilla::event::{self, Event};
use flotilla::home::Home;
use flotilla::keymap::Keymap;
use flotilla::workflow::{Workflow, WorkflowId, WorkflowStatus};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

const WORKFLOWS: u64 = 500;

fn app() -> App {
    let env = |_: &str| Err(std::env::VarError::NotPresent);
    let config = Config::parse(
        Path::new("bench.toml"),
        "[providers.local]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\n",
        &env,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (tx, _rx) = event::channel();
    let home = tempfile::tempdir()
        .map(|d| d.keep())
        .unwrap_or_else(|e| panic!("{e}"));
    let engine = Engine::new(config, Home::at(&home), tx).unwrap_or_else(|e| panic!("{e}"));
    let mut app = App::new(engine, Keymap::defaults());
    app.update(Msg::Term(TermEvent::Resize(160, 48)));
    app
}

fn main() {
    let mut app = app();
    let now = SystemTime::now();
    let ids: Vec<WorkflowId> = (1..=WORKFLOWS).map(|n| WorkflowId::new(n, now)).collect();
    for (n, id) in ids.iter().enumerate() {
        news(
            &mut app,
            Event::Others(vec![Workflow::new(id.clone(), format!("task {n}"), now)]),
        );
        news(
            &mut app,
            Event::Named {
                id: id.clone(),
                name: format!("task-number-{n}"),
                source: flotilla::workflow::NameSource::Model,
            },
        );
        news(
            &mut app,
            Event::Status {
                id: id.clone(),
                status: WorkflowStatus::Running,
                progress: "Generating code...".into(),
            },
        );
    }
    if let Some(last) = ids.last() {
        // Selected as a user would: `/wf <id>`, then Esc on its details.
        app.update(Msg::Term(TermEvent::Paste(format!("/wf {last}"))));
        for code in [KeyCode::Enter, KeyCode::Esc] {
            let key = KeyEvent::new(code, KeyModifiers::NONE);
            app.update(Msg::Term(TermEvent::Key(key)));
        }
    }

    // Streamed tokens: a few characters each, a newline every tenth.
    let events: Vec<Event> = (0..400_000)
        .map(|i| Event::Log {
            id: ids[i % ids.len()].clone(),
            text: if i % 10 == 9 {
                "tok\n".to_owned()
            } else {
                format!("t{i} ")
            },
        })
        .collect();
    let count = events.len();
    let start = Instant::now();
    for event in events {
        news(&mut app, event);
    }
    let applied = start.elapsed();
    println!(
        "apply: {count} streamed log events over {WORKFLOWS} workflows in {:.1} ms ({:.2} M events/s)",
        applied.as_secs_f64() * 1e3,
        count as f64 / applied.as_secs_f64() / 1e6
    );

    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap_or_else(|e| panic!("{e}"));
    let frames = 300;
    let start = Instant::now();
    for i in 0..frames {
        app.update(Msg::Clock { now, tick: i });
        terminal
            .draw(|f| flotilla::ui::render(&app, f))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let per_frame = start.elapsed() / frames as u32;
    println!(
        "render: one 160x48 frame with {WORKFLOWS} workflows in {:.3} ms (budget at 30 fps: 33 ms)",
        per_frame.as_secs_f64() * 1e3
    );

    // Code artifacts are highlighted once, when first drawn, not per frame.
    let code: String = (0..200)
        .map(|i| format!("def f{i}(x):\n    return [x * {i} for _ in range(3)]  # n\n"))
        .collect();
    flotilla::tui::highlight::lines(
        "x = 1\n",
        Some(flotilla::language::Language::Python),
        flotilla::tui::theme::Syntax::Dark,
    );
    let start = Instant::now();
    let lines = flotilla::tui::highlight::lines(
        &code,
        Some(flotilla::language::Language::Python),
        flotilla::tui::theme::Syntax::Dark,
    );
    println!(
        "highlight: a {}-line Python file in {:.2} ms (once per artifact, when first shown)",
        lines.len(),
        start.elapsed().as_secs_f64() * 1e3
    );

    idle_cpu();
}

/// Starts the real binary in a pseudo-terminal, leaves it idle, and reads its CPU time.
fn idle_cpu() {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    let exe = env!("CARGO_BIN_EXE_flotilla");
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let pty = native_pty_system();
    let pair = pty
        .openpty(PtySize {
            rows: 40,
            cols: 120,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let mut cmd = CommandBuilder::new(exe);
    cmd.arg("--home");
    cmd.arg(home.path());
    cmd.env("TERM", "xterm-256color");
    cmd.env("OLLAMA_HOST", "127.0.0.1:9");
    let mut child = pair
        .slave
        .spawn_command(cmd)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut reader = pair
        .master
        .try_clone_reader()
        .unwrap_or_else(|e| panic!("{e}"));
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while matches!(std::io::Read::read(&mut reader, &mut buf), Ok(n) if n > 0) {}
    });
    let Some(pid) = child.process_id() else {
        return;
    };
    // Let it start and finish its first health check, then measure a quiet stretch.
    std::thread::sleep(Duration::from_secs(2));
    let before = cpu_ticks(pid);
    let window = Duration::from_secs(10);
    std::thread::sleep(window);
    let after = cpu_ticks(pid);
    let _ = child.kill();
    if let (Some(b), Some(a)) = (before, after) {
        let hz = 100.0; // USER_HZ on Linux
        let pct = (a - b) as f64 / hz / window.as_secs_f64() * 100.0;
        println!(
            "idle: {pct:.2}% of one core over {}s with an empty dashboard",
            window.as_secs()
        );
    }
}

fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// An event from the engine, as the terminal loop hands it over.
fn news(app: &mut App, event: Event) {
    app.update(Msg::Engine(event));
}
