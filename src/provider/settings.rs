//! How to reach one server, and how patient to be with it: a provider's settings, with what
//! only its kind has (an OpenAI-compatible server's or Ollama's addresses, Ollama's context,
//! an embedded engine's file) in one enum.

use super::{ProviderKind, embedded};
use std::time::Duration;

/// What kind of server a provider is, with what only that kind has.
#[derive(Debug, Clone)]
pub enum ServerKind {
    /// An OpenAI-compatible server (llama.cpp, vLLM, LM Studio, a hosted API) at these base
    /// URLs: `base_url`, or each of `base_urls`, one member each of the pool of the tiers that
    /// name this provider.
    Openai { urls: Vec<String> },
    /// Ollama at these base URLs, with the context (`num_ctx`) and `keep_alive` every request
    /// carries.
    Ollama {
        urls: Vec<String>,
        num_ctx: u32,
        keep_alive: String,
    },
    /// A GGUF file flotilla serves itself; its address is known once its engine runs.
    Embedded(embedded::EmbeddedSettings),
}

/// How to reach one server, and how patient to be with it.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub server: ServerKind,
    pub api_key: Option<String>,
    pub max_concurrent: usize,
    pub connect_timeout: Duration,
    /// Longest wait for the answer to start, or between two pieces of a stream.
    pub stall_timeout: Duration,
    /// Longest a whole request may take, from sending it to the end of its stream.
    pub request_timeout: Duration,
    pub max_retries: u32,
    /// First backoff; doubled on each retry.
    pub retry_backoff: Duration,
    /// Answer a greedy request (temperature 0) asked before with the reply it got then
    /// ([`memo`](super::memo)); `flotilla eval` turns it on.
    pub remember_greedy: bool,
    /// `max_concurrent` was set in the file; otherwise each server's own number of slots is
    /// used when it says one (llama.cpp's and flotilla serve's `/props` `total_slots`).
    pub slots_configured: bool,
}

impl ProviderSettings {
    /// A server at `base_url` (`openai`, or `ollama` with the built-in context and keep-alive)
    /// with `[provider]` of the built-in defaults.
    pub fn remote(ollama: bool, base_url: impl Into<String>) -> Self {
        Self::remote_at(ollama, vec![base_url.into()])
    }

    /// As [`Self::remote`], one server at each of `urls`.
    pub fn remote_at(ollama: bool, urls: Vec<String>) -> Self {
        let d = &crate::defaults::get().provider;
        let server = if ollama {
            ServerKind::Ollama {
                urls,
                num_ctx: d.ollama.ctx,
                keep_alive: d.ollama.keep_alive.clone(),
            }
        } else {
            ServerKind::Openai { urls }
        };
        Self::of(server)
    }

    fn of(server: ServerKind) -> Self {
        let d = &crate::defaults::get().provider;
        Self {
            server,
            api_key: None,
            max_concurrent: d.max_concurrent,
            connect_timeout: Duration::from_secs_f64(d.connect_timeout),
            stall_timeout: Duration::from_secs_f64(d.stall_timeout),
            request_timeout: Duration::from_secs_f64(d.request_timeout),
            max_retries: d.max_retries,
            retry_backoff: Duration::from_millis(250),
            remember_greedy: false,
            slots_configured: false,
        }
    }

    pub fn kind(&self) -> ProviderKind {
        match self.server {
            ServerKind::Openai { .. } => ProviderKind::Openai,
            ServerKind::Ollama { .. } => ProviderKind::Ollama,
            ServerKind::Embedded(_) => ProviderKind::Embedded,
        }
    }

    /// Every server's base URL (none for an embedded provider, whose engine says its own).
    pub fn urls(&self) -> impl Iterator<Item = &str> {
        let urls: &[String] = match &self.server {
            ServerKind::Openai { urls } | ServerKind::Ollama { urls, .. } => urls,
            ServerKind::Embedded(_) => &[],
        };
        urls.iter().map(String::as_str)
    }

    /// The first server's base URL; empty for an embedded provider.
    pub fn base_url(&self) -> &str {
        self.urls().next().unwrap_or_default()
    }

    /// Each server of the provider as a provider of its own, with its base URL: one per URL,
    /// or the one embedded engine (whose address is its own business).
    pub fn members(&self) -> Vec<(Option<String>, Self)> {
        match &self.server {
            ServerKind::Embedded(_) => vec![(None, self.clone())],
            ServerKind::Openai { urls } | ServerKind::Ollama { urls, .. } => urls
                .iter()
                .map(|url| {
                    let mut one = self.clone();
                    if let ServerKind::Openai { urls } | ServerKind::Ollama { urls, .. } =
                        &mut one.server
                    {
                        *urls = vec![url.clone()];
                    }
                    (Some(url.clone()), one)
                })
                .collect(),
        }
    }

    /// What an `embedded` provider serves.
    pub fn embedded(&self) -> Option<&embedded::EmbeddedSettings> {
        match &self.server {
            ServerKind::Embedded(e) => Some(e),
            _ => None,
        }
    }

    pub fn embedded_mut(&mut self) -> Option<&mut embedded::EmbeddedSettings> {
        match &mut self.server {
            ServerKind::Embedded(e) => Some(e),
            _ => None,
        }
    }

    /// An `embedded` provider for a GGUF file, with `[provider.embedded]` of the built-in
    /// defaults.
    pub fn embedded_file(model: std::path::PathBuf) -> Self {
        let d = &crate::defaults::get().provider.embedded;
        let mut settings = Self::of(ServerKind::Embedded(embedded::EmbeddedSettings {
            model,
            parallel: 1,
            ctx: d.ctx,
            shared: None,
        }));
        settings.stall_timeout = Duration::from_secs_f64(d.stall_timeout);
        settings.set_parallel(d.parallel);
        settings
    }

    /// An embedded provider's requests decoded together, which is also how many it is sent at
    /// once.
    pub fn set_parallel(&mut self, parallel: usize) {
        self.max_concurrent = parallel.max(1);
        if let Some(e) = self.embedded_mut() {
            e.parallel = parallel.max(1);
        }
    }
}
