//! Aggregate decode speed of `flotilla serve` against llama-cpp-python's server, same model,
//! same prompts, one run: 1, 2, 4 and 8 requests at once, each asking for the same number of
//! tokens at temperature 0. Tokens per second = completion tokens of all requests / wall time.
//!
//! Needs the model and the llama-cpp-python server that `scripts/setup-model-server` caches.
//! `cargo bench --bench serve`; FLOTILLA_BENCH_TOKENS sets tokens per request (default 128).

#[path = "../tests/support/cache.rs"]
mod cache;

use cache::{cache, free_port, model};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PROMPTS: [&str; 8] = [
    "Write a long story about a lighthouse keeper who finds a map.",
    "Explain in detail how a hash map works, with examples.",
    "Describe the water cycle step by step for a school class.",
    "Write a long letter to a friend about a trip to the mountains.",
    "Explain how to bake bread, every step, with tips.",
    "Write a detailed history of the bicycle.",
    "Describe a busy market in a city at dawn, in detail.",
    "Explain how a compiler turns source code into a program.",
];

struct Server {
    name: &'static str,
    base: String,
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_flotilla(model: &Path) -> Server {
    start_flotilla_spinning(model, None)
}

/// `flotilla serve` with `GOMP_SPINCOUNT` set to `spin` (unset: libgomp's own default).
fn start_flotilla_spinning(model: &Path, spin: Option<&str>) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flotilla"));
    match spin {
        Some(spin) => command.env("GOMP_SPINCOUNT", spin),
        None => command.env_remove("GOMP_SPINCOUNT"),
    };
    let mut child = command
        .args([
            "serve",
            "--port",
            "0",
            "--parallel",
            "8",
            "--ctx",
            "1024",
            "--model",
        ])
        .arg(model)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("flotilla serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the listening line");
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    Server {
        name: "flotilla serve",
        base: format!("http://{addr}"),
        child,
    }
}

fn start_llama_cpp_python(model: &Path) -> Server {
    let python = cache().join("llama-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup-model-server",
        python.display()
    );
    let port = free_port();
    let child = Command::new(python)
        .args(["-m", "llama_cpp.server", "--model"])
        .arg(model)
        .args([
            "--model_alias",
            "smollm2",
            "--host",
            "127.0.0.1",
            "--n_ctx",
            "1024",
        ])
        .args(["--interrupt_requests", "false", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("llama-cpp-python starts");
    Server {
        name: "llama-cpp-python",
        base: format!("http://127.0.0.1:{port}/v1"),
        child,
    }
}

async fn wait_up(client: &reqwest::Client, server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Ok(r) = client.get(format!("{}/models", server.base)).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{} did not come up at {}", server.name, server.base);
}

/// One request's completion tokens.
async fn ask(client: &reqwest::Client, base: &str, prompt: &str, tokens: u32) -> u64 {
    let body = json!({
        "model": "smollm2",
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": tokens,
        "temperature": 0,
    });
    let reply: Value = client
        .post(format!("{base}/chat/completions"))
        .json(&body)
        .send()
        .await
        .expect("the request is answered")
        .json()
        .await
        .expect("a JSON answer");
    reply["usage"]["completion_tokens"]
        .as_u64()
        .unwrap_or_else(|| panic!("no usage in {reply}"))
}

/// Rounds per level; the median is kept (this machine's speed varies from minute to minute).
const ROUNDS: usize = 3;

/// Aggregate tokens/s with `n` requests at once: the median of [`ROUNDS`] rounds.
async fn measure(client: &reqwest::Client, base: &str, n: usize, tokens: u32) -> (f64, u64) {
    let mut rounds = Vec::new();
    for _ in 0..ROUNDS {
        rounds.push(round(client, base, n, tokens).await);
    }
    rounds.sort_by(|a, b| a.0.total_cmp(&b.0));
    rounds[ROUNDS / 2]
}

async fn round(client: &reqwest::Client, base: &str, n: usize, tokens: u32) -> (f64, u64) {
    let start = Instant::now();
    let answers = futures_util::future::join_all(
        PROMPTS
            .iter()
            .cycle()
            .take(n)
            .map(|p| ask(client, base, p, tokens)),
    )
    .await;
    let total: u64 = answers.iter().sum();
    (total as f64 / start.elapsed().as_secs_f64(), total)
}

/// A CPU-bound neighbour, as a workflow's test run is: counts as fast as it can and prints
/// `seconds count` every 200,000 counts.
const NEIGHBOUR: &str = "import time\nt0 = time.monotonic()\nn = 0\nwhile True:\n    n += 1\n    if n % 200000 == 0:\n        print(time.monotonic() - t0, n, flush=True)\n";

/// Counts per second of the neighbour while `work` runs (it is started first, killed after).
async fn neighbour_during<T>(work: impl std::future::Future<Output = T>) -> (f64, T) {
    let mut child = Command::new("python3")
        .args(["-c", NEIGHBOUR])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let stdout = child.stdout.take().expect("stdout");
    let lines = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .last()
            .unwrap_or_default()
    });
    // Let it get going.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let out = work.await;
    let _ = child.kill();
    let _ = child.wait();
    let last = lines.join().unwrap_or_default();
    let mut parts = last.split_whitespace();
    let seconds: f64 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let count: f64 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0.0);
    (count / seconds.max(0.001), out)
}

/// The engine beside a busy neighbour, with llama.cpp's threads spinning long, briefly and not
/// at all before they sleep: its aggregate speed with 4 requests, alone and beside the
/// neighbour, and the neighbour's speed beside it (against alone).
async fn beside_a_neighbour(client: &reqwest::Client, model: &Path, tokens: u32) {
    let (alone, ()) = neighbour_during(tokio::time::sleep(Duration::from_secs(6))).await;
    println!(
        "\nbeside a CPU-bound process (python counting; alone {:.2} M counts/s), 4 requests at once",
        alone / 1e6
    );
    println!(
        "{:>16} {:>13} {:>17} {:>20}",
        "GOMP_SPINCOUNT", "engine alone", "engine beside it", "neighbour beside it"
    );
    // FLOTILLA_BENCH_SPINS="3000000,30000" measures those ("unset": flotilla serve's own).
    let spins: Vec<String> = std::env::var("FLOTILLA_BENCH_SPINS")
        .unwrap_or_else(|_| "3000000,3000,0".into())
        .split(',')
        .map(|v| v.trim().to_owned())
        .collect();
    for value in &spins {
        let (label, spin) = match value.as_str() {
            "unset" => ("unset (3000000)", None),
            v => (v, Some(v)),
        };
        let server = start_flotilla_spinning(model, spin);
        wait_up(client, &server).await;
        ask(client, &server.base, PROMPTS[0], 16).await;
        let (engine_alone, _) = measure(client, &server.base, 4, tokens).await;
        let mut beside = Vec::new();
        for _ in 0..ROUNDS {
            let (n, (tps, _)) = neighbour_during(round(client, &server.base, 4, tokens)).await;
            beside.push((tps, n));
        }
        beside.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (engine_beside, neighbour) = beside[ROUNDS / 2];
        println!(
            "{label:>16} {engine_alone:>9.1} t/s {engine_beside:>13.1} t/s {:>19.0}%",
            100.0 * neighbour / alone
        );
    }
}

fn main() {
    let model = model();
    let tokens: u32 = std::env::var("FLOTILLA_BENCH_TOKENS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(128);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let client = reqwest::Client::new();
        if std::env::var("FLOTILLA_BENCH_ONLY").as_deref() == Ok("neighbour") {
            beside_a_neighbour(&client, &model, tokens).await;
            return;
        }
        let levels = [1usize, 2, 4, 8];
        let mut results = Vec::new();
        // One server at a time, so they never share the CPU.
        for start in [start_flotilla, start_llama_cpp_python] {
            let server = start(&model);
            wait_up(&client, &server).await;
            // Warm-up: the first request pays for loading pages of the model.
            ask(&client, &server.base, PROMPTS[0], 16).await;
            let mut row = Vec::new();
            for n in levels {
                row.push(measure(&client, &server.base, n, tokens).await);
            }
            results.push((server.name, row));
        }
        println!(
            "aggregate tokens/s (median of {ROUNDS} rounds), {tokens} tokens a request at temperature 0, same model and prompts"
        );
        println!(
            "{:>10} {:>16} {:>18} {:>8}",
            "requests", results[0].0, results[1].0, "ratio"
        );
        for (i, n) in levels.iter().enumerate() {
            let (ours, our_tokens) = results[0].1[i];
            let (theirs, their_tokens) = results[1].1[i];
            println!(
                "{n:>10} {ours:>11.1} ({our_tokens:>4}) {theirs:>13.1} ({their_tokens:>4}) {:>7.2}×",
                ours / theirs
            );
        }
        let ours = &results[0].1;
        let theirs = &results[1].1;
        println!(
            "goals: one request {:.2}× llama-cpp-python's (≥ 1.8); 4 at once {:.2}× one on flotilla serve (≥ 1.35); 4 at once {:.2}× llama-cpp-python's 4 (≥ 2.5)",
            ours[0].0 / theirs[0].0,
            ours[2].0 / ours[0].0,
            ours[2].0 / theirs[2].0
        );
        beside_a_neighbour(&client, &model, tokens).await;
    });
}
