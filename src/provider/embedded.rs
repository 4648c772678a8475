//! The `embedded` provider: flotilla runs `flotilla serve` on a GGUF file as a child process on
//! a free loopback port, talks to it like any OpenAI-compatible server, starts it again when it
//! dies, and stops it on exit. llama.cpp runs in the child, so a crash there never takes the
//! dashboard down.

use super::ProviderError;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// What the child serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedSettings {
    pub model: PathBuf,
    /// Requests decoded together.
    pub parallel: usize,
    /// Context of one request, in tokens.
    pub ctx: u32,
    /// The home's `engine/` folder: one engine there serves every flotilla process on the
    /// home (`provider/shared.rs`). `None`: a child of this process alone.
    pub shared: Option<PathBuf>,
}

/// Longest wait for the child to load its model and listen.
const START_TIMEOUT: Duration = Duration::from_secs(180);
/// After a failed start, later requests get the same error for this long instead of starting
/// the child again at once.
const RESTART_PAUSE: Duration = Duration::from_secs(2);
/// Lines of the child's standard error kept for error messages.
const STDERR_TAIL: usize = 12;

#[derive(Debug)]
pub struct Embedded {
    pub settings: EmbeddedSettings,
    state: tokio::sync::Mutex<State>,
    /// The child's last lines on standard error (all of them also go to flotilla's log).
    stderr: Arc<Mutex<VecDeque<String>>>,
}

#[derive(Debug, Default)]
struct State {
    running: Option<Running>,
    last_failure: Option<(Instant, ProviderError)>,
    /// Children started so far (the first is 1).
    starts: u64,
}

#[derive(Debug)]
pub(super) struct Running {
    base_url: String,
    pid: Option<u32>,
    /// Set by the watcher task when the child exits.
    exited: Arc<Mutex<Option<String>>>,
    /// Dropping it ends the watcher task, which kills the child (not a shared engine).
    _stop: tokio::sync::oneshot::Sender<()>,
    /// A shared engine's users' lock, held (shared) while this process may use it.
    _user: Option<std::fs::File>,
}

impl Running {
    fn alive(&self) -> bool {
        self.exited.lock().map(|e| e.is_none()).unwrap_or(false)
    }
}

impl Embedded {
    pub fn new(settings: EmbeddedSettings) -> Self {
        Self {
            settings,
            state: tokio::sync::Mutex::new(State::default()),
            stderr: Arc::new(Mutex::new(VecDeque::new())),
        }
    }

    /// The address of a running child: the one there is, or a new one started and waited for.
    pub async fn base_url(&self) -> Result<String, ProviderError> {
        let mut state = self.state.lock().await;
        if let Some(running) = &state.running {
            if running.alive() {
                return Ok(running.base_url.clone());
            }
            let why = running
                .exited
                .lock()
                .ok()
                .and_then(|e| e.clone())
                .unwrap_or_default();
            tracing::warn!("flotilla serve ({}) {why}; starting it again", self.label());
            state.running = None;
        }
        if let Some((at, error)) = &state.last_failure
            && at.elapsed() < RESTART_PAUSE
        {
            return Err(error.clone());
        }
        state.starts += 1;
        match self.start().await {
            Ok(running) => {
                let url = running.base_url.clone();
                tracing::info!("flotilla serve for {} listens at {url}", self.label());
                state.running = Some(running);
                state.last_failure = None;
                Ok(url)
            }
            Err(e) => {
                state.last_failure = Some((Instant::now(), e.clone()));
                Err(e)
            }
        }
    }

    /// Whether the child that served `url` has died since (a broken stream is worth asking
    /// again). The exit is noticed a moment after the connection breaks, so this waits up to
    /// a second for it.
    pub async fn died(&self, url: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(1);
        loop {
            {
                let state = self.state.lock().await;
                match &state.running {
                    Some(r) if url.starts_with(&r.base_url) => {
                        if !r.alive() {
                            return true;
                        }
                    }
                    // Another child serves now.
                    _ => return true,
                }
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The address now, without starting anything.
    pub fn current_url(&self) -> Option<String> {
        let state = self.state.try_lock().ok()?;
        state
            .running
            .as_ref()
            .filter(|r| r.alive())
            .map(|r| r.base_url.clone())
    }

    /// The running child's process id.
    pub fn pid(&self) -> Option<u32> {
        let state = self.state.try_lock().ok()?;
        state
            .running
            .as_ref()
            .filter(|r| r.alive())
            .and_then(|r| r.pid)
    }

    fn label(&self) -> String {
        crate::serve::model_id(&self.settings.model)
    }

    fn stderr_tail(&self) -> String {
        self.stderr
            .lock()
            .map(|t| t.iter().cloned().collect::<Vec<_>>().join(" | "))
            .unwrap_or_default()
    }

    pub(super) fn fail(&self, reason: String) -> ProviderError {
        ProviderError::Connect {
            url: format!("flotilla serve --model {}", self.settings.model.display()),
            reason,
        }
    }

    async fn start(&self) -> Result<Running, ProviderError> {
        match self.settings.shared.clone() {
            Some(dir) => self.start_shared(&dir).await,
            None => self.start_own().await,
        }
    }

    /// A shared engine's running state: its address, and a watch on its process.
    pub(super) fn running_shared(url: String, pid: u32, user: std::fs::File) -> Running {
        let exited = Arc::new(Mutex::new(None));
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let watch = Arc::clone(&exited);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
                if !alive(pid) {
                    if let Ok(mut e) = watch.lock() {
                        *e = Some(format!("(process {pid}) is gone"));
                    }
                    return;
                }
            }
        });
        Running {
            base_url: url,
            pid: Some(pid),
            exited,
            _stop: stop,
            _user: Some(user),
        }
    }

    /// The command that runs `flotilla serve` on this model.
    pub(super) fn serve_command(&self) -> Result<Command, ProviderError> {
        // Name a missing or foreign file before starting anything.
        crate::serve::check_model_file(&self.settings.model).map_err(|e| self.fail(e))?;
        // The executable that is running (in cargo's tests, the flotilla binary beside them).
        let exe = crate::sandbox::helper()
            .map_err(|e| self.fail(format!("cannot find flotilla's own executable: {e}")))?;
        let mut command = Command::new(exe);
        command
            .arg("serve")
            .arg("--model")
            .arg(&self.settings.model)
            .args(["--host", "127.0.0.1", "--port", "0"])
            .arg("--parallel")
            .arg(self.settings.parallel.to_string())
            .arg("--ctx")
            .arg(self.settings.ctx.to_string())
            // A good neighbour to the test runs beside it, unless the user says otherwise.
            .env(
                "GOMP_SPINCOUNT",
                std::env::var("GOMP_SPINCOUNT")
                    .unwrap_or_else(|_| crate::serve::SHARED_GOMP_SPINCOUNT.to_owned()),
            );
        Ok(command)
    }

    /// Reads the address from the `LISTENING` line of a child's standard output.
    pub(super) async fn listening(
        &self,
        child: &mut Child,
        tail: &(dyn Fn() -> String + Sync),
    ) -> Result<String, ProviderError> {
        let Some(stdout) = child.stdout.take() else {
            return Err(self.fail("no standard output to read the address from".into()));
        };
        let mut lines = BufReader::new(stdout).lines();
        let listening = async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.strip_prefix(crate::serve::LISTENING) {
                    let addr = rest.split_whitespace().next().unwrap_or_default();
                    return Some(format!("http://{addr}"));
                }
            }
            None
        };
        match tokio::time::timeout(START_TIMEOUT, listening).await {
            Ok(Some(url)) => Ok(url),
            Ok(None) => {
                let status = child
                    .wait()
                    .await
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                // The stderr reader may still be taking the last lines.
                tokio::time::sleep(Duration::from_millis(100)).await;
                Err(self.fail(format!(
                    "flotilla serve stopped before listening ({status}): {}",
                    tail()
                )))
            }
            Err(_) => Err(self.fail(format!(
                "flotilla serve did not listen within {}s: {}",
                START_TIMEOUT.as_secs(),
                tail()
            ))),
        }
    }

    async fn start_own(&self) -> Result<Running, ProviderError> {
        let fail = |reason: String| self.fail(reason);
        let mut child: Child = self
            .serve_command()?
            .arg("--exit-with-stdin")
            // The child ends when flotilla does, however it ends: its standard input closes.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| fail(format!("cannot start flotilla serve: {e}")))?;
        let stdin = child.stdin.take();
        if let Some(stderr) = child.stderr.take() {
            let tail = Arc::clone(&self.stderr);
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let line = crate::sanitize::strip(&line);
                    tracing::info!(target: "flotilla::serve::child", "{line}");
                    if let Ok(mut t) = tail.lock() {
                        if t.len() == STDERR_TAIL {
                            t.pop_front();
                        }
                        t.push_back(line);
                    }
                }
            });
        }
        let url = self.listening(&mut child, &|| self.stderr_tail()).await?;
        let pid = child.id();
        let exited = Arc::new(Mutex::new(None));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let watch = Arc::clone(&exited);
        let tail = Arc::clone(&self.stderr);
        tokio::spawn(async move {
            // Held so the child's standard input stays open while flotilla runs.
            let _stdin = stdin;
            tokio::select! {
                status = child.wait() => {
                    let last = tail.lock().ok().and_then(|t| t.back().cloned()).unwrap_or_default();
                    let why = match status {
                        Ok(s) => format!("exited ({s}) after: {last}"),
                        Err(e) => format!("could not be waited for: {e}"),
                    };
                    if let Ok(mut e) = watch.lock() {
                        *e = Some(why);
                    }
                }
                _ = stopped => {
                    let _ = child.kill().await;
                }
            }
        });
        Ok(Running {
            base_url: url,
            pid,
            exited,
            _stop: stop,
            _user: None,
        })
    }
}

/// Whether process `pid` exists (a zombie counts until it is reaped).
pub fn alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 checks that the process exists and sends nothing.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}
