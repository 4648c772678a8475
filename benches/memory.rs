//! Memory under big replies: 12 background workflows whose plan and code replies are 5 MB each,
//! streamed through the real engine into the dashboard's state and drawn, as `flotilla` does.
//! Two cases, each in a process of its own so their peaks don't mix: the tiers' `max_tokens`
//! set high enough that all 5 MB are read (the log on disk has them; memory holds a bounded
//! tail, a bounded head of each artifact, and a bounded part of each reply is parsed), and the
//! usual `max_tokens`, which a server sending 5 MB ignores (the reply is cut at 64 bytes a
//! token). Prints the resident set's peak and its size after the workflows end, against the
//! bound of 100 MB. Run with `cargo bench --bench memory`.

#[allow(dead_code)]
#[path = "../tests/support/mock.rs"]
mod mock;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use flotilla::app::effect::Effect;
use flotilla::app::{App, Msg};
use flotilla::config::Config;
use flotilla::engine::Engine;
use flotilla::event;
use flotilla::home::Home;
use flotilla::keymap::Keymap;
use mock::{MockServer, Reply, Wire, named_then};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, Instant};

const WORKFLOWS: usize = 12;
const REPLY_BYTES: usize = 5 * 1024 * 1024;
const BOUND_MB: f64 = 100.0;

/// A field of /proc/self/status (`VmRSS`, `VmHWM`) in MB.
fn status_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

const CASE: &str = "FLOTILLA_MEMORY_CASE";

fn main() {
    if let Ok(case) = std::env::var(CASE) {
        return run(&case);
    }
    println!(
        "{WORKFLOWS} workflows, replies of {} MB each",
        REPLY_BYTES / (1024 * 1024)
    );
    for case in ["read-whole", "max-tokens"] {
        let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
        let out = std::process::Command::new(exe)
            .env(CASE, case)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        print!("{}", String::from_utf8_lossy(&out.stdout));
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn run(case: &str) {
    // Python-looking text, in pieces of about a token each would take too long to stream
    // 120 MB; 4 KB pieces keep the bench short and the event count realistic per byte.
    let line = "value_1234 = compute(value_1233) + 1\n";
    let text = line.repeat(REPLY_BYTES / line.len());
    let pieces: Vec<String> = text
        .as_bytes()
        .chunks(4096)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let server = MockServer::start(
        Wire::OpenAi,
        named_then(Reply::Text {
            pieces,
            delay: Duration::ZERO,
        }),
    )
    .await;
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "max_parallel = {WORKFLOWS}\nrun_tests = false\ncandidates = 1\ntest_suites = 1\n\
             [providers.local]\nkind = \"openai\"\nbase_url = \"{}\"\nmax_concurrent = {WORKFLOWS}\n\
             [tiers.fast]\nprovider = \"local\"\nmodel = \"smollm2\"\n{}",
            server.base_url(),
            if case == "read-whole" {
                "max_tokens = 200000\n[tiers.overseer]\nprovider = \"local\"\nmodel = \"smollm2\"\nmax_tokens = 200000\n"
            } else {
                ""
            }
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let paths = Home::at(home.path());
    let config = Config::load(&paths.config_file).unwrap_or_else(|e| panic!("{e}"));
    let (tx, mut rx) = event::channel();
    let engine = Engine::new(config, paths, tx).unwrap_or_else(|e| panic!("{e}"));
    let mut app = App::new(engine, Keymap::defaults());
    app.update(Msg::Term(TermEvent::Resize(160, 48)));
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap_or_else(|e| panic!("{e}"));
    let before = status_mb("VmRSS");
    let started = Instant::now();
    for n in 0..WORKFLOWS {
        // As a user would: the command pasted into the input box, then Enter.
        let task = format!("/generate --background write a parser for format number {n}");
        app.update(Msg::Term(TermEvent::Paste(task)));
        let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        app.update(Msg::Term(TermEvent::Key(enter)));
    }
    for effect in app.take_effects() {
        if let Effect::Job(job) = effect {
            let done = flotilla::app::effect::perform(app.engine(), job);
            app.update(Msg::Done(done));
        }
    }
    let mut batch = Vec::new();
    while app.model().store.live().next().is_some() {
        if rx.recv_many(&mut batch, 4096).await == 0 {
            break;
        }
        for event in batch.drain(..) {
            app.update(Msg::Engine(event));
        }
        terminal
            .draw(|f| flotilla::ui::render(&app, f))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let elapsed = started.elapsed();
    // Artifacts highlighted off the loop may still be arriving.
    let settle = Instant::now();
    while settle.elapsed() < Duration::from_secs(2) {
        match tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
            Ok(Some(event)) => app.update(Msg::Engine(event)),
            _ => break,
        }
    }
    let after = status_mb("VmRSS");
    let peak = status_mb("VmHWM");
    let logged: u64 = std::fs::read_dir(home.path().join("workflows"))
        .map(|dirs| {
            dirs.filter_map(Result::ok)
                .filter_map(|d| d.path().join("log.txt").metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    println!(
        "{case:<11} {:>5.1}s  {:>4} MB logged  RSS peak {peak:>6.1} MB  after {after:>6.1} MB (before {before:.1})  {}",
        elapsed.as_secs_f64(),
        logged / (1024 * 1024),
        if after <= BOUND_MB {
            "within the 100 MB bound"
        } else {
            "OVER the 100 MB bound"
        }
    );
}
