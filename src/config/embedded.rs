//! The embedded provider's settings, and the embedded default: a GGUF file flotilla serves
//! itself when nothing names a server and no Ollama answers.

use super::ConfigError;
use super::file::RawProvider;
use crate::provider::ProviderSettings;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The settings of an `embedded` provider: `model` (a GGUF file, relative to the config
/// file's folder, `~/` for the home folder), `parallel`, `ctx`; no `base_url`.
pub(super) fn embedded_settings(
    name: &str,
    p: &RawProvider,
    config_path: &Path,
    err: &dyn Fn(Option<std::ops::Range<usize>>, String) -> ConfigError,
) -> Result<ProviderSettings, ConfigError> {
    if let Some(url) = &p.base_url {
        return Err(err(
            Some(url.span()),
            format!(
                "provider {name:?} is embedded: flotilla serves its model itself, so it takes model = \"FILE.gguf\", not base_url"
            ),
        ));
    }
    for (field, span) in [
        ("base_urls", p.base_urls.as_ref().map(toml::Spanned::span)),
        ("keep_alive", p.keep_alive.as_ref().map(toml::Spanned::span)),
    ] {
        if let Some(span) = span {
            return Err(err(
                Some(span),
                format!(
                    "provider {name:?} is embedded: flotilla serves its model itself, so {field} does not apply"
                ),
            ));
        }
    }
    let Some(model) = &p.model else {
        return Err(err(
            Some(p.kind.span()),
            format!("provider {name:?} is embedded and needs model = \"/path/to/FILE.gguf\""),
        ));
    };
    let text = model.get_ref().trim();
    let file = match text.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default()
            .join(rest),
        None => config_path
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .join(text),
    };
    if text.is_empty() {
        return Err(err(Some(model.span()), "model is empty".into()));
    }
    let mut settings = ProviderSettings::embedded(file);
    if let Some(n) = &p.parallel {
        if *n.get_ref() == 0 || *n.get_ref() > 64 {
            return Err(err(Some(n.span()), "parallel must be 1 to 64".into()));
        }
        settings.set_parallel(*n.get_ref());
    }
    if let Some(ctx) = &p.ctx {
        if !(256..=1_048_576).contains(ctx.get_ref()) {
            return Err(err(
                Some(ctx.span()),
                "ctx must be 256 to 1048576 tokens".into(),
            ));
        }
        if let Some(e) = settings.embedded.as_mut() {
            e.ctx = *ctx.get_ref();
        }
    }
    Ok(settings)
}

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
