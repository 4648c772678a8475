//! `config.toml`: model servers (providers), the model tiers, and run limits. Without a config
//! file, the environment (`OPENAI_BASE_URL`, `OPENAI_API_KEY`, `OLLAMA_HOST`) or a local Ollama.

use crate::provider::{ProviderKind, ProviderSettings};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

mod embedded;
mod pipeline;
pub use embedded::default_model;
use embedded::{embedded_settings, ollama_listens};
pub use pipeline::PipelineConfig;
use pipeline::RawSandbox;

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

    /// The model used for this tier when nothing names one.
    pub fn default_model(self, kind: ProviderKind) -> &'static str {
        match (kind, self) {
            (ProviderKind::Ollama, Tier::Veryfast) => "llama3.2:1b",
            (ProviderKind::Ollama, _) => "qwen2.5-coder:7b",
            (ProviderKind::Openai, _) => "gpt-4o-mini",
            // An embedded server has one model and takes any name.
            (ProviderKind::Embedded, _) => "default",
        }
    }
}

/// Which provider and model serve a tier.
#[derive(Debug, Clone, PartialEq)]
pub struct TierConfig {
    pub provider: String,
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
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => write!(f, "{}", p.display()),
            Self::Environment(var) => write!(f, "the {var} environment variable"),
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
    /// How workflows plan, test and fix their code.
    pub pipeline: PipelineConfig,
    /// Ring the terminal bell when a workflow ends (the notice line is always shown).
    pub bell: bool,
    /// The providers are the built-in default (a local Ollama), chosen for want of any other.
    pub default_ollama: bool,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    max_parallel: Option<Spanned<usize>>,
    naming_timeout: Option<Spanned<f64>>,
    #[serde(default)]
    providers: BTreeMap<String, Spanned<RawProvider>>,
    #[serde(default)]
    tiers: RawTiers,
    default_language: Option<Spanned<String>>,
    max_attempts: Option<Spanned<u32>>,
    run_tests: Option<bool>,
    candidates: Option<Spanned<usize>>,
    test_suites: Option<Spanned<usize>>,
    sample_temperature: Option<Spanned<f32>>,
    sandbox: Option<RawSandbox>,
    bell: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    kind: Spanned<ProviderKind>,
    base_url: Option<Spanned<String>>,
    /// `embedded`: the GGUF file.
    model: Option<Spanned<String>>,
    /// `embedded`: requests decoded together.
    parallel: Option<Spanned<usize>>,
    /// `embedded`: context of one request, in tokens.
    ctx: Option<Spanned<u32>>,
    api_key_env: Option<String>,
    max_concurrent: Option<Spanned<usize>>,
    connect_timeout: Option<f64>,
    stall_timeout: Option<f64>,
    request_timeout: Option<f64>,
    max_retries: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTiers {
    veryfast: Option<RawTier>,
    fast: Option<RawTier>,
    overseer: Option<RawTier>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    provider: Spanned<String>,
    model: Option<String>,
    temperature: Option<f32>,
    max_tokens: Option<u32>,
}

pub const DEFAULT_MAX_PARALLEL: usize = 4;
pub const DEFAULT_NAMING_TIMEOUT: Duration = Duration::from_secs(10);

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

    /// Every tier on one embedded provider serving `model`.
    pub fn serve_embedded(&mut self, model: PathBuf) {
        let name = "embedded";
        let id = crate::serve::model_id(&model);
        self.providers = BTreeMap::from([(
            name.to_owned(),
            ProviderSettings::embedded(model.clone(), DEFAULT_MAX_PARALLEL),
        )]);
        for tier in self.tiers.values_mut() {
            tier.provider = name.to_owned();
            tier.model.clone_from(&id);
        }
        if self.source == ConfigSource::Default {
            self.source = ConfigSource::EmbeddedDefault(model);
        }
        self.default_ollama = false;
    }

    /// Parses a config file's text; `env` looks up `api_key_env` variables.
    pub fn parse(
        path: &Path,
        text: &str,
        env: &dyn Fn(&str) -> Result<String, std::env::VarError>,
    ) -> Result<Self, ConfigError> {
        let err = |span: Option<std::ops::Range<usize>>, message: String| ConfigError {
            path: path.to_owned(),
            line: span.map(|s| line_of(text, s.start)),
            message,
        };
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| err(e.span(), e.message().trim().to_owned()))?;

        let max_parallel = match raw.max_parallel {
            Some(n) if *n.get_ref() == 0 => {
                return Err(err(
                    Some(n.span()),
                    "max_parallel must be at least 1".into(),
                ));
            }
            Some(n) => n.into_inner(),
            None => DEFAULT_MAX_PARALLEL,
        };
        let naming_timeout = match raw.naming_timeout {
            Some(t) if !(t.get_ref().is_finite() && *t.get_ref() > 0.0) => {
                return Err(err(
                    Some(t.span()),
                    "naming_timeout must be a positive number of seconds".into(),
                ));
            }
            Some(t) => Duration::from_secs_f64(t.into_inner()),
            None => DEFAULT_NAMING_TIMEOUT,
        };

        let mut pipeline = PipelineConfig::from_raw(
            raw.default_language,
            raw.max_attempts,
            raw.run_tests,
            raw.sandbox,
            &err,
        )?;
        pipeline.set_sampling(
            raw.candidates,
            raw.test_suites,
            raw.sample_temperature,
            &err,
        )?;

        let mut providers = BTreeMap::new();
        for (name, spanned) in raw.providers {
            let span = spanned.span();
            let p = spanned.into_inner();
            let kind = *p.kind.get_ref();
            let mut settings = if kind == ProviderKind::Embedded {
                embedded_settings(&name, &p, path, &err)?
            } else {
                for (field, span) in [
                    ("model", p.model.as_ref().map(Spanned::span)),
                    ("parallel", p.parallel.as_ref().map(Spanned::span)),
                    ("ctx", p.ctx.as_ref().map(Spanned::span)),
                ] {
                    if let Some(span) = span {
                        return Err(err(
                            Some(span),
                            format!(
                                "{field} is for kind = \"embedded\"; provider {name:?} is {}: name its model in [tiers]",
                                kind.as_str()
                            ),
                        ));
                    }
                }
                let Some(base_url) = &p.base_url else {
                    return Err(err(
                        Some(p.kind.span()),
                        format!("provider {name:?} needs base_url (the server's address)"),
                    ));
                };
                let url = base_url.get_ref().trim().to_owned();
                if !(url.starts_with("http://") || url.starts_with("https://"))
                    || reqwest::Url::parse(&url).is_err()
                {
                    return Err(err(
                        Some(base_url.span()),
                        format!(
                            "base_url {url:?} of provider {name:?} is not an http:// or https:// URL"
                        ),
                    ));
                }
                ProviderSettings::new(kind, url)
            };
            if let Some(var) = &p.api_key_env {
                settings.api_key = env(var).ok().filter(|k| !k.is_empty());
            }
            if let Some(n) = p.max_concurrent {
                if *n.get_ref() == 0 {
                    return Err(err(
                        Some(n.span()),
                        "max_concurrent must be at least 1".into(),
                    ));
                }
                settings.max_concurrent = n.into_inner();
            }
            for (value, slot, field) in [
                (
                    p.connect_timeout,
                    &mut settings.connect_timeout,
                    "connect_timeout",
                ),
                (
                    p.stall_timeout,
                    &mut settings.stall_timeout,
                    "stall_timeout",
                ),
                (
                    p.request_timeout,
                    &mut settings.request_timeout,
                    "request_timeout",
                ),
            ] {
                if let Some(secs) = value {
                    if !(secs.is_finite() && secs > 0.0) {
                        return Err(err(
                            Some(span.clone()),
                            format!("{field} must be a positive number of seconds"),
                        ));
                    }
                    *slot = Duration::from_secs_f64(secs);
                }
            }
            if let Some(n) = p.max_retries {
                settings.max_retries = n;
            }
            providers.insert(name, settings);
        }

        if providers.is_empty() {
            if raw.tiers.veryfast.is_some()
                || raw.tiers.fast.is_some()
                || raw.tiers.overseer.is_some()
            {
                return Err(err(
                    None,
                    "[tiers] name providers, but no [providers.NAME] table is defined".into(),
                ));
            }
            let mut config = Self::from_env(env);
            config.max_parallel = max_parallel;
            config.naming_timeout = naming_timeout;
            config.pipeline = pipeline;
            config.bell = raw.bell.unwrap_or(false);
            config.source = ConfigSource::File(path.to_owned());
            return Ok(config);
        }

        let declared = [
            (Tier::Veryfast, raw.tiers.veryfast),
            (Tier::Fast, raw.tiers.fast),
            (Tier::Overseer, raw.tiers.overseer),
        ];
        let mut tiers = BTreeMap::new();
        for (tier, raw_tier) in &declared {
            let Some(t) = raw_tier else { continue };
            let provider = t.provider.get_ref();
            let Some(settings) = providers.get(provider) else {
                let known: Vec<&str> = providers.keys().map(String::as_str).collect();
                return Err(err(
                    Some(t.provider.span()),
                    format!(
                        "tier {} names provider {provider:?}, but only {} defined",
                        tier.as_str(),
                        known.join(", ")
                    ),
                ));
            };
            tiers.insert(
                tier.as_str(),
                TierConfig {
                    provider: provider.clone(),
                    model: t
                        .model
                        .clone()
                        .unwrap_or_else(|| tier.default_model(settings.kind).to_owned()),
                    temperature: t.temperature,
                    max_tokens: t.max_tokens,
                },
            );
        }
        // A tier left out borrows another's, else the first provider's default model.
        let first = tiers.values().next().cloned();
        for tier in Tier::ALL {
            if !tiers.contains_key(tier.as_str()) {
                let config = match &first {
                    Some(other) => other.clone(),
                    None => {
                        let (name, settings) = providers
                            .iter()
                            .next()
                            .ok_or_else(|| err(None, "no providers".into()))?;
                        TierConfig {
                            provider: name.clone(),
                            model: tier.default_model(settings.kind).to_owned(),
                            temperature: None,
                            max_tokens: None,
                        }
                    }
                };
                tiers.insert(tier.as_str(), config);
            }
        }
        Ok(Self {
            max_parallel,
            naming_timeout,
            pipeline,
            providers,
            tiers,
            source: ConfigSource::File(path.to_owned()),
            bell: raw.bell.unwrap_or(false),
            default_ollama: false,
        })
    }

    /// No config file: `OPENAI_BASE_URL`/`OPENAI_API_KEY`, else `OLLAMA_HOST`, else local Ollama.
    pub fn from_env(env: &dyn Fn(&str) -> Result<String, std::env::VarError>) -> Self {
        let var = |name: &str| env(name).ok().filter(|v| !v.trim().is_empty());
        let mut default_ollama = false;
        let (name, settings, source) = if let Some(base) = var("OPENAI_BASE_URL") {
            let mut s =
                ProviderSettings::new(ProviderKind::Openai, base.trim().trim_end_matches('/'));
            s.api_key = var("OPENAI_API_KEY");
            ("openai", s, ConfigSource::Environment("OPENAI_BASE_URL"))
        } else if let Some(key) = var("OPENAI_API_KEY") {
            let mut s = ProviderSettings::new(ProviderKind::Openai, "https://api.openai.com/v1");
            s.api_key = Some(key);
            ("openai", s, ConfigSource::Environment("OPENAI_API_KEY"))
        } else if let Some(host) = var("OLLAMA_HOST") {
            let s = ProviderSettings::new(ProviderKind::Ollama, ollama_url(&host));
            ("ollama", s, ConfigSource::Environment("OLLAMA_HOST"))
        } else {
            let s = ProviderSettings::new(ProviderKind::Ollama, OLLAMA_DEFAULT);
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
                        model: t.default_model(settings.kind).to_owned(),
                        temperature: None,
                        max_tokens: None,
                    },
                )
            })
            .collect();
        Self {
            max_parallel: DEFAULT_MAX_PARALLEL,
            naming_timeout: DEFAULT_NAMING_TIMEOUT,
            pipeline: PipelineConfig::default(),
            providers: BTreeMap::from([(name.to_owned(), settings)]),
            tiers,
            source,
            bell: false,
            default_ollama,
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
