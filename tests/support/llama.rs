//! A real llama.cpp server (llama-cpp-python) with the real SmolLM2-135M model, installed by
//! `scripts/setup-model-server` under ~/.cache/flotilla. Started once per test binary.

use super::cache::cache;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub struct LlamaServer {
    pub port: u16,
    child: Child,
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl LlamaServer {
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    fn start() -> Self {
        let python = cache().join("llama-venv/bin/python");
        let model = cache().join("models/SmolLM2-135M-Instruct.Q4_1.gguf");
        assert!(
            python.exists() && model.exists(),
            "the real model server is not installed: run scripts/setup-model-server (or scripts/test), \
             which puts llama-cpp-python and SmolLM2-135M under {}",
            cache().display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let log =
            std::fs::File::create(std::env::temp_dir().join(format!("flotilla-llama-{port}.log")))
                .ok();
        let child = Command::new(&python)
            .args(["-m", "llama_cpp.server", "--model"])
            .arg(&model)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--n_ctx",
                "4096",
                "--interrupt_requests",
                "false",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log.map(Stdio::from).unwrap_or_else(Stdio::null))
            .spawn()
            .expect("start llama_cpp.server");
        let server = Self { port, child };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "llama_cpp.server did not listen on {port} within 120s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The server shared by every test in this binary; it is killed when the binary exits
    /// (statics are never dropped, so an exit hook does it).
    pub fn shared() -> &'static LlamaServer {
        static SERVER: OnceLock<LlamaServer> = OnceLock::new();
        SERVER.get_or_init(|| {
            let server = Self::start();
            SERVER_PID.store(server.child.id(), Ordering::SeqCst);
            // SAFETY: registers a plain extern "C" function with no captured state.
            unsafe { libc::atexit(kill_server) };
            server
        })
    }
}

static SERVER_PID: AtomicU32 = AtomicU32::new(0);

extern "C" fn kill_server() {
    let pid = SERVER_PID.load(Ordering::SeqCst);
    if pid != 0 {
        // SAFETY: sends a signal to the child this process started.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
    }
}
