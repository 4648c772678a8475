//! `config.toml`: model servers (providers), the model tiers, and run limits. Without a config
//! file, the environment (`OPENAI_BASE_URL`, `OPENAI_API_KEY`, `OLLAMA_HOST`) or a local Ollama.

use crate::provider::{ProviderKind, ProviderSettings};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod embedded;
mod file;
mod pipeline;
mod provider;
pub mod show;
pub use embedded::default_model;
use embedded::ollama_listens;
pub use pipeline::PipelineConfig;

/// The three model tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tier {
    /// Names workflows (a ~1B model).
    Veryfast,
    /// Writes code and tests.
    Fast,
    /// Plans and reviews.
    Overseer,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Veryfast, Tier::Fast, Tier::Overseer];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Veryfast => "veryfast",
            Self::Fast => "fast",
            Self::Overseer => "overseer",
        }
    }

    /// The model used for this tier when nothing names one (`[models]` of the built-in
    /// defaults).
    pub fn default_model(self, kind: ProviderKind) -> &'static str {
        let models = &crate::defaults::get().models;
        let by_tier = match kind {
            ProviderKind::Ollama => &models.ollama,
            ProviderKind::Openai => &models.openai,
            ProviderKind::Embedded => &models.embedded,
        };
        match self {
            Self::Veryfast => &by_tier.veryfast,
            Self::Fast => &by_tier.fast,
            Self::Overseer => &by_tier.overseer,
        }
    }
}

/// Which provider and model serve a tier.
#[derive(Debug, Clone, PartialEq)]
pub struct TierConfig {
    /// The first provider the tier names (the only one, mostly).
    pub provider: String,
    /// Every provider the tier names, in order: the servers of all of them are its pool.
    pub pool: Vec<String>,
    pub model: String,
    pub temperature: Option<f32>,
    /// Most tokens one reply may have (the code tier's default is 2048).
    pub max_tokens: Option<u32>,
}

/// Where the configuration came from, for the dashboard and `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    File(PathBuf),
    Environment(&'static str),
    Default,
    /// No file, no server variables, no Ollama: a GGUF file flotilla serves itself.
    EmbeddedDefault(PathBuf),
    /// `OPENAI_API_KEY` is set (and no `OPENAI_BASE_URL`), but a local Ollama answers: the
    /// local server is used, and this says so.
    OllamaOverKey,
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => write!(f, "{}", p.display()),
            Self::Environment("OPENAI_API_KEY") => f.write_str(
                "the OPENAI_API_KEY environment variable: tasks go to api.openai.com (no local Ollama answered)",
            ),
            Self::Environment(var) => write!(f, "the {var} environment variable"),
            Self::OllamaOverKey => f.write_str(
                "the defaults: the local Ollama, which answers; OPENAI_API_KEY is set but not used while it does (set OPENAI_BASE_URL, or name a provider in config.toml, to use the key)",
            ),
            Self::Default => f.write_str("the defaults (a local Ollama)"),
            Self::EmbeddedDefault(model) => write!(
                f,
                "the defaults (no Ollama answered, so flotilla serves {} itself)",
                model.display()
            ),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Run slots: workflows generating at once.
    pub max_parallel: usize,
    /// Longest wait for the veryfast tier to name a workflow.
    pub naming_timeout: Duration,
    pub providers: BTreeMap<String, ProviderSettings>,
    pub tiers: BTreeMap<&'static str, TierConfig>,
    pub source: ConfigSource,
    /// Where the providers and tiers came from: the file when it names providers, else the
    /// environment or the defaults.
    pub servers: ConfigSource,
    /// How workflows plan, test and fix their code.
    pub pipeline: PipelineConfig,
    /// Ring the terminal bell when a workflow ends (the notice line is always shown).
    pub bell: bool,
    /// Ask the terminal for a desktop notification (OSC 9) when a workflow ends.
    pub desktop_notifications: bool,
    /// A shell command run when a workflow ends.
    pub notify_command: Option<String>,
    /// The providers are the built-in default (a local Ollama), chosen for want of any other.
    pub default_ollama: bool,
    /// The dashboard's theme: `dark` or `light`.
    pub theme: String,
    /// Whether the dashboard takes the mouse.
    pub mouse: bool,
    /// `[colors]`: roles recoloured, checked by the dashboard, which knows colours.
    pub colors: Vec<ColorSetting>,
    /// `project`, `base`, `test_command` as the file says them.
    pub project_settings: crate::project::ProjectSettings,
    /// The repository workflows work on, once found (`Project::find`); `None` outside one.
    pub project: Option<crate::project::Project>,
}

/// One `[colors]` entry, with its line for a message about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColorSetting {
    pub role: String,
    pub value: String,
    pub line: usize,
}

/// A configuration problem, naming the file, the line and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}, line {line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl Config {
    /// Reads `path` if it exists, else builds the configuration from the environment. When
    /// nothing names a server and no Ollama answers, a GGUF file (`FLOTILLA_MODEL`, else the
    /// first `models/*.gguf` beside `path`) is served by flotilla itself, for every tier.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let env = |v: &str| std::env::var(v);
        let mut config = match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(path, &text, &env)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::from_env(&env),
            Err(e) => {
                return Err(ConfigError {
                    path: path.to_owned(),
                    line: None,
                    message: format!("cannot read: {e}"),
                });
            }
        };
        // A key in the environment never sends tasks to a hosted API while a local server
        // answers: the local one wins, and the configuration's source says so.
        if config.servers == ConfigSource::Environment("OPENAI_API_KEY") && ollama_listens() {
            config.prefer_local_ollama();
        }
        if config.default_ollama && !ollama_listens() {
            let models = path
                .parent()
                .unwrap_or_else(|| Path::new("."))
                .join("models");
            if let Some(model) = default_model(&env, &models) {
                config.serve_embedded(model);
            }
        }
        Ok(config)
    }

    /// The local Ollama instead of the hosted API a lone `OPENAI_API_KEY` would choose.
    pub fn prefer_local_ollama(&mut self) {
        let key_free = |_: &str| Err(std::env::VarError::NotPresent);
        let local = Self::from_env(&key_free);
        self.providers = local.providers;
        self.tiers = local.tiers;
        self.servers = ConfigSource::OllamaOverKey;
        if self.source == ConfigSource::Environment("OPENAI_API_KEY") {
            self.source = ConfigSource::OllamaOverKey;
        }
    }

    /// Every tier on one embedded provider serving `model`.
    pub fn serve_embedded(&mut self, model: PathBuf) {
        let name = "embedded";
        let id = crate::serve::model_id(&model);
        self.providers = BTreeMap::from([(
            name.to_owned(),
            ProviderSettings::embedded_file(model.clone()),
        )]);
        for tier in self.tiers.values_mut() {
            tier.provider = name.to_owned();
            tier.pool = vec![name.to_owned()];
            tier.model.clone_from(&id);
        }
        if self.source == ConfigSource::Default {
            self.source = ConfigSource::EmbeddedDefault(model.clone());
        }
        self.servers = ConfigSource::EmbeddedDefault(model);
        self.default_ollama = false;
    }

    /// No config file: `OPENAI_BASE_URL` (with `OPENAI_API_KEY`), else `OLLAMA_HOST`, else a
    /// lone `OPENAI_API_KEY` (api.openai.com; `load` prefers a local Ollama that answers), else
    /// the local Ollama. A variable that names a server wins over a key that names none.
    pub fn from_env(env: &dyn Fn(&str) -> Result<String, std::env::VarError>) -> Self {
        let var = |name: &str| env(name).ok().filter(|v| !v.trim().is_empty());
        let mut default_ollama = false;
        let (name, settings, source) = if let Some(base) = var("OPENAI_BASE_URL") {
            let mut s = ProviderSettings::remote(false, base.trim().trim_end_matches('/'));
            s.api_key = var("OPENAI_API_KEY");
            ("openai", s, ConfigSource::Environment("OPENAI_BASE_URL"))
        } else if let Some(host) = var("OLLAMA_HOST") {
            let s = ProviderSettings::remote(true, ollama_url(&host));
            ("ollama", s, ConfigSource::Environment("OLLAMA_HOST"))
        } else if let Some(key) = var("OPENAI_API_KEY") {
            let mut s = ProviderSettings::remote(false, "https://api.openai.com/v1");
            s.api_key = Some(key);
            ("openai", s, ConfigSource::Environment("OPENAI_API_KEY"))
        } else {
            let s = ProviderSettings::remote(true, OLLAMA_DEFAULT);
            default_ollama = true;
            ("ollama", s, ConfigSource::Default)
        };
        let tiers = Tier::ALL
            .into_iter()
            .map(|t| {
                (
                    t.as_str(),
                    TierConfig {
                        provider: name.to_owned(),
                        pool: vec![name.to_owned()],
                        model: t.default_model(settings.kind()).to_owned(),
                        temperature: None,
                        max_tokens: None,
                    },
                )
            })
            .collect();
        let d = crate::defaults::get();
        Self {
            max_parallel: d.max_parallel,
            naming_timeout: Duration::from_secs_f64(d.naming_timeout),
            pipeline: PipelineConfig::default(),
            providers: BTreeMap::from([(name.to_owned(), settings)]),
            tiers,
            servers: source.clone(),
            source,
            bell: d.bell,
            desktop_notifications: d.desktop_notifications,
            notify_command: Some(d.notify_command.clone()).filter(|c| !c.trim().is_empty()),
            default_ollama,
            theme: d.theme.clone(),
            mouse: d.mouse,
            project_settings: crate::project::ProjectSettings::default(),
            project: None,
            colors: Vec::new(),
        }
    }

    pub fn tier(&self, tier: Tier) -> &TierConfig {
        // Every tier is filled in by `parse` and `from_env`.
        &self.tiers[tier.as_str()]
    }
}

const OLLAMA_DEFAULT: &str = "http://127.0.0.1:11434";

/// `OLLAMA_HOST` as Ollama reads it: `host:port`, maybe without a scheme, `0.0.0.0` meaning here.
fn ollama_url(host: &str) -> String {
    let host = host.trim().trim_end_matches('/');
    let with_scheme = if host.starts_with("http://") || host.starts_with("https://") {
        host.to_owned()
    } else {
        format!("http://{host}")
    };
    let url = with_scheme.replace("://0.0.0.0", "://127.0.0.1");
    let has_port = url
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.chars().all(|c| c.is_ascii_digit()));
    if has_port {
        url
    } else {
        format!("{url}:11434")
    }
}

#[cfg(test)]
mod tests;
