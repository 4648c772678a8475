//! Reading `config.toml`: its raw form, checked field by field, with the line of each mistake.

use super::pipeline::RawSandbox;
use super::provider::{RawProvider, read_providers};
use super::{Config, ConfigError, ConfigSource, PipelineConfig, Tier, TierConfig, line_of};
use crate::provider::{ProviderKind, ProviderSettings};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use toml::Spanned;

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
    desktop_notifications: Option<bool>,
    notify_command: Option<String>,
    theme: Option<Spanned<String>>,
    mouse: Option<bool>,
    colors: Option<BTreeMap<String, Spanned<String>>>,
    project: Option<Spanned<String>>,
    base: Option<Spanned<String>>,
    test_command: Option<Spanned<String>>,
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
    provider: Spanned<OneOrMany>,
    model: Option<String>,
    temperature: Option<f32>,
    max_tokens: Option<u32>,
}

/// A tier's `provider`: one name, or a list of them (the tier's pool is all their servers).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn names(&self) -> Vec<String> {
        match self {
            Self::One(name) => vec![name.clone()],
            Self::Many(names) => names.clone(),
        }
    }
}

impl Config {
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

        let defaults = crate::defaults::get();
        let (max_parallel, naming_timeout) =
            run_limits(raw.max_parallel, raw.naming_timeout, &err)?;

        let (theme, colors) = look(raw.theme, raw.colors, text, &err)?;

        let desktop_notifications = raw
            .desktop_notifications
            .unwrap_or(defaults.desktop_notifications);
        let notify_command = Some(
            raw.notify_command
                .unwrap_or(defaults.notify_command.clone()),
        )
        .filter(|c| !c.trim().is_empty());

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

        let providers = read_providers(raw.providers, path, env, &err)?;

        let (providers, tiers, servers, default_ollama) =
            servers(raw.tiers, providers, path, env, &err)?;
        Ok(Self {
            max_parallel,
            naming_timeout,
            pipeline,
            providers,
            tiers,
            source: ConfigSource::File(path.to_owned()),
            servers,
            bell: raw.bell.unwrap_or(defaults.bell),
            desktop_notifications,
            notify_command,
            default_ollama,
            theme,
            colors,
            mouse: raw.mouse.unwrap_or(defaults.mouse),
            project_settings: project_settings(path, raw.project, raw.base, raw.test_command),
            project: None,
        })
    }
}

type ErrorAt<'a> = &'a dyn Fn(Option<std::ops::Range<usize>>, String) -> ConfigError;

/// `max_parallel` and `naming_timeout`.
fn run_limits(
    max_parallel: Option<Spanned<usize>>,
    naming_timeout: Option<Spanned<f64>>,
    err: ErrorAt<'_>,
) -> Result<(usize, Duration), ConfigError> {
    let defaults = crate::defaults::get();
    let max_parallel = match max_parallel {
        Some(n) if *n.get_ref() == 0 => {
            return Err(err(
                Some(n.span()),
                "max_parallel must be at least 1".into(),
            ));
        }
        Some(n) => n.into_inner(),
        None => defaults.max_parallel,
    };
    let naming_timeout = match naming_timeout {
        Some(t) if !(t.get_ref().is_finite() && *t.get_ref() > 0.0) => {
            return Err(err(
                Some(t.span()),
                "naming_timeout must be a positive number of seconds".into(),
            ));
        }
        Some(t) => Duration::from_secs_f64(t.into_inner()),
        None => Duration::from_secs_f64(defaults.naming_timeout),
    };

    Ok((max_parallel, naming_timeout))
}

/// `theme` and `[colors]` (checked by the dashboard, which knows colours).
fn look(
    theme: Option<Spanned<String>>,
    colors: Option<BTreeMap<String, Spanned<String>>>,
    text: &str,
    err: ErrorAt<'_>,
) -> Result<(String, Vec<super::ColorSetting>), ConfigError> {
    let defaults = crate::defaults::get();
    let theme = match theme {
        Some(t) if !matches!(t.get_ref().as_str(), "dark" | "light") => {
            return Err(err(
                Some(t.span()),
                format!("theme must be \"dark\" or \"light\", not {:?}", t.get_ref()),
            ));
        }
        Some(t) => t.into_inner(),
        None => defaults.theme.clone(),
    };
    let colors: Vec<super::ColorSetting> = colors
        .unwrap_or_default()
        .into_iter()
        .map(|(role, value)| super::ColorSetting {
            role,
            line: line_of(text, value.span().start),
            value: value.into_inner(),
        })
        .collect();

    Ok((theme, colors))
}

/// Providers, tiers, where they came from, and whether they are the Ollama default.
type Servers = (
    BTreeMap<String, ProviderSettings>,
    BTreeMap<&'static str, TierConfig>,
    ConfigSource,
    bool,
);

/// The servers: the file's providers and tiers, else those of the environment.
fn servers(
    raw_tiers: RawTiers,
    providers: BTreeMap<String, ProviderSettings>,
    path: &Path,
    env: &dyn Fn(&str) -> Result<String, std::env::VarError>,
    err: ErrorAt<'_>,
) -> Result<Servers, ConfigError> {
    Ok(if providers.is_empty() {
        if raw_tiers.veryfast.is_some() || raw_tiers.fast.is_some() || raw_tiers.overseer.is_some()
        {
            return Err(err(
                None,
                "[tiers] name providers, but no [providers.NAME] table is defined".into(),
            ));
        }
        let found = Config::from_env(env);
        (
            found.providers,
            found.tiers,
            found.servers,
            found.default_ollama,
        )
    } else {
        let tiers = resolve_tiers(raw_tiers, &providers, err)?;
        (providers, tiers, ConfigSource::File(path.to_owned()), false)
    })
}

/// `project`, `base` and `test_command` (an empty string is none); a relative `project` is
/// read from the config file's folder.
fn project_settings(
    path: &Path,
    project: Option<Spanned<String>>,
    base: Option<Spanned<String>>,
    test_command: Option<Spanned<String>>,
) -> crate::project::ProjectSettings {
    let d = crate::defaults::get();
    let given = |v: Option<Spanned<String>>, default: &str| {
        Some(v.map_or(default.to_owned(), Spanned::into_inner))
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    crate::project::ProjectSettings {
        project: given(project, &d.project).map(|p| {
            let p = std::path::PathBuf::from(p);
            match (p.is_relative(), path.parent()) {
                (true, Some(dir)) => dir.join(p),
                _ => p,
            }
        }),
        base: given(base, &d.base),
        test_command: given(test_command, &d.test_command),
    }
}

/// The providers a tier names, each defined and named once, and the kind of the first (for
/// its default model).
fn tier_pool(
    tier: Tier,
    t: &RawTier,
    providers: &BTreeMap<String, ProviderSettings>,
    err: &dyn Fn(Option<std::ops::Range<usize>>, String) -> ConfigError,
) -> Result<(Vec<String>, ProviderKind), ConfigError> {
    let names = t.provider.get_ref().names();
    if names.is_empty() {
        return Err(err(
            Some(t.provider.span()),
            format!("tier {} names no provider", tier.as_str()),
        ));
    }
    let mut kind = None;
    for provider in &names {
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
        if names.iter().filter(|n| *n == provider).count() > 1 {
            return Err(err(
                Some(t.provider.span()),
                format!("tier {} names provider {provider:?} twice", tier.as_str()),
            ));
        }
        kind.get_or_insert(settings.kind());
    }
    Ok((names, kind.unwrap_or(ProviderKind::Openai)))
}

/// Each tier's provider and model: those `[tiers]` names, a tier left out borrowing another's,
/// else the first provider's default model.
fn resolve_tiers(
    raw: RawTiers,
    providers: &BTreeMap<String, ProviderSettings>,
    err: &dyn Fn(Option<std::ops::Range<usize>>, String) -> ConfigError,
) -> Result<BTreeMap<&'static str, TierConfig>, ConfigError> {
    let declared = [
        (Tier::Veryfast, raw.veryfast),
        (Tier::Fast, raw.fast),
        (Tier::Overseer, raw.overseer),
    ];
    let mut tiers = BTreeMap::new();
    for (tier, raw_tier) in &declared {
        let Some(t) = raw_tier else { continue };
        let (names, kind) = tier_pool(*tier, t, providers, err)?;
        tiers.insert(
            tier.as_str(),
            TierConfig {
                provider: names[0].clone(),
                pool: names.clone(),
                model: t
                    .model
                    .clone()
                    .unwrap_or_else(|| tier.default_model(kind).to_owned()),
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
                        pool: vec![name.clone()],
                        model: tier.default_model(settings.kind()).to_owned(),
                        temperature: None,
                        max_tokens: None,
                    }
                }
            };
            tiers.insert(tier.as_str(), config);
        }
    }
    Ok(tiers)
}
