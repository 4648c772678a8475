//! Model servers: OpenAI-compatible (`/v1/chat/completions`, SSE) and Ollama (`/api/chat`,
//! NDJSON), streamed over reqwest with timeouts, bounded retries and a concurrency limit.

pub mod embedded;
pub mod lines;
pub mod memo;
pub mod ollama;
pub mod openai;
pub mod pool;
mod settings;
pub use settings::{ProviderSettings, ServerKind};
mod request;
pub mod shared;
pub mod slots;
pub mod sse;
mod stream;
pub mod wire;

pub use request::{ChatReply, ChatRequest, Chunk, Message, Queue, reply_limit};
pub use wire::WireFormat;

use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::timeout;

/// Which wire format a server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Any OpenAI-compatible `/v1/chat/completions` with SSE streaming.
    Openai,
    /// Ollama's native `/api/chat` with NDJSON streaming.
    Ollama,
    /// A GGUF file that flotilla serves itself (`flotilla serve` as a child process), spoken
    /// to as an OpenAI-compatible server.
    Embedded,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Openai => "openai",
            Self::Ollama => "ollama",
            Self::Embedded => "embedded",
        }
    }

    /// The wire format a kind speaks (the embedded engine speaks OpenAI's).
    pub fn wire(self) -> &'static dyn WireFormat {
        match self {
            Self::Openai | Self::Embedded => &wire::OpenAi,
            Self::Ollama => &wire::Ollama,
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("{0}")]
    Timeout(String),
    #[error("HTTP {status} from {url}: {message}")]
    Http {
        status: u16,
        url: String,
        message: String,
    },
    #[error("the model server reported an error: {0}")]
    Server(String),
    #[error("the model server sent something unexpected: {0}")]
    Protocol(String),
    #[error("request to {url} failed: {reason}")]
    Request { url: String, reason: String },
    /// The whole request took longer than `request_timeout` (its length, not the server's
    /// trouble).
    #[error("{0}")]
    Deadline(String),
    /// The server cut the prompt to fit its context (Ollama does, without an error).
    #[error("{0}")]
    Truncated(String),
    /// No server of a pool could answer; each one's trouble.
    #[error("{0}")]
    NoServer(String),
}

impl ProviderError {
    /// Whether the server refused the request because the prompt does not fit its context:
    /// llama.cpp's "exceeds the available context size", vLLM's "maximum context length",
    /// OpenAI's `context_length_exceeded`, flotilla serve's "more than the context".
    pub fn is_context_overflow(&self) -> bool {
        match self {
            Self::Http {
                status, message, ..
            } => {
                matches!(status, 400 | 413 | 422)
                    && message.to_ascii_lowercase().contains("context")
            }
            _ => false,
        }
    }
}

/// Longest wait a `Retry-After` may ask for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// A client for one configured server.
#[derive(Debug, Clone)]
pub struct Provider {
    pub name: String,
    pub settings: ProviderSettings,
    http: reqwest::Client,
    slots: Arc<slots::Slots>,
    /// The child server of an `embedded` provider.
    embedded: Option<Arc<embedded::Embedded>>,
    /// Greedy replies kept, when `remember_greedy` is on.
    memo: Option<Arc<memo::GreedyMemo>>,
}

impl Provider {
    pub fn new(name: impl Into<String>, settings: ProviderSettings) -> Result<Self, ProviderError> {
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .user_agent(concat!("flotilla/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderError::Request {
                url: settings.base_url().to_owned(),
                reason: e.to_string(),
            })?;
        let slots = slots::Slots::new(settings.max_concurrent);
        let embedded = settings
            .embedded()
            .cloned()
            .map(|e| Arc::new(embedded::Embedded::new(e)));
        let memo = settings
            .remember_greedy
            .then(|| Arc::new(memo::GreedyMemo::default()));
        Ok(Self {
            name: name.into(),
            settings,
            http,
            slots,
            embedded,
            memo,
        })
    }

    /// `openai at http://127.0.0.1:8080/v1`; `embedded SmolLM2.gguf at http://127.0.0.1:40123/v1`.
    pub fn describe(&self) -> String {
        match &self.embedded {
            Some(e) => {
                let file = e
                    .settings
                    .model
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default();
                match e.current_url() {
                    Some(url) => format!("embedded {file} at {url}"),
                    None => format!("embedded {file}"),
                }
            }
            None => format!(
                "{} at {}",
                self.settings.kind().as_str(),
                self.settings.base_url()
            ),
        }
    }

    /// Slots held, and slots there are.
    pub fn slots_load(&self) -> (usize, usize) {
        self.slots.load()
    }

    /// Sets the number of requests sent at once (a server said how many slots it has).
    pub fn set_slots(&self, n: usize) {
        self.slots.resize(n);
    }

    /// The number of slots the server says it has: `total_slots` in `/props` (llama.cpp's
    /// server and flotilla serve), read beside the base URL's `/v1`.
    pub async fn server_slots(&self, wait: Duration) -> Option<usize> {
        let base = self.base_url().await.ok()?;
        let root = base.trim_end_matches('/');
        let root = root.strip_suffix("/v1").unwrap_or(root);
        let mut request = self.http.get(format!("{root}/props"));
        if let Some(key) = &self.settings.api_key {
            request = request.bearer_auth(key);
        }
        let resp = timeout(wait, request.send()).await.ok()?.ok()?;
        if !resp.status().is_success() {
            return None;
        }
        let body: serde_json::Value = timeout(wait, resp.json()).await.ok()?.ok()?;
        body.get("total_slots")
            .and_then(serde_json::Value::as_u64)
            .filter(|n| (1..=1024).contains(n))
            .map(|n| n as usize)
    }

    /// The embedded provider's running server process.
    pub fn embedded_pid(&self) -> Option<u32> {
        self.embedded.as_ref().and_then(|e| e.pid())
    }

    /// Where the server is: its base URL, or an embedded provider's model file.
    pub fn location(&self) -> String {
        match &self.embedded {
            Some(e) => e.settings.model.display().to_string(),
            None => self.settings.base_url().to_owned(),
        }
    }

    /// What to do when the server does not answer.
    pub fn remedy(&self) -> &'static str {
        match self.settings.kind() {
            ProviderKind::Ollama => {
                "start Ollama (`ollama serve`) or point base_url at a running one"
            }
            ProviderKind::Openai => {
                "start the server (llama.cpp, vLLM, LM Studio…) or fix base_url"
            }
            ProviderKind::Embedded => {
                "check the model file (flotilla serve's own messages are in flotilla's log)"
            }
        }
    }

    /// The server's base URL; an embedded provider's child is started (again) when needed.
    async fn base_url(&self) -> Result<String, ProviderError> {
        match &self.embedded {
            Some(e) => e.base_url().await,
            None => Ok(self.settings.base_url().to_owned()),
        }
    }

    async fn url(&self, path: &str) -> Result<String, ProviderError> {
        let base = self.base_url().await?;
        Ok(format!("{}/{}", base.trim_end_matches('/'), path))
    }

    async fn chat_url(&self) -> Result<String, ProviderError> {
        self.url(self.settings.kind().wire().chat_path()).await
    }

    /// Streams a chat completion, handing each piece of text to `on_text` as it arrives.
    pub async fn chat(
        &self,
        req: &ChatRequest,
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<ChatReply, ProviderError> {
        self.chat_watched(req, on_text, &mut |_| {}).await
    }

    /// As [`Self::chat`], telling `on_queue` while the request waits for one of the
    /// provider's slots (`Waiting(requests ahead)`) and when it gets one (`Served`).
    pub async fn chat_watched(
        &self,
        req: &ChatRequest,
        on_text: &mut (dyn FnMut(&str) + Send),
        on_queue: &mut (dyn FnMut(Queue) + Send),
    ) -> Result<ChatReply, ProviderError> {
        let mut body = self.settings.kind().wire().request_body(req);
        if let ServerKind::Ollama {
            num_ctx,
            keep_alive,
            ..
        } = &self.settings.server
        {
            ollama::set_context(&mut body, *num_ctx, keep_alive);
            ollama::check_fits(req, *num_ctx)?;
        }
        // A greedy request, when the memo is on: the memo and the request's key in it.
        let greedy = self
            .memo
            .as_ref()
            .and_then(|m| memo::GreedyMemo::key(&body).map(|key| (m, key)));
        if let Some((memo, key)) = &greedy
            && let Some(mut reply) = memo.get(key)
        {
            on_queue(Queue::Served);
            on_text(&reply.text);
            reply.remembered = true;
            return Ok(reply);
        }
        let mut reply = self.ask(req, &body, on_text, on_queue).await;
        if let ServerKind::Ollama { num_ctx, .. } = &self.settings.server
            && let Ok(r) = &reply
            && let Err(e) = ollama::check_not_cut(r, *num_ctx)
        {
            reply = Err(e);
        }
        if let (Some((memo, key)), Ok(reply)) = (greedy, &reply) {
            memo.put(key, reply);
        }
        reply
    }

    /// How many requests were answered with a greedy reply kept from before.
    pub fn remembered_replies(&self) -> usize {
        self.memo.as_ref().map_or(0, |m| m.hits())
    }

    /// One request to the server, through one of the provider's slots.
    async fn ask(
        &self,
        req: &ChatRequest,
        body: &serde_json::Value,
        on_text: &mut (dyn FnMut(&str) + Send),
        on_queue: &mut (dyn FnMut(Queue) + Send),
    ) -> Result<ChatReply, ProviderError> {
        let _slot = self
            .slots
            .acquire_watched(req.urgent, &mut |ahead| on_queue(Queue::Waiting(ahead)))
            .await;
        on_queue(Queue::Served);
        let deadline = self.settings.request_timeout;
        let limit = reply_limit(req.max_tokens);
        let mut restarts = 0;
        loop {
            let url = self.chat_url().await?;
            let whole = async {
                let response = self.send_with_retries(&url, body).await?;
                self.read_stream(&url, response, limit, on_text).await
            };
            let result = timeout(deadline, whole).await.map_err(|_| {
                ProviderError::Deadline(format!(
                    "{url} did not finish its answer within {}s (request_timeout)",
                    deadline.as_secs_f64()
                ))
            })?;
            // A child server that died mid-answer is started again and asked again, as after
            // a 5xx.
            match (&result, &self.embedded) {
                (
                    Err(e @ (ProviderError::Request { .. } | ProviderError::Connect { .. })),
                    Some(child),
                ) if restarts < self.settings.max_retries && child.died(&url).await => {
                    tracing::warn!(%url, "the embedded server died during a request ({e}); asking again");
                    restarts += 1;
                }
                _ => return result,
            }
        }
    }

    /// Whether `listed`, a name from the server's model list, is the model `configured` names:
    /// the same name, or Ollama's `name:latest`; an embedded server's one model answers to any.
    pub fn serves(&self, listed: &str, configured: &str) -> bool {
        self.settings.kind() == ProviderKind::Embedded
            || listed == configured
            || listed.strip_suffix(":latest") == Some(configured)
    }

    /// The models the server offers; a quick check that it is up.
    pub async fn models(&self, wait: Duration) -> Result<Vec<String>, ProviderError> {
        let wire = self.settings.kind().wire();
        let url = self.url(wire.models_path()).await?;
        let mut request = self.http.get(&url);
        if let Some(key) = &self.settings.api_key {
            request = request.bearer_auth(key);
        }
        let resp = timeout(wait, request.send())
            .await
            .map_err(|_| {
                ProviderError::Timeout(format!(
                    "{url} did not answer within {}s",
                    wait.as_secs_f64()
                ))
            })?
            .map_err(|e| {
                if e.is_connect() {
                    ProviderError::Connect {
                        url: url.clone(),
                        reason: root_cause(&e),
                    }
                } else {
                    ProviderError::Request {
                        url: url.clone(),
                        reason: root_cause(&e),
                    }
                }
            })?;
        let status = resp.status().as_u16();
        if !resp.status().is_success() {
            let message = error_body(resp).await;
            return Err(ProviderError::Http {
                status,
                url,
                message,
            });
        }
        let body: serde_json::Value = timeout(wait, resp.json())
            .await
            .map_err(|_| {
                ProviderError::Timeout(format!(
                    "{url} did not finish within {}s",
                    wait.as_secs_f64()
                ))
            })?
            .map_err(|e| ProviderError::Protocol(format!("{url} did not answer JSON: {e}")))?;
        Ok(wire.parse_models(&body))
    }
}

/// Adds a chunk to the reply; true when the stream says it is finished.
fn apply(chunk: Chunk, reply: &mut ChatReply, on_text: &mut (dyn FnMut(&str) + Send)) -> bool {
    let (text, tokens, last) = match chunk {
        Chunk::Done => {
            reply.finished = true;
            return true;
        }
        Chunk::Delta { text, tokens } => (text, tokens, false),
        Chunk::Finish { text, tokens } => {
            reply.finished = true;
            (text, tokens, false)
        }
        Chunk::Last { text, tokens } => {
            reply.finished = true;
            (text, tokens, true)
        }
    };
    if !text.is_empty() {
        on_text(&text);
        reply.text.push_str(&text);
        reply.pieces += 1;
    }
    if let Some((tokens_in, tokens_out)) = tokens {
        reply.tokens_in = tokens_in;
        reply.tokens_out = tokens_out;
    }
    last
}

/// `Retry-After` in seconds (the HTTP-date form is rare from model servers and is ignored).
fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// The useful part of an error response: its `error.message` if it is JSON, else its start.
async fn error_body(resp: reqwest::Response) -> String {
    let text = timeout(Duration::from_secs(5), resp.text())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) => v
            .get("error")
            .or_else(|| v.get("detail"))
            .map(openai::error_message)
            .unwrap_or_else(|| openai::preview(&text)),
        Err(_) if text.trim().is_empty() => "no details".to_owned(),
        Err(_) => openai::preview(text.trim()),
    }
}

/// The innermost error's text: reqwest's own message hides the cause ("connection refused").
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut source = err;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}

#[cfg(test)]
mod tests {
    use super::ProviderError;

    fn http(status: u16, message: &str) -> ProviderError {
        ProviderError::Http {
            status,
            url: "http://127.0.0.1:8080/v1/chat/completions".into(),
            message: message.into(),
        }
    }

    #[test]
    fn a_prompt_too_long_for_the_context_is_told_from_other_refusals() {
        for message in [
            "the request exceeds the available context size, try increasing it",
            "This model's maximum context length is 2048 tokens. However, you requested 2300 tokens",
            "the prompt is 2146 tokens, more than the context of 2048 tokens (flotilla serve --ctx)",
        ] {
            assert!(http(400, message).is_context_overflow(), "{message}");
        }
        assert!(!http(400, "model 'smollm' not found").is_context_overflow());
        assert!(!http(500, "context of the crash: out of memory").is_context_overflow());
        assert!(!ProviderError::Timeout("no answer in 60 s".into()).is_context_overflow());
    }
}
