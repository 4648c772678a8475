//! `models`, `doctor --json` and `run --json` against scripted servers: what they print is
//! parsed, as a script would.

mod support;

use serde_json::Value;
use std::process::Output;
use support::mock::{MockServer, Reply, Wire};

fn flotilla(home: &std::path::Path, args: &[&str]) -> Output {
    support::harness::run_flotilla(home, args)
}

/// Runs flotilla off the runtime, so the scripted servers keep answering.
async fn flotilla_async(home: &std::path::Path, args: &[&str]) -> Output {
    let home = home.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        flotilla(&home, &args)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"))
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_lists_each_servers_models_and_the_tiers_on_them() {
    let openai = MockServer::start(Wire::OpenAi, |_, _| Reply::text("OK")).await;
    let ollama = MockServer::start(Wire::Ollama, |_, _| Reply::text("OK")).await;
    let home = tempfile::tempdir().expect("home");
    let config = format!(
        "[providers.a]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:{}/v1\"\n\
         [providers.o]\nkind = \"ollama\"\nbase_url = \"http://127.0.0.1:{}\"\n\
         [tiers.veryfast]\nprovider = \"o\"\nmodel = \"smollm2\"\n\
         [tiers.fast]\nprovider = \"a\"\nmodel = \"smollm2\"\n\
         [tiers.overseer]\nprovider = \"a\"\nmodel = \"big-model\"\n",
        openai.port, ollama.port
    );
    std::fs::write(home.path().join("config.toml"), &config).expect("config");

    let out = flotilla_async(home.path(), &["models"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("a (openai): "), "{text}");
    assert!(text.contains("  smollm2  ← fast\n"), "{text}");
    assert!(text.contains("  smollm2:latest  ← veryfast\n"), "{text}");
    assert!(
        text.contains("! tier overseer names big-model, which this server does not list"),
        "{text}"
    );

    let out = flotilla_async(home.path(), &["models", "--json"]).await;
    let json = json_of(&out);
    let providers = json["providers"].as_array().expect("providers");
    assert_eq!(providers.len(), 2, "{json}");
    let a = &providers[0];
    assert_eq!(
        (a["provider"].as_str(), a["kind"].as_str()),
        (Some("a"), Some("openai"))
    );
    assert_eq!(a["models"][0]["model"], "smollm2");
    assert_eq!(a["models"][0]["tiers"], serde_json::json!(["fast"]));
    assert!(a["error"].is_null());
    assert_eq!(providers[1]["models"][0]["model"], "smollm2:latest");
    assert_eq!(
        providers[1]["models"][0]["tiers"],
        serde_json::json!(["veryfast"])
    );

    // A server that is down: said, in both forms, and the exit code is 1.
    let dead = config.replace(
        &format!("127.0.0.1:{}\"", ollama.port),
        &format!("127.0.0.1:{}\"", support::cache::free_port()),
    );
    std::fs::write(home.path().join("config.toml"), dead).expect("config");
    let out = flotilla_async(home.path(), &["models"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("✗ cannot list its models: "), "{text}");
    let out = flotilla_async(home.path(), &["models", "--json"]).await;
    assert_eq!(out.status.code(), Some(1));
    let json = json_of(&out);
    assert!(
        json["providers"][1]["error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{json}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_json_says_what_was_checked() {
    let server = MockServer::start(Wire::OpenAi, |_, _| Reply::text("OK")).await;
    let home = tempfile::tempdir().expect("home");
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "[providers.local]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:{}/v1\"\n\
             [tiers.fast]\nprovider = \"local\"\nmodel = \"smollm2\"\n",
            server.port
        ),
    )
    .expect("config");
    let out = flotilla_async(home.path(), &["doctor", "--json"]).await;
    let json = json_of(&out);
    let checks = json["checks"].as_array().expect("checks");
    let verdict = |name: &str| {
        checks
            .iter()
            .find(|c| c["check"] == name)
            .map(|c| c["verdict"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_else(|| panic!("no check {name}: {json}"))
    };
    assert_eq!(verdict("provider local"), "ok");
    for tier in ["tier veryfast", "tier fast", "tier overseer"] {
        assert_eq!(verdict(tier), "ok", "{json}");
    }
    assert!(checks.iter().any(|c| c["check"] == "sandbox"), "{json}");
    assert_eq!(json["tiers"]["fast"]["model"], "smollm2");
    // Which source chose each tier's server.
    assert_eq!(json["tiers"]["fast"]["chosen_by"], "config.toml, line 5");
    assert_eq!(json["tiers"]["overseer"]["chosen_by"], "default");
    assert!(
        json["configuration"]
            .as_str()
            .is_some_and(|c| c.ends_with("config.toml"))
    );
    let sandbox_failed = verdict("sandbox") == "failed";
    assert_eq!(json["ok"], !sandbox_failed, "{json}");
    assert_eq!(out.status.code(), Some(if sandbox_failed { 1 } else { 0 }));

    // The model's server gone: the same checks fail, and the exit code says so.
    drop(server);
    let out = flotilla_async(home.path(), &["doctor", "--json"]).await;
    let json = json_of(&out);
    assert_eq!(json["ok"], false, "{json}");
    assert_eq!(out.status.code(), Some(1));
    let provider = json["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["check"] == "provider local"))
        .expect("the provider's check");
    assert_eq!(provider["verdict"], "failed", "{json}");
    assert!(provider["advice"].as_str().is_some(), "{json}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_json_prints_the_workflow_and_keeps_progress_on_stderr() {
    let server = MockServer::start(Wire::OpenAi, |req, _| {
        if req.is_naming() {
            Reply::text("adds-two-numbers")
        } else {
            Reply::text("```python\ndef add(a, b):\n    return a + b\n```")
        }
    })
    .await;
    let home = tempfile::tempdir().expect("home");
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "run_tests = false\n[providers.local]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:{}/v1\"\n",
            server.port
        ),
    )
    .expect("config");
    let out = flotilla_async(
        home.path(),
        &["run", "--json", "write a python function add(a, b)"],
    )
    .await;
    let json = json_of(&out);
    let progress = String::from_utf8_lossy(&out.stderr);
    assert!(progress.contains("Started workflow wf_1_"), "{progress}");
    assert!(progress.contains("→ [adds-two-numbers]"), "{progress}");
    assert_eq!(json["name"], "adds-two-numbers", "{json}");
    assert!(
        json["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("wf_1_"))
    );
    assert_eq!(json["status"], "completed", "{json}");
    assert_eq!(out.status.code(), Some(0));
    let files = json["result"]["files"]
        .as_array()
        .expect("the files written");
    assert!(files.iter().any(|f| f == "solution.py"), "{json}");
}

#[test]
fn config_prints_each_setting_with_its_origin_and_takes_another_file() {
    let home = tempfile::tempdir().expect("home");
    let elsewhere = home.path().join("team.toml");
    std::fs::write(
        &elsewhere,
        "candidates = 2\n\n[providers.box]\nkind = \"ollama\"\nbase_url = \"http://127.0.0.1:9\"\n[tiers.fast]\nprovider = \"box\"\nmodel = \"coder\"\n",
    )
    .expect("config");
    let path = elsewhere.to_str().expect("path");
    let out = flotilla(home.path(), &["--config", path, "config"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let line = |start: &str| {
        text.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no {start}:\n{text}"))
            .to_owned()
    };
    assert!(
        line("candidates = 2").ends_with("# config.toml, line 1"),
        "{text}"
    );
    assert!(line("test_suites = 2").ends_with("# default"), "{text}");
    assert!(
        line("base_url = \"http://127.0.0.1:9\"").ends_with("line 5"),
        "{text}"
    );
    assert!(text.contains(&format!("# {path} (read)")), "{text}");

    let out = flotilla(home.path(), &["--config", path, "config", "--json"]);
    let json = json_of(&out);
    let settings = json["settings"].as_array().expect("settings");
    let model = settings
        .iter()
        .find(|s| s["key"] == "tiers.fast.model")
        .expect("tiers.fast.model");
    assert_eq!(model["value"], "\"coder\"");
    assert_eq!(model["origin"]["line"], 8);
    let suites = settings
        .iter()
        .find(|s| s["key"] == "test_suites")
        .expect("test_suites");
    assert_eq!(suites["origin"], "default");

    // A file named with --config must exist.
    let out = flotilla(
        home.path(),
        &["--config", "/nonexistent/flotilla.toml", "config"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--config /nonexistent/flotilla.toml"));
}
