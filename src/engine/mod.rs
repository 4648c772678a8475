//! Starts, names, schedules and cancels workflows. Each workflow is one tokio task that reports
//! through typed events; the engine never touches the dashboard's state.

use crate::config::{Config, Tier, TierConfig};
use crate::event::{ArtifactKind, Event, EventSender, Recorded};
use crate::home::Home;
use crate::pipeline::Host;
use crate::provider::pool::{Pool, Server};
use crate::sandbox::runner::Toolchain;
use crate::store::db::{Db, HomeLock};
use crate::workflow::NameSource;
use crate::workflow::folder;
use crate::workflow::{Workflow, WorkflowId};
use naming::NameRegistry;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

pub mod land;
pub mod naming;
mod pools;
mod prune;
mod run;
use pools::pools;
use prune::prune_worktrees;
use run::suggest_name;
mod slots;
mod watch;
pub use watch::HEALTH_INTERVAL;

/// A cheap handle to the engine.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

pub struct Inner {
    pub config: Config,
    pub home: Home,
    /// Every server of every provider, once each.
    pub servers: Vec<Arc<Server>>,
    /// The pools, by the providers they are made of (tiers naming the same share one).
    pools: BTreeMap<Vec<String>, Arc<Pool>>,
    pub events: EventSender,
    /// The programs and folders test runs use.
    pub tools: Toolchain,
    slots: Semaphore,
    names: Mutex<NameRegistry>,
    cancels: Mutex<HashMap<WorkflowId, CancellationToken>>,
    /// The history; every state change is written here before it is sent.
    pub db: Db,
    /// Workflows in the history when this engine started, oldest first.
    history: Mutex<Vec<Workflow>>,
    /// Says to other flotilla processes on this home that this one is running workflows.
    _lock: HomeLock,
    /// Set when flotilla quits: cancelled workflows say "cancelled at exit".
    exiting: AtomicBool,
    /// Signalled each time a workflow's ending is recorded.
    finished: tokio::sync::Notify,
    /// The number of run slots now (`/parallel N` changes it).
    parallel: AtomicUsize,
    /// Slots still to take back after `/parallel` lowered the number while they were in use:
    /// each one coming free is retired instead of going to a queued workflow.
    slot_debt: AtomicUsize,
}

impl Host for Inner {
    fn config(&self) -> &Config {
        &self.config
    }

    fn tools(&self) -> &Toolchain {
        &self.tools
    }

    fn tier(&self, tier: Tier) -> (&Pool, &TierConfig) {
        Inner::tier(self, tier)
    }

    fn emit(&self, event: Event) {
        Inner::emit(self, event)
    }

    fn send(&self, event: Event) {
        // The receiver is gone only when flotilla is shutting down.
        let _ = self.events.send(event);
    }
}

/// Returns the heap a finished workflow freed to the system. glibc keeps freed memory in its
/// per-thread arenas, so after a few big replies the process would stay at its peak for good.
fn give_memory_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages at the top and inside glibc's arenas.
    unsafe {
        libc::malloc_trim(0);
    }
}

impl Inner {
    /// The pool and model serving a tier (both exist: the config was checked).
    pub fn tier(&self, tier: Tier) -> (&Pool, &TierConfig) {
        let config = self.config.tier(tier);
        let pool = self
            .pools
            .get(&config.pool)
            .or_else(|| self.pools.values().next())
            .expect("a config always has a provider");
        (pool, config)
    }

    /// Writes a state change to the history, then tells the dashboard. A write that fails
    /// (after retries while the database is busy) is said, as an [`Event::Unrecorded`] sent
    /// before the change itself, so the dashboard and `run` show it.
    pub fn emit(&self, event: Event) {
        if let Err(e) = self.db.apply(&event)
            && let (Some(what), Some(id)) = (event.recorded_as(), event.workflow())
        {
            self.unrecorded(id, what, &e.to_string());
        }
        // The receiver is gone only when flotilla is shutting down.
        let _ = self.events.send(event);
    }

    /// Says that a write about a workflow did not reach the history.
    fn unrecorded(&self, id: &WorkflowId, what: Recorded, error: &str) {
        tracing::error!("cannot record {what} of {id}: {error}");
        let _ = self.events.send(Event::Unrecorded {
            id: id.clone(),
            what,
            error: crate::sanitize::strip(error),
        });
    }
}

impl Engine {
    /// Opens the home's history (marking workflows a dead process left live as interrupted,
    /// when no other flotilla is running on it) and readies the model servers.
    pub fn new(config: Config, home: Home, events: EventSender) -> anyhow::Result<Self> {
        let db = Db::open(&home.db_file)?;
        let lock_file = home.lock_file();
        let (lock, alone) = HomeLock::acquire(&lock_file)
            .map_err(|e| anyhow::anyhow!("cannot lock {}: {e}", lock_file.display()))?;
        // Workflows whose process died are over, whoever else is running.
        let n = db.recover_orphans(alone)?;
        if n > 0 {
            tracing::warn!("{n} workflows were live in a flotilla that died: marked interrupted");
        }
        let said = crate::project::land::recover(&home.journals_dir());
        for line in &said {
            tracing::warn!("{line}");
        }
        let history = db.load()?;
        let history = prune_worktrees(&db, &home, history);
        let mut names = NameRegistry::default();
        for name in history.iter().filter_map(|w| w.name.as_deref()) {
            names.insert(name);
        }
        let mut config = config;
        // Every flotilla on this home shares one embedded engine.
        for settings in config.providers.values_mut() {
            if let Some(e) = settings.embedded_mut() {
                e.shared = Some(home.engine_dir.clone());
            }
        }
        let (servers, pools) = pools(&config, &events)?;
        let mut tools = Toolchain::new(&home.cache_dir);
        tools.python.clone_from(&config.pipeline.python);
        tools.node.clone_from(&config.pipeline.node);
        tools.cargo.clone_from(&config.pipeline.cargo);
        let swept = tools.sweep_scratch();
        if swept > 0 {
            tracing::info!("removed {swept} scratch folders left by flotilla processes that died");
        }
        let max_parallel = config.max_parallel;
        let slots = Semaphore::new(max_parallel);
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                home,
                servers,
                pools,
                events,
                tools,
                slots,
                names: Mutex::new(names),
                cancels: Mutex::new(HashMap::new()),
                db,
                history: Mutex::new(history),
                _lock: lock,
                exiting: AtomicBool::new(false),
                finished: tokio::sync::Notify::new(),
                parallel: AtomicUsize::new(max_parallel),
                slot_debt: AtomicUsize::new(0),
            }),
        })
    }

    /// The pool and model serving a tier.
    pub fn tier(&self, tier: Tier) -> (&Pool, &TierConfig) {
        self.inner.tier(tier)
    }

    /// The programs and folders test runs use.
    pub fn tools(&self) -> &Toolchain {
        &self.inner.tools
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn home(&self) -> &Home {
        &self.inner.home
    }

    /// Every server of every provider.
    pub fn servers(&self) -> impl Iterator<Item = &Arc<Server>> {
        self.inner.servers.iter()
    }

    /// The pools of the tiers, each with the tiers it serves.
    pub fn pools(&self) -> Vec<(Vec<Tier>, &Arc<Pool>)> {
        self.inner
            .pools
            .iter()
            .map(|(names, pool)| {
                let tiers = Tier::ALL
                    .into_iter()
                    .filter(|t| &self.inner.config.tier(*t).pool == names)
                    .collect();
                (tiers, pool)
            })
            .collect()
    }

    /// The history as it was when the engine started (taken once, by the dashboard).
    pub fn take_history(&self) -> Vec<Workflow> {
        std::mem::take(&mut lock(&self.inner.history))
    }

    /// Creates a queued workflow, recorded in the history, and starts its task; returns at once.
    /// A workflow the history cannot record is not started: the error says why.
    pub fn start(&self, description: String) -> Result<Workflow, String> {
        self.start_retry(description, None)
    }

    /// Like [`Engine::start`], linking the new workflow to the one it repeats.
    pub fn start_retry(
        &self,
        description: String,
        retry_of: Option<&WorkflowId>,
    ) -> Result<Workflow, String> {
        let now = SystemTime::now();
        let workflow = self
            .inner
            .db
            .create(&description, now, retry_of)
            .map_err(|e| {
                tracing::error!("cannot record a new workflow: {e}");
                format!(
                    "cannot record the new workflow: {}",
                    crate::sanitize::strip(&e.to_string())
                )
            })?;
        let id = workflow.id.clone();
        let token = CancellationToken::new();
        lock(&self.inner.cancels).insert(id.clone(), token.clone());
        let inner = Arc::clone(&self.inner);
        let workflow_copy = workflow.clone();
        tokio::spawn(async move {
            run::supervise(&inner, &id, &description, &workflow_copy, &token).await;
        });
        Ok(workflow)
    }

    /// Reads a past workflow's log tail (at most `log_bytes`), plan, code, tests and last test
    /// output from its folder, and sends them as a log event and artifacts, off the caller's
    /// thread, so the dashboard's loop never waits on the disk.
    pub fn load_past(
        &self,
        id: &WorkflowId,
        log_bytes: u64,
        change: Option<crate::workflow::change::Change>,
    ) {
        let (events, id, dir) = (
            self.inner.events.clone(),
            id.clone(),
            self.inner.home.workflow_dir(id),
        );
        let load = move || {
            if let Ok(text) = crate::logbuf::read_tail(&dir.join(folder::LOG), log_bytes)
                && !text.is_empty()
            {
                let _ = events.send(Event::Log {
                    id: id.clone(),
                    text,
                });
            }
            let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
            let send = |kind, text: &str, language| {
                let _ = events.send(Event::artifact(id.clone(), kind, text, language));
            };
            if let Some(plan) = read(folder::PLAN) {
                let plan = plan
                    .split("\n## The overseer's reply")
                    .next()
                    .unwrap_or_default();
                send(ArtifactKind::Plan, plan, None);
            }
            let language = crate::language::Language::ALL
                .into_iter()
                .find(|l| dir.join(l.code_file()).exists());
            if let Some(language) = language {
                if let Some(code) = read(language.code_file()) {
                    send(ArtifactKind::Code, &code, Some(language));
                }
                if let Some(tests) = read(language.test_file()) {
                    send(ArtifactKind::Tests, &tests, Some(language));
                }
            }
            if let Some(output) = read(folder::OUTPUT) {
                send(ArtifactKind::TestOutput, &output, None);
            }
            if let Some(diff) = change
                .as_ref()
                .and_then(|c| crate::project::land::diff_text(c).ok())
                .filter(|d| !d.is_empty())
            {
                send(ArtifactKind::Diff, &diff, None);
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(load)),
            // Outside a runtime (a test drawing the dashboard): read them here.
            Err(_) => load(),
        }
    }

    /// Cancels every live workflow as "cancelled at exit" and waits (up to `wait`) until their
    /// endings are in the history; how many were still not recorded then.
    pub async fn shutdown(&self, wait: Duration) -> usize {
        self.inner.exiting.store(true, Ordering::SeqCst);
        let done = async {
            loop {
                let notified = self.inner.finished.notified();
                {
                    let cancels = lock(&self.inner.cancels);
                    if cancels.is_empty() {
                        return;
                    }
                    cancels.values().for_each(CancellationToken::cancel);
                }
                notified.await;
            }
        };
        if tokio::time::timeout(wait, done).await.is_err() {
            let left = lock(&self.inner.cancels).len();
            tracing::warn!("{left} workflows did not record their ending within {wait:?}");
            return left;
        }
        0
    }

    /// Deletes a finished workflow: its history and its folder.
    pub fn delete(&self, id: &WorkflowId) -> anyhow::Result<()> {
        if lock(&self.inner.cancels).contains_key(id) {
            anyhow::bail!("{id} is still live: cancel it first");
        }
        // Its worktree and branch go with it.
        let change = self
            .inner
            .db
            .load()?
            .into_iter()
            .find(|w| &w.id == id)
            .and_then(|w| w.change);
        if let Some(change) = change {
            crate::project::land::discard(&change)
                .map_err(|e| anyhow::anyhow!("cannot remove its branch {}: {e}", change.branch))?;
        }
        self.inner.db.delete(id)?;
        let dir = self.inner.home.workflow_dir(id);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(anyhow::anyhow!("cannot remove {}: {e}", dir.display())),
        }
    }

    /// Applies (or stages) a finished workflow's change to its repository and records it.
    pub fn apply(
        &self,
        id: &WorkflowId,
        staged: bool,
    ) -> Result<crate::workflow::change::Change, String> {
        let wf = self.in_history(id)?;
        land::apply(&self.inner.home, &self.inner.db, &wf, staged).map_err(|r| r.to_string())
    }

    /// Removes a finished workflow's worktree and branch and records it.
    pub fn discard(&self, id: &WorkflowId) -> Result<crate::workflow::change::Change, String> {
        let wf = self.in_history(id)?;
        land::discard(&self.inner.db, &wf)
    }

    fn in_history(&self, id: &WorkflowId) -> Result<Workflow, String> {
        self.inner
            .db
            .load()
            .map_err(|e| e.to_string())?
            .into_iter()
            .find(|w| &w.id == id)
            .ok_or_else(|| format!("{id} is not in the history"))
    }

    /// Cancels a live workflow; false if it already ended.
    pub fn cancel(&self, id: &WorkflowId) -> bool {
        match lock(&self.inner.cancels).get(id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Asks the veryfast tier for a name, falling back to keywords; the name is not reserved.
    pub async fn suggest_name(&self, description: &str) -> (String, NameSource) {
        let naming = suggest_name(&self.inner, description).await;
        (naming.name, naming.source)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
