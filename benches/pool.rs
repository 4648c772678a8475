//! A tier's pool, side by side in one run: 32 workflows (naming, plan, code, tests; the tests
//! not run, so only the servers count) through 1, 2 and 4 scripted servers with 4 slots each
//! and a fixed delay per streamed token, as a real server's decode rate. Prints the wall time
//! of each and how much shorter than on one server; the goal is at least 1.8× with 2 servers
//! and 3.5× with 4. `cargo bench --bench pool` (about half a minute).

#[path = "../tests/support/mock.rs"]
#[allow(dead_code)]
mod mock;

use flotilla::config::Config;
use flotilla::engine::Engine;
use flotilla::event::{self, Event};
use flotilla::home::Home;
use mock::{MockServer, Reply, Request, Role, Wire};
use std::path::Path;
use std::time::{Duration, Instant};

const WORKFLOWS: usize = 32;
/// Streamed pieces of each reply, and the delay before each.
const PIECES: usize = 30;
const PER_TOKEN: Duration = Duration::from_millis(8);

/// Every reply streamed at the same rate: a name, a plan, code, tests.
fn script(req: &Request, _n: usize) -> Reply {
    let text = match req.role() {
        Role::Naming => "add-numbers".to_owned(),
        Role::Plan => mock::PLAN.to_owned(),
        Role::Tests => mock::TESTS.to_owned(),
        _ => mock::GOOD_CODE.to_owned(),
    };
    // The text in PIECES pieces, each after one token's delay.
    let step = text.len().div_ceil(PIECES).max(1);
    let chars: Vec<char> = text.chars().collect();
    let pieces = chars
        .chunks(step)
        .map(|c| c.iter().collect::<String>())
        .collect();
    Reply::Text {
        pieces,
        delay: PER_TOKEN,
    }
}

async fn run(servers: usize) -> Duration {
    let mut mocks = Vec::new();
    for _ in 0..servers {
        mocks.push(MockServer::start(Wire::OpenAi, script).await);
    }
    let urls: Vec<String> = mocks
        .iter()
        .map(|m| format!("\"{}\"", m.base_url()))
        .collect();
    let text = format!(
        "max_parallel = {WORKFLOWS}\nrun_tests = false\ncandidates = 1\ntest_suites = 1\nmax_attempts = 1\n\n[providers.pool]\nkind = \"openai\"\nbase_urls = [{}]\nmax_concurrent = 4\n",
        urls.join(", ")
    );
    let env = |_: &str| Err(std::env::VarError::NotPresent);
    let config =
        Config::parse(Path::new("bench.toml"), &text, &env).unwrap_or_else(|e| panic!("{e}"));
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (tx, mut rx) = event::channel();
    let engine = Engine::new(config, Home::at(home.path()), tx).unwrap_or_else(|e| panic!("{e}"));
    let start = Instant::now();
    for n in 0..WORKFLOWS {
        engine
            .start(format!("write a python function add(a, b) number {n}"))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let mut finished = 0;
    while finished < WORKFLOWS {
        match tokio::time::timeout(Duration::from_secs(120), rx.recv()).await {
            Ok(Some(Event::Finished { .. })) => finished += 1,
            Ok(Some(_)) => {}
            other => panic!("workflows did not end: {other:?}"),
        }
    }
    let took = start.elapsed();
    let served: Vec<usize> = mocks.iter().map(|m| m.chat_requests().len()).collect();
    let peaks: Vec<usize> = mocks
        .iter()
        .map(|m| m.about.peak.load(std::sync::atomic::Ordering::SeqCst))
        .collect();
    println!(
        "{servers} server(s): {:>6.2}s   requests per server {served:?}, most at once {peaks:?}",
        took.as_secs_f64()
    );
    took
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    println!(
        "{WORKFLOWS} workflows, 4 slots a server, {PIECES} pieces a reply {}ms apart",
        PER_TOKEN.as_millis()
    );
    let one = run(1).await;
    let two = run(2).await;
    let four = run(4).await;
    let (x2, x4) = (
        one.as_secs_f64() / two.as_secs_f64(),
        one.as_secs_f64() / four.as_secs_f64(),
    );
    println!(
        "2 servers: {x2:.2}× shorter (goal 1.8×) {}",
        if x2 >= 1.8 { "ok" } else { "BELOW GOAL" }
    );
    println!(
        "4 servers: {x4:.2}× shorter (goal 3.5×) {}",
        if x4 >= 3.5 { "ok" } else { "BELOW GOAL" }
    );
}
