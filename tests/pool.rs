//! A tier's pool of servers, rule by rule, on scripted loopback servers: model affinity, each
//! server's slots, the least loaded first, a stalled server taken out (its request moved) and
//! probed back in, a dead one left for the others, and a request no server can answer.

mod support;

use flotilla::provider::pool::{Health, Pool, Server};
use flotilla::provider::{ChatRequest, Message, Provider, ProviderError, ProviderSettings, Queue};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::mock::{MockServer, Reply, Wire};

const DEADLINE: Duration = Duration::from_secs(20);

fn settings(url: &str, slots: usize) -> ProviderSettings {
    let mut s = ProviderSettings::remote(false, url);
    s.max_concurrent = slots;
    s.slots_configured = true;
    s.max_retries = 0;
    s.stall_timeout = Duration::from_millis(600);
    s
}

fn server(mock: &MockServer, label: &str, slots: usize) -> Arc<Server> {
    let provider = Provider::new(label, settings(&mock.base_url(), slots)).expect("provider");
    Server::with_probe(
        provider,
        label,
        Duration::from_millis(100),
        Duration::from_millis(200),
    )
}

fn request(model: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![Message::user("write add")],
        max_tokens: Some(64),
        temperature: None,
        seed: None,
        stop: Vec::new(),
        urgent: false,
    }
}

/// A reply of `pieces` pieces, `ms` apart.
fn slow(pieces: usize, ms: u64) -> Reply {
    Reply::Text {
        pieces: (0..pieces).map(|i| format!("p{i} ")).collect(),
        delay: Duration::from_millis(ms),
    }
}

/// Checks every server once, as the engine's watch does, so the pool knows their models.
async fn check(servers: &[&Arc<Server>]) {
    for s in servers {
        s.observe(&s.provider.models(Duration::from_secs(3)).await);
    }
}

/// Waits until `done` holds, or fails saying `what`.
async fn wait_for(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_request_goes_only_to_servers_that_have_its_model() {
    let other = MockServer::start(Wire::OpenAi, |_, _| Reply::text("from other")).await;
    let right = MockServer::start(Wire::OpenAi, |_, _| Reply::text("from right")).await;
    other
        .about
        .models
        .lock()
        .expect("models")
        .push("qwen".into());
    right
        .about
        .models
        .lock()
        .expect("models")
        .push("smollm2".into());
    let (a, b) = (server(&other, "a", 4), server(&right, "b", 4));
    check(&[&a, &b]).await;
    let pool = Pool::new("p", vec![Arc::clone(&a), Arc::clone(&b)]);
    for _ in 0..4 {
        let reply = pool.chat(&request("smollm2"), &mut |_| {}).await;
        assert_eq!(reply.map(|r| r.text).ok().as_deref(), Some("from right"));
    }
    for _ in 0..2 {
        let reply = pool.chat(&request("qwen"), &mut |_| {}).await;
        assert_eq!(reply.map(|r| r.text).ok().as_deref(), Some("from other"));
    }
    assert_eq!(other.chat_requests().len(), 2);
    assert_eq!(right.chat_requests().len(), 4);

    // A server that lists nothing but answers 404 for the model is not asked for it again.
    let lacking = MockServer::start(Wire::OpenAi, |_, _| Reply::Status {
        code: 404,
        headers: Vec::new(),
        body: r#"{"error":{"message":"model 'smollm2' not found"}}"#.into(),
    })
    .await;
    let c = server(&lacking, "c", 8);
    let pool = Pool::new("p", vec![Arc::clone(&c), Arc::clone(&b)]);
    for _ in 0..3 {
        let reply = pool.chat(&request("smollm2"), &mut |_| {}).await;
        assert_eq!(reply.map(|r| r.text).ok().as_deref(), Some("from right"));
    }
    assert_eq!(
        lacking.chat_requests().len(),
        1,
        "asked once, then known to lack it"
    );
    assert!(
        !matches!(c.health(), Health::Unreachable(_)),
        "lacking a model is not down"
    );
}

#[tokio::test]
async fn each_server_gets_no_more_than_its_slots_and_the_least_loaded_goes_first() {
    let one = MockServer::start(Wire::OpenAi, |_, _| slow(20, 10)).await;
    let three = MockServer::start(Wire::OpenAi, |_, _| slow(20, 10)).await;
    let (a, b) = (server(&one, "a", 1), server(&three, "b", 3));
    let pool = Pool::new("p", vec![Arc::clone(&a), Arc::clone(&b)]);
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let pool = Arc::clone(&pool);
        tasks.push(tokio::spawn(async move {
            pool.chat(&request("smollm2"), &mut |_| {}).await
        }));
    }
    for t in tasks {
        let reply = tokio::time::timeout(DEADLINE, t).await.expect("in time");
        assert!(reply.expect("joined").is_ok());
    }
    assert_eq!(one.about.peak.load(Ordering::SeqCst), 1, "a has one slot");
    assert_eq!(
        three.about.peak.load(Ordering::SeqCst),
        3,
        "b has three, all used"
    );
    let (on_a, on_b) = (one.chat_requests().len(), three.chat_requests().len());
    assert_eq!(on_a + on_b, 12);
    // Each takes work as its slots free: about a quarter and three quarters.
    assert!((2..=4).contains(&on_a), "a served {on_a}, b {on_b}");
}

#[tokio::test]
async fn slots_a_server_states_in_props_are_used_when_none_are_configured() {
    let mock = MockServer::start(Wire::OpenAi, |_, _| slow(10, 10)).await;
    *mock.about.total_slots.lock().expect("slots") = Some(6);
    let mut s = settings(&mock.base_url(), 2);
    s.slots_configured = false;
    let a = Server::new(Provider::new("a", s).expect("provider"), "a");
    assert_eq!(a.slots(), 2);
    check(&[&a]).await;
    wait_for("the slots from /props", || a.slots() == 6).await;
}

#[tokio::test]
async fn a_stalled_server_is_taken_out_its_request_moved_and_it_is_probed_back_in() {
    let stalling = Arc::new(AtomicBool::new(true));
    let flag = Arc::clone(&stalling);
    let sticky = MockServer::start(Wire::OpenAi, move |_, _| {
        if flag.load(Ordering::SeqCst) {
            Reply::Stall
        } else {
            Reply::text("from a")
        }
    })
    .await;
    let fine = MockServer::start(Wire::OpenAi, |_, _| slow(5, 20)).await;
    let (a, b) = (server(&sticky, "a", 4), server(&fine, "b", 4));
    let pool = Pool::new("p", vec![Arc::clone(&a), Arc::clone(&b)]);
    // Two at once: one lands on each server; the one on a stalls and moves to b.
    let mut moves = Vec::new();
    let (req_a, req_b) = (request("smollm2"), request("smollm2"));
    let mut on_queue = |q: Queue| {
        if let Queue::Moved { from, to, .. } = q {
            moves.push((from, to));
        }
    };
    let mut no_text = |_: &str| {};
    let first = pool.chat_watched(&req_a, &mut no_text, &mut on_queue);
    let second = async {
        // Let the first take a, the least loaded being a then.
        tokio::time::sleep(Duration::from_millis(50)).await;
        pool.chat(&req_b, &mut |_| {}).await
    };
    let (first, second) = tokio::join!(first, second);
    assert!(first.is_ok(), "{first:?}");
    assert!(second.is_ok(), "{second:?}");
    assert_eq!(moves, [("a".to_owned(), "b".to_owned())]);
    assert!(
        matches!(a.health(), Health::Unreachable(ref why) if why.contains("stalled") || why.contains("did not answer")),
        "{:?}",
        a.health()
    );
    // While a is out, every request goes to b.
    let before = sticky.chat_requests().len();
    for _ in 0..3 {
        assert!(pool.chat(&request("smollm2"), &mut |_| {}).await.is_ok());
    }
    assert_eq!(sticky.chat_requests().len(), before, "a is out of the pool");
    // It recovers; the probe brings it back, and it serves again.
    stalling.store(false, Ordering::SeqCst);
    wait_for("a back in the pool", || {
        matches!(a.health(), Health::Reachable(_))
    })
    .await;
    let mut from_a = false;
    for _ in 0..4 {
        let reply = pool.chat(&request("smollm2"), &mut |_| {}).await;
        from_a |= reply.is_ok_and(|r| r.text == "from a");
    }
    assert!(from_a, "a serves again once probed back in");
}

#[tokio::test]
async fn requests_on_a_server_that_dies_move_to_the_others_and_none_fails() {
    let dying = MockServer::start(Wire::OpenAi, |_, _| slow(200, 10)).await;
    let fine = MockServer::start(Wire::OpenAi, |_, _| slow(10, 5)).await;
    let (a, b) = (server(&dying, "a", 4), server(&fine, "b", 4));
    let pool = Pool::new("p", vec![Arc::clone(&a), Arc::clone(&b)]);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let pool = Arc::clone(&pool);
        tasks.push(tokio::spawn(async move {
            let mut moved = 0;
            let reply = pool
                .chat_watched(&request("smollm2"), &mut |_| {}, &mut |q| {
                    moved += usize::from(matches!(q, Queue::Moved { .. }));
                })
                .await;
            (reply, moved)
        }));
    }
    wait_for("a serving", || {
        dying.about.active.load(Ordering::SeqCst) > 0
    })
    .await;
    drop(dying);
    let mut moved = 0;
    for t in tasks {
        let (reply, n) = tokio::time::timeout(DEADLINE, t)
            .await
            .expect("in time")
            .expect("joined");
        assert!(reply.is_ok(), "{reply:?}");
        moved += n;
    }
    assert!(moved >= 1, "the requests on a moved to b");
    assert!(matches!(a.health(), Health::Unreachable(_)));
}

#[tokio::test]
async fn with_no_server_left_the_request_fails_naming_each_ones_trouble() {
    let refusing = MockServer::start(Wire::OpenAi, |_, _| Reply::Status {
        code: 503,
        headers: Vec::new(),
        body: r#"{"error":{"message":"loading model"}}"#.into(),
    })
    .await;
    let gone = MockServer::start(Wire::OpenAi, |_, _| Reply::text("x")).await;
    let gone_url = gone.base_url();
    drop(gone);
    let a = server(&refusing, "a", 2);
    let b = Server::new(
        Provider::new("b", settings(&gone_url, 2)).expect("provider"),
        "b",
    );
    let pool = Pool::new("gpu + spare", vec![Arc::clone(&a), Arc::clone(&b)]);
    let error = pool
        .chat(&request("smollm2"), &mut |_| {})
        .await
        .expect_err("no server can answer");
    let text = error.to_string();
    assert!(matches!(error, ProviderError::NoServer(_)), "{error:?}");
    assert!(
        text.contains("no server of gpu + spare could answer"),
        "{text}"
    );
    assert!(
        text.contains("a: HTTP 503") && text.contains("loading model"),
        "{text}"
    );
    assert!(text.contains("b: cannot connect"), "{text}");
}

#[tokio::test]
async fn a_pool_of_one_fails_as_its_server_does() {
    let refusing = MockServer::start(Wire::OpenAi, |_, _| Reply::Status {
        code: 400,
        headers: Vec::new(),
        body: r#"{"error":{"message":"bad temperature"}}"#.into(),
    })
    .await;
    let a = server(&refusing, "a", 2);
    let pool = Pool::new("a", vec![Arc::clone(&a)]);
    let error = pool
        .chat(&request("smollm2"), &mut |_| {})
        .await
        .expect_err("refused");
    assert!(
        matches!(error, ProviderError::Http { status: 400, .. }),
        "{error:?}"
    );
    assert!(
        !matches!(a.health(), Health::Unreachable(_)),
        "a bad request is not a bad server"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_warns_of_a_pool_member_down_while_another_serves_and_fails_when_none_does() {
    let up = MockServer::start(Wire::OpenAi, |_, _| Reply::text("OK")).await;
    let gone = MockServer::start(Wire::OpenAi, |_, _| Reply::text("OK")).await;
    let gone_url = gone.base_url();
    drop(gone);
    let doctor = |urls: Vec<String>| async move {
        let home = tempfile::tempdir().expect("home");
        std::fs::write(
            home.path().join("config.toml"),
            format!(
                "[providers.gpus]\nkind = \"openai\"\nbase_urls = [{}]\n[tiers.fast]\nprovider = \"gpus\"\nmodel = \"smollm2\"\n",
                urls.iter().map(|u| format!("{u:?}")).collect::<Vec<_>>().join(", ")
            ),
        )
        .expect("config");
        let out = tokio::task::spawn_blocking(move || {
            let out = support::harness::run_flotilla(home.path(), &["doctor", "--json"]);
            drop(home);
            out
        })
        .await
        .expect("joined");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("doctor's JSON");
        (out.status.code(), report)
    };
    let verdict = |report: &serde_json::Value, check: &str| {
        report["checks"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["check"].as_str() == Some(check)))
            .map(|c| c["verdict"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_else(|| panic!("no check {check}: {report}"))
    };
    let dead = gone_url
        .trim_start_matches("http://")
        .trim_end_matches("/v1")
        .to_owned();
    let (code, report) = doctor(vec![up.base_url(), gone_url.clone()]).await;
    assert_eq!(
        verdict(&report, &format!("provider gpus ({dead})")),
        "warning"
    );
    assert_eq!(verdict(&report, &format!("tier fast on {dead}")), "warning");
    assert_eq!(code, Some(0), "{report}");
    // Alone in its pool, the same server down is a failure.
    let (code, report) = doctor(vec![gone_url.clone()]).await;
    assert_eq!(verdict(&report, "provider gpus"), "failed");
    assert_eq!(code, Some(1));
}
