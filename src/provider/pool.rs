//! A tier's pool of servers: every server of the providers the tier names, each with its own
//! slots. A request waits for a slot of the pool (urgent ones first), then goes to the server
//! with the fewest requests in flight for its slots that serves the tier's model. A server
//! that refuses, errors or stalls is taken out: its requests are sent again elsewhere (a
//! stream starts over) and it is probed until it answers again. A request fails for a
//! server's trouble only when no server of the pool could answer it.

use super::slots::Slots;
use super::{ChatReply, ChatRequest, Provider, ProviderError, ProviderKind, Queue};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How a server is, for the header and `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Not checked yet.
    Unknown,
    /// Answered, listing these models.
    Reachable(Vec<String>),
    /// Too busy to answer a quick check (in service, not taken out).
    Busy,
    /// Taken out, with the reason; probed until it answers again.
    Unreachable(String),
}

/// What a server tells whoever watches it (the engine turns it into events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum News {
    Health(Health),
    /// Requests in flight (sent or waiting for one of its slots), and its slots.
    Load {
        in_flight: usize,
        slots: usize,
    },
}

type Watcher = Box<dyn Fn(&str, News) + Send + Sync>;

/// One model server: a provider with one address, its state and its load.
pub struct Server {
    pub provider: Provider,
    /// Its name in the header and the log: the provider's name, or `host:port` when the
    /// provider lists several servers.
    pub label: String,
    in_flight: AtomicUsize,
    state: Mutex<State>,
    watcher: OnceLock<Watcher>,
    /// How soon a server taken out is asked again, and the longest wait between two probes.
    probe: (Duration, Duration),
}

struct State {
    health: Health,
    /// Models the server said it does not have (a 404 for them), with what it said.
    lacks: Vec<(String, String)>,
    /// Cancelled when the server is taken out: its requests move elsewhere.
    out: CancellationToken,
    probing: bool,
    slots_read: bool,
    /// The model of the request that failed, when it was the chat that failed (a stall, an
    /// error, garbage): the probe asks for a token of it, since the model list may still
    /// answer.
    probe_model: Option<String>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("label", &self.label)
            .field("in_flight", &self.in_flight.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Counts a request in flight on a server while it lives.
struct InFlight<'a>(&'a Server);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.0.tell_load();
    }
}

impl Server {
    pub fn new(provider: Provider, label: impl Into<String>) -> Arc<Self> {
        let d = &crate::defaults::get().provider.pool;
        Arc::new(Self {
            provider,
            label: label.into(),
            in_flight: AtomicUsize::new(0),
            state: Mutex::new(State {
                health: Health::Unknown,
                lacks: Vec::new(),
                out: CancellationToken::new(),
                probing: false,
                slots_read: false,
                probe_model: None,
            }),
            watcher: OnceLock::new(),
            probe: (
                Duration::from_secs_f64(d.probe_interval),
                Duration::from_secs_f64(d.probe_max),
            ),
        })
    }

    /// As [`Self::new`], with its own probe intervals (tests).
    pub fn with_probe(
        provider: Provider,
        label: &str,
        first: Duration,
        max: Duration,
    ) -> Arc<Self> {
        let mut server = Self::new(provider, label);
        if let Some(s) = Arc::get_mut(&mut server) {
            s.probe = (first, max);
        }
        server
    }

    /// Who hears of the server's health and load (set once).
    pub fn watch(&self, watcher: impl Fn(&str, News) + Send + Sync + 'static) {
        let _ = self.watcher.set(Box::new(watcher));
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn tell(&self, news: News) {
        if let Some(w) = self.watcher.get() {
            w(&self.label, news);
        }
    }

    fn tell_load(&self) {
        self.tell(News::Load {
            in_flight: self.in_flight(),
            slots: self.slots(),
        });
    }

    pub fn health(&self) -> Health {
        self.lock().health.clone()
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Its slots: configured, read from the server, or the provider's default.
    pub fn slots(&self) -> usize {
        self.provider.slots_load().1
    }

    fn is_out(&self) -> bool {
        matches!(self.lock().health, Health::Unreachable(_))
    }

    /// Whether it may serve `model`: not known to lack it, and listing it when it listed any.
    fn may_serve(&self, model: &str) -> bool {
        let state = self.lock();
        if state.lacks.iter().any(|(m, _)| m == model) {
            return false;
        }
        match &state.health {
            Health::Reachable(models) if !models.is_empty() => {
                models.iter().any(|m| self.provider.serves(m, model))
            }
            _ => true,
        }
    }

    fn enter(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.tell_load();
        InFlight(self)
    }

    /// A request was answered: a server not checked yet is known to be up.
    fn answered(&self) {
        let mut state = self.lock();
        if state.health == Health::Unknown {
            state.health = Health::Reachable(Vec::new());
            drop(state);
            self.tell(News::Health(Health::Reachable(Vec::new())));
        }
    }

    fn out_token(&self) -> CancellationToken {
        self.lock().out.clone()
    }

    /// Records what a check of the server found: its models (it is in), too busy to say (no
    /// change), or an error (taken out).
    pub fn observe(self: &Arc<Self>, result: &Result<Vec<String>, ProviderError>) {
        match result {
            Ok(models) => self.back_in(models.clone()),
            Err(ProviderError::Timeout(_)) => {
                let mut state = self.lock();
                if !matches!(state.health, Health::Unreachable(_)) {
                    state.health = Health::Busy;
                    drop(state);
                    self.tell(News::Health(Health::Busy));
                }
            }
            Err(e) => self.take_out(&e.to_string(), None),
        }
    }

    fn back_in(self: &Arc<Self>, models: Vec<String>) {
        let (was_out, read_slots) = {
            let mut state = self.lock();
            let was_out = matches!(state.health, Health::Unreachable(_));
            state.health = Health::Reachable(models.clone());
            let read = !state.slots_read
                && !self.provider.settings.slots_configured
                && self.provider.settings.kind() != ProviderKind::Embedded;
            state.slots_read = true;
            (was_out, read)
        };
        if was_out {
            tracing::info!(server = %self.label, "{} answers again: back in its pool", self.label);
        }
        self.tell(News::Health(Health::Reachable(models)));
        if read_slots {
            let server = Arc::clone(self);
            tokio::spawn(async move {
                if let Some(n) = server.provider.server_slots(Duration::from_secs(3)).await {
                    tracing::info!(server = %server.label, "{} has {n} slots", server.label);
                    server.provider.set_slots(n);
                    server.tell_load();
                }
            });
        }
    }

    /// Takes the server out of its pools: its requests move to other servers, and it is probed
    /// until it answers again.
    pub fn take_out(self: &Arc<Self>, why: &str, model: Option<&str>) {
        let start_probe = {
            let mut state = self.lock();
            if let Some(model) = model {
                state.probe_model = Some(model.to_owned());
            }
            let newly = !matches!(state.health, Health::Unreachable(_));
            state.health = Health::Unreachable(why.to_owned());
            if newly {
                state.out.cancel();
                state.out = CancellationToken::new();
            }
            let start = !state.probing;
            state.probing = true;
            if newly {
                tracing::warn!(server = %self.label, "{} taken out of its pool: {why}", self.label);
            }
            start
        };
        self.tell(News::Health(Health::Unreachable(why.to_owned())));
        if start_probe && tokio::runtime::Handle::try_current().is_ok() {
            let server = Arc::clone(self);
            tokio::spawn(async move { server.probe_until_back().await });
        }
    }

    async fn probe_until_back(self: Arc<Self>) {
        let (mut wait, max) = self.probe;
        loop {
            tokio::time::sleep(wait).await;
            if !self.is_out() {
                break;
            }
            let chat = self.lock().probe_model.clone();
            let answered = match self.provider.models(Duration::from_secs(3)).await {
                Ok(models) => match chat {
                    Some(model) => self.probe_chat(&model).await.map(|()| models),
                    None => Ok(models),
                },
                Err(e) => Err(e),
            };
            match answered {
                Ok(models) => {
                    {
                        let mut state = self.lock();
                        state.probing = false;
                        state.probe_model = None;
                    }
                    self.back_in(models);
                    return;
                }
                Err(e) => {
                    tracing::debug!(server = %self.label, "probe: {e}");
                    let mut state = self.lock();
                    if let Health::Unreachable(why) = &mut state.health {
                        *why = e.to_string();
                    }
                    wait = (wait * 2).min(max);
                }
            }
        }
        self.lock().probing = false;
    }
}

impl Server {
    /// A one-token chat for `model`, the way a server whose chat failed shows it works again.
    async fn probe_chat(&self, model: &str) -> Result<(), ProviderError> {
        let request = ChatRequest {
            model: model.to_owned(),
            messages: vec![super::Message::user("Say OK.")],
            max_tokens: Some(1),
            temperature: Some(0.0),
            seed: None,
            stop: Vec::new(),
            urgent: true,
        };
        self.provider.chat(&request, &mut |_| {}).await.map(|_| ())
    }
}

/// What an error says about the server that gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Blame {
    /// The request itself (a bad parameter, a prompt too long): no other server would do
    /// better.
    Request,
    /// The server does not have the model.
    Model,
    /// The server: down, refusing, erroring, stalled, answering garbage.
    Server,
}

fn blame(e: &ProviderError) -> Blame {
    match e {
        ProviderError::Http { status: 404, .. } => Blame::Model,
        ProviderError::Http { status, .. } if e.is_context_overflow() || *status == 401 => {
            Blame::Request
        }
        ProviderError::Http {
            status: 408 | 429 | 500..,
            ..
        } => Blame::Server,
        ProviderError::Http { .. } => Blame::Request,
        ProviderError::Deadline(_) => Blame::Request,
        ProviderError::Truncated(_) | ProviderError::NoServer(_) => Blame::Request,
        ProviderError::Connect { .. }
        | ProviderError::Timeout(_)
        | ProviderError::Server(_)
        | ProviderError::Protocol(_)
        | ProviderError::Request { .. } => Blame::Server,
    }
}

/// The servers of a tier (or of several tiers naming the same providers).
#[derive(Debug)]
pub struct Pool {
    /// The providers it is made of, as the tier names them.
    pub name: String,
    servers: Vec<Arc<Server>>,
    slots: Arc<Slots>,
}

impl Pool {
    pub fn new(name: impl Into<String>, servers: Vec<Arc<Server>>) -> Arc<Self> {
        let total = servers.iter().map(|s| s.slots()).sum::<usize>();
        Arc::new(Self {
            name: name.into(),
            servers,
            slots: Slots::new(total),
        })
    }

    pub fn servers(&self) -> &[Arc<Server>] {
        &self.servers
    }

    /// The one server's description, or the pool's servers.
    pub fn describe(&self) -> String {
        match self.servers.as_slice() {
            [one] => one.provider.describe(),
            many => format!(
                "a pool of {} servers ({})",
                many.len(),
                many.iter()
                    .map(|s| s.label.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// The pool's slots: those of every server not taken out (at least one).
    fn recount(&self) {
        let total: usize = self
            .servers
            .iter()
            .filter(|s| !s.is_out())
            .map(|s| s.slots())
            .sum();
        // All of them out: each is still tried, with its own slots.
        let total = if total == 0 {
            self.servers.iter().map(|s| s.slots()).sum()
        } else {
            total
        };
        self.slots.resize(total.max(1));
    }

    /// The server for the next request for `model`: of those not tried for it yet that may
    /// serve it, one in the pool before one taken out, then the fewest requests in flight for
    /// its slots.
    fn choose(&self, model: &str, tried: &[String]) -> Option<&Arc<Server>> {
        self.servers
            .iter()
            .filter(|s| !tried.contains(&s.label) && s.may_serve(model))
            .min_by(|a, b| {
                let load = |s: &Server| s.in_flight() as f64 / s.slots().max(1) as f64;
                (a.is_out(), load(a), a.in_flight())
                    .partial_cmp(&(b.is_out(), load(b), b.in_flight()))
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
    }

    /// Whether a server other than `server`, in the pool and not tried yet, may serve `model`.
    fn has_other(&self, server: &Server, model: &str, tried: &[String]) -> bool {
        self.servers.iter().any(|s| {
            s.label != server.label
                && !tried.contains(&s.label)
                && !s.is_out()
                && s.may_serve(model)
        })
    }

    /// Streams a chat completion from a server of the pool, as [`Provider::chat_watched`];
    /// `on_queue` also hears when the request moves to another server (the text streamed so
    /// far is to be dropped: the answer starts over).
    pub async fn chat_watched(
        &self,
        req: &ChatRequest,
        on_text: &mut (dyn FnMut(&str) + Send),
        on_queue: &mut (dyn FnMut(Queue) + Send),
    ) -> Result<ChatReply, ProviderError> {
        let mut tried: Vec<String> = Vec::new();
        let mut troubles: Vec<String> = Vec::new();
        let mut moved_from: Option<(String, String)> = None;
        loop {
            self.recount();
            let _pool_slot = self
                .slots
                .acquire_watched(req.urgent, &mut |ahead| on_queue(Queue::Waiting(ahead)))
                .await;
            let Some(server) = self.choose(&req.model, &tried) else {
                break;
            };
            if let Some((from, why)) = moved_from.take() {
                tracing::warn!("a request moved from {from} to {} ({why})", server.label);
                on_queue(Queue::Moved {
                    from,
                    to: server.label.clone(),
                    why,
                });
            }
            let result = self.ask_on(server, req, &tried, on_text, on_queue).await;
            let error = match result {
                Some(Ok(mut reply)) => {
                    server.answered();
                    if self.servers.len() > 1 {
                        reply.server = Some(server.label.clone());
                    }
                    return Ok(reply);
                }
                Some(Err(e)) => e,
                None => {
                    let why = match server.health() {
                        Health::Unreachable(why) => format!("taken out: {why}"),
                        _ => "taken out".to_owned(),
                    };
                    tried.push(server.label.clone());
                    troubles.push(format!("{}: {why}", server.label));
                    moved_from = Some((server.label.clone(), why));
                    continue;
                }
            };
            let blamed = blame(&error);
            match blamed {
                Blame::Request => return Err(error),
                Blame::Model => {
                    let mut state = server.lock();
                    if !state.lacks.iter().any(|(m, _)| m == &req.model) {
                        state.lacks.push((req.model.clone(), error.to_string()));
                    }
                }
                Blame::Server => server.take_out(&error.to_string(), Some(&req.model)),
            }
            if self.servers.len() == 1 {
                return Err(error);
            }
            tried.push(server.label.clone());
            troubles.push(format!("{}: {error}", server.label));
            moved_from = Some((server.label.clone(), error.to_string()));
        }
        Err(self.no_server(&req.model, &troubles))
    }

    /// One request on `server`, counted in its load; `None` when the server was taken out
    /// meanwhile and another of the pool can take the request.
    async fn ask_on(
        &self,
        server: &Server,
        req: &ChatRequest,
        tried: &[String],
        on_text: &mut (dyn FnMut(&str) + Send),
        on_queue: &mut (dyn FnMut(Queue) + Send),
    ) -> Option<Result<ChatReply, ProviderError>> {
        let _counted = server.enter();
        let out = server.out_token();
        let chat = server.provider.chat_watched(req, on_text, on_queue);
        tokio::pin!(chat);
        let mut stay = false;
        loop {
            tokio::select! {
                result = &mut chat => return Some(result),
                _ = out.cancelled(), if !stay => {
                    if self.has_other(server, &req.model, tried) {
                        return None;
                    }
                    // Nowhere else to go: wait for this one's own answer.
                    stay = true;
                }
            }
        }
    }

    /// The error when no server could answer: each one's trouble, or which lack the model.
    fn no_server(&self, model: &str, troubles: &[String]) -> ProviderError {
        let why = if troubles.is_empty() {
            let said: Vec<String> = self
                .servers
                .iter()
                .filter_map(|s| {
                    let state = s.lock();
                    state
                        .lacks
                        .iter()
                        .find(|(m, _)| m == model)
                        .map(|(_, why)| format!("{}: {why}", s.label))
                })
                .collect();
            let said = if said.is_empty() {
                String::new()
            } else {
                format!(": {}", said.join("; "))
            };
            format!("none of them serves the model {model:?}{said}")
        } else {
            troubles.join("; ")
        };
        ProviderError::NoServer(format!("no server of {} could answer ({why})", self.name))
    }

    /// Greedy replies its servers gave again from memory (`flotilla eval`).
    pub fn remembered_replies(&self) -> usize {
        self.servers
            .iter()
            .map(|s| s.provider.remembered_replies())
            .sum()
    }

    /// As [`Self::chat_watched`], without hearing of the queue.
    pub async fn chat(
        &self,
        req: &ChatRequest,
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<ChatReply, ProviderError> {
        self.chat_watched(req, on_text, &mut |_| {}).await
    }
}
