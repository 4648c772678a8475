//! The defaults of every setting, read from `assets/defaults.toml` (built into the binary). The
//! configuration reads `config.toml` over them; the provider and the sandbox start from them.

use serde::Deserialize;
use std::sync::LazyLock;

/// The text of the built-in defaults.
pub const TEXT: &str = include_str!("../assets/defaults.toml");

/// Every default; all keys must be in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    pub max_parallel: usize,
    pub naming_timeout: f64,
    pub bell: bool,
    pub desktop_notifications: bool,
    pub notify_command: String,
    pub theme: String,
    pub mouse: bool,
    pub project: String,
    pub base: String,
    pub test_command: String,
    pub default_language: String,
    pub max_attempts: u32,
    pub run_tests: bool,
    pub candidates: usize,
    pub test_suites: usize,
    pub sample_temperature: f32,
    pub sandbox: Sandbox,
    pub provider: Provider,
    pub models: Models,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sandbox {
    pub mode: String,
    pub timeout: f64,
    pub cpu_seconds: u64,
    pub memory_mb: u64,
    pub file_size_mb: u64,
    pub disk_mb: u64,
    pub max_processes: u64,
    pub output_kb: usize,
    pub python: String,
    pub node: String,
    pub cargo: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    pub max_concurrent: usize,
    pub connect_timeout: f64,
    pub stall_timeout: f64,
    pub request_timeout: f64,
    pub max_retries: u32,
    pub embedded: Embedded,
    pub ollama: Ollama,
    pub pool: Pool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ollama {
    pub ctx: u32,
    pub keep_alive: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pool {
    pub probe_interval: f64,
    pub probe_max: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Embedded {
    pub parallel: usize,
    pub ctx: u32,
    pub stall_timeout: f64,
    pub linger: f64,
}

/// A tier's model when none is named, by the kind of server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Models {
    pub ollama: TierModels,
    pub openai: TierModels,
    pub embedded: TierModels,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierModels {
    pub veryfast: String,
    pub fast: String,
    pub overseer: String,
}

/// The defaults, read once. The file is part of the binary and a unit test reads it, so a
/// mistake in it is a build defect, not a user's.
pub fn get() -> &'static Defaults {
    static DEFAULTS: LazyLock<Defaults> = LazyLock::new(|| match toml::from_str(TEXT) {
        Ok(d) => d,
        Err(e) => panic!("assets/defaults.toml: {e}"),
    });
    &DEFAULTS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_defaults_are_complete_and_read() {
        let d: Defaults = toml::from_str(TEXT).expect("assets/defaults.toml");
        assert_eq!(d.max_parallel, get().max_parallel);
        assert!(d.provider.embedded.parallel >= 1);
    }
}
