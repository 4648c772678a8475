//! End to end on flotilla's own engine (`flotilla serve`, llama.cpp in process) with the real
//! SmolLM2-135M model that `scripts/fetch-model` caches: the OpenAI wire format, its limits and
//! errors, a client that leaves, a server that dies, and several workflows at once.

mod support;

use flotilla::provider::{ChatRequest, Message, Provider, ProviderSettings};
use flotilla::workflow::WorkflowStatus;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::cache::model;
use support::harness::TestApp;

/// A hang detector, not a timing: a slow or busy machine may take several times as long as this
/// one (46 s alone, 240 s beside two busy loops, for the three workflows below).
const DEADLINE: Duration = Duration::from_secs(600);

/// Held by the tests that decode for minutes: each starts its own engine with a thread per core,
/// and two at once on the same cores make llama.cpp's threads wait on each other.
static DECODING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Serve {
    child: Child,
    base: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(args: &[&str]) -> Serve {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flotilla"))
        .args(["serve", "--port", "0", "--model"])
        .arg(model())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("flotilla serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the listening line");
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    Serve {
        base: format!("http://{addr}"),
        child,
    }
}

/// A whole (not streamed) reply to `prompt`, as JSON.
async fn whole(http: &reqwest::Client, chat: &str, prompt: &str, max_tokens: u32) -> Value {
    http.post(chat)
        .json(&chat_body(prompt, max_tokens, false))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn chat_body(prompt: &str, max_tokens: u32, stream: bool) -> Value {
    json!({
        "model": "anything",
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": stream,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_speaks_openai_with_usage_limits_and_clear_errors() {
    let server = serve(&["--parallel", "1", "--queue", "0", "--ctx", "256"]);
    let http = reqwest::Client::new();
    let chat = format!("{}/chat/completions", server.base);

    let models: Value = http
        .get(format!("{}/models", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["data"][0]["id"], "SmolLM2-135M-Instruct.Q4_1");

    // A whole reply, with usage.
    let reply = whole(&http, &chat, "Say hello.", 8).await;
    let text = reply["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(!text.is_empty(), "{reply}");
    let usage = &reply["usage"];
    assert!(usage["prompt_tokens"].as_u64().unwrap() > 0, "{reply}");
    assert!(
        (1..=8).contains(&usage["completion_tokens"].as_u64().unwrap()),
        "{reply}"
    );

    // A streamed reply: chunks, then the finish reason with usage, then [DONE].
    let body = http
        .post(&chat)
        .json(&chat_body("Say hello.", 8, true))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events: Vec<&str> = body
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .collect();
    assert_eq!(events.last(), Some(&"[DONE]"), "{body}");
    let last: Value = serde_json::from_str(events[events.len() - 2]).unwrap();
    assert!(last["choices"][0]["finish_reason"].is_string(), "{body}");
    assert!(
        last["usage"]["completion_tokens"].as_u64().unwrap() >= 1,
        "{body}"
    );
    let streamed: String = events[..events.len() - 1]
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    // Temperature 0: the same text either way.
    assert_eq!(streamed, text);

    // A prompt longer than the context: 400, saying so.
    let long = "word ".repeat(400);
    let resp = http
        .post(&chat)
        .json(&chat_body(&long, 8, false))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let e: Value = resp.json().await.unwrap();
    let message = e["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("more than the context of 256 tokens"),
        "{message}"
    );

    // One sequence, no queue: a second request while one streams is refused with Retry-After.
    // A context of 4096 and a story that runs to 3000 tokens at temperature 0 (measured), so
    // the held reply would take far longer than the deadline below to end by itself.
    let server = serve(&["--parallel", "1", "--queue", "0", "--ctx", "4096"]);
    let chat = format!("{}/chat/completions", server.base);
    // This machine's speed now, to know how long the held reply would take to end by itself.
    let timing = Instant::now();
    let timed = whole(&http, &chat, "Write a long story about the sea.", 200).await;
    let rate = timed["usage"]["completion_tokens"].as_f64().unwrap_or(0.0)
        / timing.elapsed().as_secs_f64();
    assert!(rate > 0.0, "{timed}");
    let held = Instant::now();
    let mut holding = http
        .post(&chat)
        .json(&chat_body("Write a long story about the sea.", 3000, true))
        .send()
        .await
        .unwrap();
    assert!(holding.chunk().await.unwrap().is_some());
    let refused = http
        .post(&chat)
        .json(&chat_body("Hi", 4, false))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");

    // The client leaves: its sequence is free for the next request within seconds, long
    // before the 3000 tokens it asked for could have been written (about 25 s at this
    // machine's 119 tok/s alone; 5 s was too tight with an eval sharing both cores).
    // Written so far at most `rate` a second: what is left of its 3000 tokens would take this
    // long at the same speed (with every core free for it once the next request is refused).
    let would_end_in =
        Duration::from_secs_f64((3000.0 - rate * held.elapsed().as_secs_f64()).max(0.0) / rate);
    drop(holding);
    let left = Instant::now();
    loop {
        let resp = http
            .post(&chat)
            .json(&chat_body("Hi", 4, false))
            .send()
            .await
            .unwrap();
        if resp.status().is_success() {
            // Freed well before the reply could have ended by itself: the leaving freed it.
            assert!(
                left.elapsed() < would_end_in / 2,
                "freed after {:?}, but the reply would have ended in {would_end_in:?} anyway",
                left.elapsed()
            );
            break;
        }
        assert_eq!(resp.status().as_u16(), 503);
        assert!(
            left.elapsed() < Duration::from_secs(15).min(would_end_in),
            "the sequence of a client that left was not freed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn a_missing_or_foreign_model_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.gguf");
    std::fs::write(&junk, b"<html>not a model</html>").unwrap();
    let cut = dir.path().join("cut.gguf");
    std::fs::write(&cut, b"GGUF\x03\x00\x00\x00").unwrap();
    for (file, says) in [
        (dir.path().join("none.gguf"), "cannot open the model"),
        (junk, "is not a GGUF model file"),
        (cut, "llama.cpp could not load"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_flotilla"))
            .args(["serve", "--port", "0", "--model"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(says) && stderr.contains(&*file.to_string_lossy()),
            "{file:?}: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_server_is_started_again_when_it_dies_even_mid_answer() {
    let _decoding = DECODING.lock().await;
    let provider = Provider::new("local", {
        let mut settings = ProviderSettings::embedded_file(model());
        settings.set_parallel(2);
        settings
    })
    .unwrap();
    let request = ChatRequest {
        model: "smollm2".into(),
        messages: vec![Message::user("Write a long story about a ship.")],
        max_tokens: Some(150),
        temperature: Some(0.0),
        seed: None,
        stop: vec![],
        urgent: false,
    };
    let first = provider.chat(&request, &mut |_| {}).await.unwrap();
    assert!(first.tokens_out > 0);
    assert!(
        provider
            .describe()
            .starts_with("embedded SmolLM2-135M-Instruct.Q4_1.gguf at http://127.0.0.1:")
    );
    let pid = provider.embedded_pid().expect("a running child");

    // Killed in the middle of an answer: the request is asked again of a new child.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let asking = {
        let (provider, request) = (provider.clone(), request.clone());
        tokio::spawn(async move {
            provider
                .chat(&request, &mut |t| {
                    let _ = tx.send(t.to_owned());
                })
                .await
        })
    };
    tokio::time::timeout(DEADLINE, rx.recv())
        .await
        .expect("the first text of the answer");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let again = tokio::time::timeout(DEADLINE, asking)
        .await
        .unwrap()
        .unwrap();
    let again = again.expect("the request is answered by the new child");
    assert!(again.tokens_out > 0);
    let new_pid = provider.embedded_pid().expect("a new child");
    assert_ne!(new_pid, pid);
}

fn embedded_config(parallel: usize) -> String {
    format!(
        r#"max_parallel = 4
naming_timeout = 60
max_attempts = 1
# Two candidates and one suite keep requests from several workflows in the engine's sequences at
# once, at a third of the default's tokens: what is checked here is sharing, not choosing.
candidates = 2
test_suites = 1

[providers.local]
kind = "embedded"
model = "{}"
parallel = {parallel}

[tiers.fast]
provider = "local"
max_tokens = 160
"#,
        model().display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_workflows_run_at_once_on_the_embedded_engine() {
    let _decoding = DECODING.lock().await;
    let mut t = TestApp::new(&embedded_config(4));
    let tasks = [
        "write a python function is_even(n) that returns True when n is even",
        "write a python function add(a, b) that returns a + b",
        "write a python function square(x) that returns x * x",
    ];
    for task in tasks {
        t.submit(task);
    }
    t.wait_all_finished(DEADLINE).await;
    for (i, wf) in t.app.model().store.iter().enumerate() {
        let log = t.log_text(i);
        assert!(log.contains("named by the veryfast model"), "{log}");
        assert!(
            log.contains("on embedded SmolLM2-135M-Instruct.Q4_1.gguf at http://127.0.0.1:"),
            "{log}"
        );
        // Whatever the small model's code is worth, no workflow lost its server.
        if wf.status() == WorkflowStatus::Failed {
            let why = wf.error().unwrap_or_default();
            assert!(
                !why.contains("cannot connect") && !why.contains("HTTP 5"),
                "workflow {i}: {why}"
            );
        }
    }
}

#[test]
fn with_nothing_set_up_flotilla_serves_a_gguf_from_its_home() {
    let home = tempfile::tempdir().unwrap();
    let models = home.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    let file = models.join("SmolLM2-135M-Instruct.Q4_1.gguf");
    std::os::unix::fs::symlink(model(), &file).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_flotilla"))
        .arg("--home")
        .arg(home.path())
        .arg("doctor")
        .env_remove("FLOTILLA_HOME")
        .env_remove("FLOTILLA_MODEL")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .env_remove("OLLAMA_HOST")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ollama = std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], 11434)),
        Duration::from_millis(300),
    )
    .is_ok();
    if ollama {
        // A machine with Ollama running keeps it as the default.
        assert!(stdout.contains("the defaults (a local Ollama)"), "{stdout}");
        support::skip(
            "with_nothing_set_up_flotilla_serves_a_gguf_from_its_home",
            "an Ollama answers on 127.0.0.1:11434, so it is the default",
        );
        return;
    }
    assert!(
        stdout.contains(&format!(
            "the defaults (no Ollama answered, so flotilla serves {} itself)",
            file.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("✓ tier fast: model SmolLM2-135M-Instruct.Q4_1 on embedded answers"),
        "{stdout}"
    );
    assert!(out.status.success(), "{stdout}");
}

/// Three `flotilla serve` processes on loopback ports stand in for three hosts of one tier's
/// pool: twelve workflows spread over all three, one is killed mid-run, and every workflow
/// still ends without failing for the server; the header and the logs say where requests went.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_of_three_servers_loses_one_mid_run_and_every_workflow_ends() {
    let _decoding = DECODING.lock().await;
    // Two cores for three engines: one thread and two sequences each.
    let mut hosts: Vec<Option<Serve>> = (0..3)
        .map(|_| {
            Some(serve(&[
                "--parallel",
                "2",
                "--ctx",
                "2048",
                "--threads",
                "1",
            ]))
        })
        .collect();
    let urls: Vec<String> = hosts
        .iter()
        .flatten()
        .map(|s| format!("\"{}\"", s.base))
        .collect();
    let labels: Vec<String> = hosts
        .iter()
        .flatten()
        .map(|s| {
            s.base
                .trim_start_matches("http://")
                .trim_end_matches("/v1")
                .to_owned()
        })
        .collect();
    let id = flotilla::serve::model_id(&model());
    let text = format!(
        r#"max_parallel = 12
naming_timeout = 60
max_attempts = 1
candidates = 1
test_suites = 1

[providers.hosts]
kind = "openai"
base_urls = [{}]
stall_timeout = 300

[tiers.veryfast]
provider = "hosts"
model = "{id}"
[tiers.fast]
provider = "hosts"
model = "{id}"
max_tokens = 120
[tiers.overseer]
provider = "hosts"
model = "{id}"
max_tokens = 120
"#,
        urls.join(", ")
    );
    let mut t = TestApp::new(&text);
    let tasks = [
        "is_even(n)",
        "add(a, b)",
        "square(x)",
        "negate(x)",
        "double(x)",
        "is_odd(n)",
        "halve(x)",
        "cube(x)",
        "increment(x)",
        "decrement(x)",
        "absolute(x)",
        "max_of(a, b)",
    ];
    for task in tasks {
        t.submit(&format!("write a python function {task}"));
    }
    assert_eq!(t.app.model().store.len(), 12);
    // Every server takes requests; then the second dies while it has some of named
    // workflows (planning, coding) in flight.
    let doomed = labels[1].clone();
    t.wait_until("requests on every server", DEADLINE, |app| {
        labels
            .iter()
            .all(|l| app.model().load.get(l).is_some_and(|(n, _)| *n > 0))
    })
    .await;
    t.wait_until(
        "every workflow named, and work on the second server",
        DEADLINE,
        |app| {
            app.model()
                .store
                .iter()
                .all(|w| w.status() == WorkflowStatus::Running)
                && app.model().load.get(&doomed).is_some_and(|(n, _)| *n > 0)
        },
    )
    .await;
    // The header shows each one's requests in flight for its slots.
    let screen = t.screen();
    for l in &labels {
        let after = screen.split(&format!("{l} ")).nth(1).unwrap_or_default();
        let load: String = after
            .chars()
            .skip(2)
            .take_while(|c| !c.is_whitespace())
            .collect();
        assert!(
            load.split_once('/').is_some_and(
                |(n, m)| n.parse::<usize>().is_ok_and(|n| n > 0) && m.parse::<usize>().is_ok()
            ),
            "{l}'s load in the header ({load:?}):\n{screen}"
        );
    }
    if let Some(mut host) = hosts[1].take() {
        let _ = host.child.kill();
        let _ = host.child.wait();
    }
    t.wait_all_finished(DEADLINE).await;
    let screen = t.screen();
    assert!(
        screen.contains(&format!("{doomed} ✗ unreachable")),
        "the header says the dead one is out:\n{screen}"
    );
    let mut moved = 0;
    let mut answered_by = std::collections::BTreeSet::new();
    for (i, wf) in t.app.model().store.iter().enumerate() {
        let log = t.log_text(i);
        moved += log.matches(&format!("moved from {doomed} to ")).count();
        for l in &labels {
            if log.contains(&format!("(answered by {l})")) {
                answered_by.insert(l.clone());
            }
        }
        assert!(!wf.status().is_live(), "workflow {i} ended");
        if let Some(flotilla::workflow::Failure::Model { problem, .. }) = wf.failure() {
            panic!("workflow {i} failed for the server: {problem}\n{log}");
        }
    }
    assert!(moved >= 1, "a request on the dead server moved elsewhere");
    // All three had requests (above); the two left answered the workflows' requests.
    for l in [&labels[0], &labels[2]] {
        assert!(answered_by.contains(l), "{l} answered: {answered_by:?}");
    }
}

/// The `flotilla serve` processes working for `home` (their command line names its `engine/`).
fn engines_of(home: &std::path::Path) -> Vec<u32> {
    let marker = home.join("engine");
    let marker = marker.to_string_lossy();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        // A zombie has an empty command line: it is gone.
        if args.iter().any(|a| a == "serve") && args.iter().any(|a| a.contains(&*marker)) {
            found.push(pid);
        }
    }
    found
}

/// Processes holding a shared lock on `file` (`/proc/locks` lists each by the file's inode).
fn users_of(file: &std::path::Path) -> usize {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(file) else {
        return 0;
    };
    let inode = format!(":{}", meta.ino());
    std::fs::read_to_string("/proc/locks")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("FLOCK") && l.contains("READ"))
        .filter(|l| {
            l.split_whitespace()
                .nth(5)
                .is_some_and(|dev_inode| dev_inode.ends_with(&inode))
        })
        .count()
}

/// Polls `what` until it holds, within `deadline`: the state of other processes, which send
/// no events.
fn poll_until(what: &str, deadline: Duration, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dashboard_and_two_headless_runs_on_one_home_share_one_engine_that_ends_after_them() {
    let _decoding = DECODING.lock().await;
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            r#"max_attempts = 1
candidates = 1
test_suites = 1

[providers.local]
kind = "embedded"
model = "{}"
parallel = 4
ctx = 2048

[tiers.fast]
provider = "local"
max_tokens = 80
"#,
            model().display()
        ),
    )
    .unwrap();
    let mut dashboard = support::pty::Pty::flotilla(home.path(), 30, 120);
    dashboard.wait_for("the dashboard", Duration::from_secs(30), |s| {
        s.contains("New task")
    });
    dashboard.type_bytes(b"write a python function is_even(n)\r");
    let first =
        support::harness::start_headless_run(home.path(), "write a python function add(a, b)")
            .await;
    let second =
        support::harness::start_headless_run(home.path(), "write a python function square(x)")
            .await;
    let files =
        flotilla::provider::shared::Files::new(&home.path().join("engine"), &model(), 4, 2048);
    // All three use the engine: each holds its users' lock.
    poll_until("three users of the engine", DEADLINE, || {
        users_of(&files.users) == 3
    });
    assert_eq!(
        engines_of(home.path()).len(),
        1,
        "one engine for the dashboard and both runs"
    );
    let address = flotilla::provider::shared::read_address(&files.address).expect("its address");
    assert_eq!(engines_of(home.path()), [address.pid]);
    for mut run in [first, second] {
        let status = run.wait().unwrap();
        assert!(
            status.code().is_some(),
            "the run ended by itself: {status:?}"
        );
    }
    // The dashboard still uses it after the runs are gone.
    assert_eq!(users_of(&files.users), 1);
    assert_eq!(engines_of(home.path()), [address.pid]);
    // Its own workflow and the two runs' (shown from the history) all end.
    dashboard.wait_for("every workflow to end", DEADLINE, |s| {
        s.contains("0 queued · 0 naming · 0 running")
    });
    dashboard.quit(false, Duration::from_secs(30));
    // The last user gone, the engine ends after its linger (15 s).
    poll_until("the engine to end", Duration::from_secs(60), || {
        engines_of(home.path()).is_empty()
    });
    assert!(
        !files.address.exists(),
        "the engine took its address file with it"
    );
}
