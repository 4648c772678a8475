//! The `[providers.NAME]` tables: their raw form, and each kind's settings read from it (a
//! server's address or addresses, an embedded model's file), with the line of each mistake.

use super::ConfigError;
use crate::provider::{ProviderKind, ProviderSettings, ServerKind};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

type ErrorAt<'a> = &'a dyn Fn(Option<std::ops::Range<usize>>, String) -> ConfigError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProvider {
    pub(super) kind: Spanned<ProviderKind>,
    pub(super) base_url: Option<Spanned<String>>,
    /// Several servers of the same kind, each one a member of the pool of the tiers naming
    /// this provider.
    pub(super) base_urls: Option<Spanned<Vec<String>>>,
    /// `embedded`: the GGUF file.
    pub(super) model: Option<Spanned<String>>,
    /// `embedded`: requests decoded together.
    pub(super) parallel: Option<Spanned<usize>>,
    /// `embedded`: context of one request, in tokens; `ollama`: its `num_ctx`.
    pub(super) ctx: Option<Spanned<u32>>,
    /// `ollama`: how long it keeps the model loaded after a request (`keep_alive`).
    pub(super) keep_alive: Option<Spanned<String>>,
    pub(super) api_key_env: Option<String>,
    pub(super) max_concurrent: Option<Spanned<usize>>,
    pub(super) connect_timeout: Option<f64>,
    pub(super) stall_timeout: Option<f64>,
    pub(super) request_timeout: Option<f64>,
    pub(super) max_retries: Option<u32>,
}

/// Every provider of the file, checked; `env` looks up `api_key_env` variables.
pub(super) fn read_providers(
    raw: BTreeMap<String, Spanned<RawProvider>>,
    path: &Path,
    env: &dyn Fn(&str) -> Result<String, std::env::VarError>,
    err: ErrorAt<'_>,
) -> Result<BTreeMap<String, ProviderSettings>, ConfigError> {
    let mut providers = BTreeMap::new();
    for (name, spanned) in raw {
        let span = spanned.span();
        let p = spanned.into_inner();
        let kind = *p.kind.get_ref();
        let mut settings = if kind == ProviderKind::Embedded {
            embedded_settings(&name, &p, path, err)?
        } else {
            remote_settings(&name, kind, &p, err)?
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
            settings.slots_configured = true;
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
    Ok(providers)
}

/// The settings of a provider that is a server somewhere (`openai`, `ollama`): `base_url`, or
/// `base_urls` for several of the same kind.
fn remote_settings(
    name: &str,
    kind: ProviderKind,
    p: &RawProvider,
    err: &dyn Fn(Option<std::ops::Range<usize>>, String) -> ConfigError,
) -> Result<ProviderSettings, ConfigError> {
    for (field, span) in [
        ("model", p.model.as_ref().map(Spanned::span)),
        ("parallel", p.parallel.as_ref().map(Spanned::span)),
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
    if kind != ProviderKind::Ollama {
        for (field, span) in [
            ("ctx", p.ctx.as_ref().map(Spanned::span)),
            ("keep_alive", p.keep_alive.as_ref().map(Spanned::span)),
        ] {
            if let Some(span) = span {
                return Err(err(
                    Some(span),
                    format!(
                        "{field} is for kind = \"ollama\" or \"embedded\"; provider {name:?} is {}: the server itself sets its context",
                        kind.as_str()
                    ),
                ));
            }
        }
    }
    let urls = base_urls(name, p, err)?;
    let mut settings = ProviderSettings::remote_at(kind == ProviderKind::Ollama, urls);
    if let ServerKind::Ollama {
        num_ctx,
        keep_alive: keep,
        ..
    } = &mut settings.server
    {
        if let Some(ctx) = &p.ctx {
            *num_ctx = context(ctx, err)?;
        }
        if let Some(given) = &p.keep_alive {
            *keep = keep_alive(given, err)?;
        }
    }
    Ok(settings)
}

/// `base_url`, or every address of `base_urls`, each an http(s) URL and none twice.
fn base_urls(
    name: &str,
    p: &RawProvider,
    err: &dyn Fn(Option<std::ops::Range<usize>>, String) -> ConfigError,
) -> Result<Vec<String>, ConfigError> {
    let check = |url: &str, span: std::ops::Range<usize>| {
        let url = url.trim().trim_end_matches('/').to_owned();
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || reqwest::Url::parse(&url).is_err()
        {
            return Err(err(
                Some(span),
                format!("base_url {url:?} of provider {name:?} is not an http:// or https:// URL"),
            ));
        }
        Ok(url)
    };
    let urls = match (&p.base_url, &p.base_urls) {
        (Some(_), Some(list)) => {
            return Err(err(
                Some(list.span()),
                format!(
                    "provider {name:?} has both base_url and base_urls: keep one (base_urls for several servers)"
                ),
            ));
        }
        (Some(url), None) => vec![check(url.get_ref(), url.span())?],
        (None, Some(list)) if list.get_ref().is_empty() => {
            return Err(err(
                Some(list.span()),
                format!("base_urls of provider {name:?} is empty: list one server or more"),
            ));
        }
        (None, Some(list)) => {
            let mut urls: Vec<String> = Vec::new();
            for url in list.get_ref() {
                let url = check(url, list.span())?;
                if urls.contains(&url) {
                    return Err(err(
                        Some(list.span()),
                        format!("base_urls of provider {name:?} lists {url} twice"),
                    ));
                }
                urls.push(url);
            }
            urls
        }
        (None, None) => {
            return Err(err(
                Some(p.kind.span()),
                format!(
                    "provider {name:?} needs base_url (the server's address), or base_urls for several"
                ),
            ));
        }
    };
    Ok(urls)
}

/// Ollama's `keep_alive`: seconds (`-1` for ever) or a number with `s`, `m` or `h`.
fn keep_alive(
    keep: &Spanned<String>,
    err: &dyn Fn(Option<std::ops::Range<usize>>, String) -> ConfigError,
) -> Result<String, ConfigError> {
    let text = keep.get_ref().trim();
    let valid = !text.is_empty()
        && (text.parse::<i64>().is_ok()
            || text
                .strip_suffix(['s', 'm', 'h'])
                .is_some_and(|n| n.parse::<f64>().is_ok_and(f64::is_finite)));
    if !valid {
        return Err(err(
            Some(keep.span()),
            format!(
                "keep_alive {text:?} is not a duration Ollama reads: seconds (300, -1 for ever) or \"30s\", \"10m\", \"1h\""
            ),
        ));
    }
    Ok(text.to_owned())
}

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
    let mut settings = ProviderSettings::embedded_file(file);
    if let Some(n) = &p.parallel {
        if *n.get_ref() == 0 || *n.get_ref() > 64 {
            return Err(err(Some(n.span()), "parallel must be 1 to 64".into()));
        }
        settings.set_parallel(*n.get_ref());
    }
    if let Some(ctx) = &p.ctx {
        let ctx = context(ctx, err)?;
        if let Some(e) = settings.embedded_mut() {
            e.ctx = ctx;
        }
    }
    Ok(settings)
}

/// A context length of 256 to 1048576 tokens.
fn context(
    ctx: &Spanned<u32>,
    err: &dyn Fn(Option<std::ops::Range<usize>>, String) -> ConfigError,
) -> Result<u32, ConfigError> {
    if !(256..=1_048_576).contains(ctx.get_ref()) {
        return Err(err(
            Some(ctx.span()),
            "ctx must be 256 to 1048576 tokens".into(),
        ));
    }
    Ok(*ctx.get_ref())
}
