//! Eight workflows with `max_parallel = 4`, end to end (naming, plan, candidates, tests, fixes),
//! on the embedded engine and on llama-cpp-python's server: same model, same tasks (the first
//! eight Python tasks of flotilla's own eval set), one run. Prints the wall time of each.
//!
//! Needs what `scripts/setup-model-server` caches. `cargo bench --bench workflows` (about 15
//! minutes on 2 cores).

#[path = "../tests/support/cache.rs"]
mod cache;

use cache::{cache, free_port, model};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const TIERS: &str = r#"
[tiers.veryfast]
provider = "local"
model = "smollm2"
[tiers.fast]
provider = "local"
model = "smollm2"
max_tokens = 512
[tiers.overseer]
provider = "local"
model = "smollm2"
"#;

/// Runs the eight tasks on a home with `providers`; returns seconds, passed and the report.
fn eval(home: &Path, providers: &str) -> (f64, u64) {
    std::fs::create_dir_all(home).expect("a home");
    std::fs::write(
        home.join("config.toml"),
        format!("max_parallel = 4\n{providers}{TIERS}"),
    )
    .expect("a config");
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_flotilla"))
        .arg("--home")
        .arg(home)
        .args([
            "eval", "--only", "py/", "--limit", "8", "--mode", "pipeline", "--json",
        ])
        .stderr(Stdio::null())
        .output()
        .expect("flotilla eval runs");
    let seconds = start.elapsed().as_secs_f64();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let passed = report["pipeline"]["passed"].as_u64().unwrap_or(0);
    (seconds, passed)
}

fn main() {
    let model = model();
    let python = cache().join("llama-venv/bin/python");
    assert!(python.exists(), "run scripts/setup-model-server first");
    let root = tempfile::tempdir().expect("a temporary folder");

    let embedded = format!(
        "[providers.local]\nkind = \"embedded\"\nmodel = \"{}\"\nparallel = 8\nctx = 2048\n",
        model.display()
    );
    let (ours, our_passed) = eval(&root.path().join("embedded"), &embedded);

    let port = free_port();
    let _server = Killed(
        Command::new(&python)
            .args(["-m", "llama_cpp.server", "--model"])
            .arg(&model)
            .args([
                "--model_alias",
                "smollm2",
                "--host",
                "127.0.0.1",
                "--n_ctx",
                "4096",
            ])
            .args(["--interrupt_requests", "false", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("llama-cpp-python starts"),
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "llama-cpp-python did not start");
        std::thread::sleep(Duration::from_millis(200));
    }
    let python_server = format!(
        "[providers.local]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:{port}/v1\"\nmax_concurrent = 1\n"
    );
    let (theirs, their_passed) = eval(&root.path().join("python"), &python_server);

    println!("8 workflows (py/ tasks 1-8 of the eval set), max_parallel = 4, SmolLM2-135M Q4_1");
    println!("{:<40} {:>9} {:>8}", "server", "wall time", "passed");
    println!(
        "{:<40} {:>8.0}s {:>6}/8",
        "embedded (flotilla serve, parallel 8)", ours, our_passed
    );
    println!(
        "{:<40} {:>8.0}s {:>6}/8",
        "llama-cpp-python (one at a time)", theirs, their_passed
    );
    println!("embedded is {:.2}× sooner (goal ≥ 2)", theirs / ours);
}
