use super::*;

fn job(dir: &std::path::Path, program: &str, args: &[&str]) -> Job {
    Job {
        program: program.into(),
        args: args.iter().map(|a| a.to_string()).collect(),
        dir: dir.to_owned(),
        env: vec![("FLOTILLA_TEST_VAR".into(), "1".into())],
    }
}

async fn go(job: &Job, limits: &Limits) -> Finished {
    let mut seen = String::new();
    let finished = run(job, limits, &CancellationToken::new(), &mut |t| {
        seen.push_str(t)
    })
    .await
    .unwrap_or_else(|e| panic!("spawn failed: {e}"));
    assert_eq!(
        seen, finished.output,
        "streamed output matches the kept output"
    );
    finished
}

#[tokio::test]
async fn runs_with_a_cleared_environment_and_captures_output() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let f = go(
        &job(dir.path(), "/bin/sh", &["-c", "env; echo err >&2; exit 3"]),
        &Limits::default(),
    )
    .await;
    assert_eq!(f.exit_code, Some(3));
    assert!(
        f.output.contains("PATH=") && f.output.contains("FLOTILLA_TEST_VAR=1"),
        "{}",
        f.output
    );
    assert!(f.output.contains("err"));
    assert!(
        !f.output.contains("CARGO_MANIFEST_DIR"),
        "the environment is cleared: {}",
        f.output
    );
}

#[tokio::test]
async fn the_timeout_kills_a_looping_test_and_its_children() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let limits = Limits {
        timeout: Duration::from_millis(500),
        ..Limits::default()
    };
    let script = "sleep 1000 & echo $! > child.pid; while true; do :; done";
    let f = go(&job(dir.path(), "/bin/sh", &["-c", script]), &limits).await;
    assert!(f.timed_out && !f.success());
    assert_eq!(f.describe(&limits), "timed out after 0.5s");
    let pid: libc::pid_t = std::fs::read_to_string(dir.path().join("child.pid"))
        .unwrap_or_default()
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("no child pid: {e}"));
    // The background child was killed with its group; a zombie has no /proc/<pid>/cmdline text.
    let alive =
        std::fs::read_to_string(format!("/proc/{pid}/cmdline")).is_ok_and(|c| !c.is_empty());
    assert!(!alive, "child {pid} survived the timeout");
}

#[tokio::test]
async fn output_is_capped() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let limits = Limits {
        output_cap: 4096,
        ..Limits::default()
    };
    let f = go(
        &job(
            dir.path(),
            "/bin/sh",
            &["-c", "yes flotilla | head -c 1000000"],
        ),
        &limits,
    )
    .await;
    assert!(f.truncated);
    assert!(f.output.len() < 4096 + 200, "{}", f.output.len());
    assert!(
        f.output
            .contains("[output cut at 4 KiB; 995904 more bytes dropped]"),
        "{}",
        &f.output[4000..]
    );
}

#[tokio::test]
async fn file_size_limit_stops_big_writes() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let limits = Limits {
        file_size_bytes: 1 << 20,
        ..Limits::default()
    };
    let f = go(
        &job(
            dir.path(),
            "python3",
            &["-c", "open('big','wb').write(b'0'*5_000_000)"],
        ),
        &limits,
    )
    .await;
    // Python ignores SIGXFSZ and gets EFBIG instead; either way the write stops at the limit.
    assert!(!f.success(), "{f:?}");
    assert!(
        f.signal == Some(libc::SIGXFSZ) || f.output.contains("File too large"),
        "{f:?}"
    );
    let size = std::fs::metadata(dir.path().join("big"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert!(size <= 1 << 20, "{size}");
    let sh = go(
        &job(
            dir.path(),
            "/bin/sh",
            &["-c", "exec head -c 5000000 /dev/zero > big2"],
        ),
        &limits,
    )
    .await;
    assert_eq!(sh.signal, Some(libc::SIGXFSZ), "{sh:?}");
    assert!(sh.describe(&limits).contains("file size limit"));
}

#[tokio::test]
async fn cpu_limit_stops_a_busy_loop_before_the_timeout() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let limits = Limits {
        cpu_seconds: 1,
        timeout: Duration::from_secs(30),
        ..Limits::default()
    };
    let f = go(
        &job(dir.path(), "python3", &["-c", "while True: pass"]),
        &limits,
    )
    .await;
    assert!(!f.timed_out, "{f:?}");
    assert!(
        matches!(f.signal, Some(libc::SIGXCPU | libc::SIGKILL)),
        "{f:?}"
    );
}

#[tokio::test]
async fn memory_limit_stops_a_big_allocation() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let limits = Limits {
        memory_bytes: 200 << 20,
        ..Limits::default()
    };
    let f = go(
        &job(dir.path(), "python3", &["-c", "x = bytearray(1 << 30)"]),
        &limits,
    )
    .await;
    assert!(!f.success());
    assert!(f.output.contains("MemoryError"), "{}", f.output);
}

#[tokio::test]
async fn no_network_when_the_machine_allows_it() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(9);
    let script = format!(
        "import socket; socket.create_connection(('127.0.0.1', {port}), timeout=2); print('connected')"
    );
    let f = go(
        &job(dir.path(), "python3", &["-c", &script]),
        &Limits::default(),
    )
    .await;
    if network_isolation() {
        assert!(
            !f.success() && !f.output.contains("connected"),
            "{}",
            f.output
        );
    } else {
        assert!(
            f.output.contains("connected"),
            "without a namespace the network is reachable: {}",
            f.output
        );
    }
}

#[tokio::test]
async fn cancelling_kills_the_run_at_once() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let job = job(dir.path(), "/bin/sh", &["-c", "echo started; sleep 1000"]);
    let limits = Limits::default();
    let mut on_output = move |text: &str| {
        if text.contains("started") {
            trigger.cancel();
        }
    };
    let f = tokio::time::timeout(
        Duration::from_secs(10),
        run(&job, &limits, &cancel, &mut on_output),
    )
    .await
    .unwrap_or_else(|_| panic!("cancel did not stop the run"))
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(f.cancelled && !f.timed_out);
    assert_eq!(f.describe(&limits), "cancelled");
}

#[test]
fn utf8_split_across_chunks_is_kept_whole() {
    let mut out = CappedOutput::new(1024);
    let bytes = "✓ ok".as_bytes();
    let mut text = String::new();
    for b in bytes {
        text.push_str(&out.push(std::slice::from_ref(b)).unwrap_or_default());
    }
    assert_eq!(text, "✓ ok");
}
