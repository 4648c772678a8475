//! One embedded engine per home. The first flotilla process on a home that needs it starts
//! `flotilla serve` detached, in a process group of its own; every other one (a headless
//! `run`, `eval`, a second dashboard) finds it through `engine/<key>.json` and uses it. Each
//! user holds a shared lock on `engine/<key>.users` for as long as it may send requests (the
//! kernel lets go of it however the process ends); the engine exits once nobody has held one
//! for a short while, and a dead engine is started again by the next user. Starting and
//! finding go under `engine/<key>.lock`, so two processes never start two engines.

use super::ProviderError;
use super::embedded::{Embedded, Running};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// The files of the engine serving one model with one set of settings on a home.
pub struct Files {
    pub address: PathBuf,
    pub users: PathBuf,
    pub start: PathBuf,
    pub log: PathBuf,
}

impl Files {
    /// `<model id>-<hash of its path>-p<parallel>-c<ctx>`: engines of other models or settings
    /// are other engines.
    pub fn new(dir: &Path, model: &Path, parallel: usize, ctx: u32) -> Self {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        model.hash(&mut hasher);
        let id = crate::sanitize::file_name_part(&crate::serve::model_id(model), &['.', '-']);
        let key = format!("{id}-{:08x}-p{parallel}-c{ctx}", hasher.finish() as u32);
        Self {
            address: dir.join(format!("{key}.json")),
            users: dir.join(format!("{key}.users")),
            start: dir.join(format!("{key}.lock")),
            log: dir.join(format!("{key}.log")),
        }
    }
}

fn open_lock(path: &Path) -> std::io::Result<File> {
    File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
}

/// The engine's address file, if it names a process that is alive and serves this model.
pub fn read_address(path: &Path) -> Option<crate::serve::Address> {
    let text = std::fs::read_to_string(path).ok()?;
    let address: crate::serve::Address = serde_json::from_str(&text).ok()?;
    super::embedded::alive(address.pid).then_some(address)
}

impl Embedded {
    /// The home's engine: the running one, or one started now.
    pub(super) async fn start_shared(&self, dir: &Path) -> Result<Running, ProviderError> {
        let s = &self.settings;
        let files = Files::new(dir, &s.model, s.parallel, s.ctx);
        std::fs::create_dir_all(dir)
            .map_err(|e| self.fail(format!("cannot create {}: {e}", dir.display())))?;
        let (users, start) = (files.users.clone(), files.start.clone());
        // A user first (an engine on its way out holds the users' lock until it has gone),
        // then the right to look and start.
        let locked = tokio::task::spawn_blocking(move || -> std::io::Result<(File, File)> {
            let user = open_lock(&users)?;
            user.lock_shared()?;
            let start = open_lock(&start)?;
            start.lock()?;
            Ok((user, start))
        })
        .await
        .map_err(|e| self.fail(format!("cannot lock the engine's files: {e}")))?
        .map_err(|e| self.fail(format!("cannot lock {}: {e}", files.users.display())))?;
        let (user, _starting) = locked;
        if let Some(found) = read_address(&files.address)
            && self.answers(&found.url).await
        {
            tracing::info!(
                "using the home's engine at {} (process {})",
                found.url,
                found.pid
            );
            return Ok(Self::running_shared(found.url, found.pid, user));
        }
        let log = File::options()
            .create(true)
            .append(true)
            .open(&files.log)
            .map_err(|e| self.fail(format!("cannot open {}: {e}", files.log.display())))?;
        let linger = crate::defaults::get().provider.embedded.linger;
        let mut child = self
            .serve_command()?
            .arg("--address-file")
            .arg(&files.address)
            .arg("--users-lock")
            .arg(&files.users)
            .arg("--linger")
            .arg(linger.to_string())
            // Not this process's to end: it outlives it while others use it, and a Ctrl-C in
            // this terminal does not reach it.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(false)
            .spawn()
            .map_err(|e| self.fail(format!("cannot start flotilla serve: {e}")))?;
        let log_path = files.log.clone();
        let tail = move || last_lines(&log_path, 6);
        let url = self.listening(&mut child, &tail).await?;
        let pid = child
            .id()
            .ok_or_else(|| self.fail("flotilla serve exited as it started".into()))?;
        tracing::info!(
            "started the home's engine at {url} (process {pid}; its log: {})",
            files.log.display()
        );
        // tokio reaps it when it exits; it is not waited for here.
        drop(child);
        Ok(Self::running_shared(url, pid, user))
    }

    /// Whether an engine at `url` answers its model list.
    async fn answers(&self, url: &str) -> bool {
        let client = reqwest::Client::new();
        let models = format!("{}/models", url.trim_end_matches('/'));
        matches!(
            tokio::time::timeout(Duration::from_secs(5), client.get(models).send()).await,
            Ok(Ok(r)) if r.status().is_success()
        )
    }
}

/// The last `n` lines of a log file, on one line, for an error message.
fn last_lines(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(n);
    crate::sanitize::strip(&lines[from..].join(" | "))
}
