//! The embedded default: a GGUF file flotilla serves itself when nothing names a server and no
//! Ollama answers.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Whether anything listens on Ollama's default port (a refused connection is immediate).
pub(super) fn ollama_listens() -> bool {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 11434));
    std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok()
}

/// The model to serve when nothing else is set up: `FLOTILLA_MODEL`, else the first `*.gguf`
/// in `models` by name.
pub fn default_model(
    env: &dyn Fn(&str) -> Result<String, std::env::VarError>,
    models: &Path,
) -> Option<PathBuf> {
    if let Some(file) = env("FLOTILLA_MODEL").ok().filter(|v| !v.trim().is_empty()) {
        return Some(PathBuf::from(file.trim()));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(models)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "gguf") && p.is_file())
        .collect();
    found.sort();
    found.into_iter().next()
}
