//! Where `scripts/setup-model-server` and `scripts/fetch-model` keep the real model and server:
//! shared by the tests and the benches (which include this file by path).

use std::path::PathBuf;

/// `$FLOTILLA_CACHE`, else `~/.cache/flotilla`.
pub fn cache() -> PathBuf {
    std::env::var_os("FLOTILLA_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/flotilla")
        })
}

/// The SmolLM2-135M model file, which must be there.
pub fn model() -> PathBuf {
    let model = cache().join("models/SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(
        model.exists(),
        "{} is missing: run scripts/fetch-model (scripts/test does)",
        model.display()
    );
    model
}

/// A loopback port free right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
