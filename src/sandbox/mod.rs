//! Runs untrusted generated code (its tests) confined: on Linux through `flotilla sandbox-exec`
//! (see `linux.rs`): its own namespaces, a file view holding only the system, the toolchains
//! and its scratch copy, Landlock, cgroup and rlimit limits, no capabilities. Here: the spawn,
//! the wall-clock timeout and cancellation (which kill everything), and capped output.

#[cfg(target_os = "linux")]
mod cgroup;
#[cfg(target_os = "linux")]
mod linux;
mod output;
pub mod runner;
use output::CappedOutput;

use serde::{Deserialize, Serialize};
use std::io;
#[cfg(unix)]
use std::os::unix::process::ExitStatusExt as _;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// What a sandboxed run may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Wall-clock time; then everything the run started is killed.
    pub timeout: Duration,
    /// CPU seconds per process (RLIMIT_CPU).
    pub cpu_seconds: u64,
    /// Memory: the run's cgroup limit (shared mappings and tmpfs included) where flotilla can
    /// create one, and RLIMIT_DATA per process in any case.
    pub memory_bytes: u64,
    /// Largest file a process may write, in bytes (RLIMIT_FSIZE).
    pub file_size_bytes: u64,
    /// All the run may write: the size of the tmpfs holding its scratch copy, `/tmp` and
    /// `/dev/shm`.
    pub disk_bytes: u64,
    /// Processes and threads: the run's cgroup limit where flotilla can create one, and
    /// RLIMIT_NPROC (which counts all of the user's processes, and not root's) otherwise.
    pub max_processes: u64,
    /// Output kept, in bytes; the rest is counted and dropped.
    pub output_cap: usize,
    /// Run tests even where files cannot be confined (`[sandbox] mode = "permissive"`).
    pub permissive: bool,
}

impl Default for Limits {
    /// `[sandbox]` of the built-in defaults.
    fn default() -> Self {
        let d = &crate::defaults::get().sandbox;
        Self {
            timeout: Duration::from_secs_f64(d.timeout),
            cpu_seconds: d.cpu_seconds,
            memory_bytes: d.memory_mb << 20,
            file_size_bytes: d.file_size_mb << 20,
            disk_bytes: d.disk_mb << 20,
            max_processes: d.max_processes,
            output_cap: d.output_kb << 10,
            permissive: permissive(&d.mode).unwrap_or(false),
        }
    }
}

/// `[sandbox] mode`: whether `"permissive"` (true) or `"strict"` (false); `None` for any other
/// word.
pub fn permissive(mode: &str) -> Option<bool> {
    match mode {
        "strict" => Some(false),
        "permissive" => Some(true),
        _ => None,
    }
}

/// A program to run inside the sandbox.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Job {
    pub program: String,
    pub args: Vec<String>,
    /// The scratch folder it runs in (copied into the sandbox; what the run writes there stays
    /// inside).
    pub dir: PathBuf,
    /// The environment, which holds only PATH, HOME and LANG besides these.
    pub env: Vec<(String, String)>,
    /// Besides the system's folders: what the run may read and execute (its toolchain).
    pub read_only: Vec<PathBuf>,
    /// Folders shared between runs that it may write (the Rust target folder).
    pub writable: Vec<PathBuf>,
}

/// What `flotilla sandbox-exec` is told to run: passed as one JSON argument.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Spec {
    /// The job, its environment complete (the kept variables included).
    pub job: Job,
    pub limits: Limits,
    /// flotilla's pid: the run does not start if flotilla is already gone.
    pub parent: i32,
    /// Try namespaces (else Landlock alone confines files). `FLOTILLA_SANDBOX_NAMESPACES=0`
    /// turns them off, to see what a machine without them gets.
    pub namespaces: bool,
}

/// Starts the first stderr line of a run: the protections in force.
pub const PROTECTIONS_MARKER: &str = "\u{1e}flotilla-sandbox: ";
/// Starts the stderr line of a run whose sandbox could not be set up.
pub const SANDBOX_ERROR_MARKER: &str = "\u{1e}flotilla-sandbox error: ";

/// How a sandboxed run ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Finished {
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub cancelled: bool,
    /// Stdout and stderr interleaved as they came, up to the cap.
    pub output: String,
    pub truncated: bool,
    /// "sandbox: fs=ns+landlock pid=ns net=ns …": what confined the run.
    pub protections: String,
}

impl Finished {
    pub fn success(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out && !self.cancelled
    }

    /// "exit code 1", "killed by signal 9", "timed out after 60s"…
    pub fn describe(&self, limits: &Limits) -> String {
        if self.cancelled {
            "cancelled".into()
        } else if self.timed_out {
            format!("timed out after {}s", limits.timeout.as_secs_f64())
        } else if let Some(sig) = self.signal {
            format!("killed by signal {sig}{}", signal_meaning(sig))
        } else {
            format!("exit code {}", self.exit_code.unwrap_or(-1))
        }
    }
}

/// What a signal that ended a run usually means there.
#[cfg(unix)]
fn signal_meaning(sig: i32) -> &'static str {
    match sig {
        libc::SIGXCPU => " (CPU time limit)",
        libc::SIGXFSZ => " (file size limit)",
        libc::SIGKILL => " (killed)",
        libc::SIGSEGV => " (crashed)",
        _ => "",
    }
}

#[cfg(not(unix))]
fn signal_meaning(_sig: i32) -> &'static str {
    ""
}

/// The entry point of `flotilla sandbox-exec SPEC`: runs the spec confined and never returns.
/// Call it first thing in `main`, before any thread starts.
pub fn exec_main(spec_json: &str) -> ! {
    let spec: Spec = match serde_json::from_str(spec_json) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{SANDBOX_ERROR_MARKER}bad sandbox spec: {e}");
            std::process::exit(125)
        }
    };
    #[cfg(target_os = "linux")]
    linux::exec(&spec);
    #[cfg(not(target_os = "linux"))]
    {
        let _ = spec;
        eprintln!("{SANDBOX_ERROR_MARKER}no sandbox on this system yet");
        std::process::exit(125)
    }
}

/// Makes flotilla's own /proc entries unreadable to other processes of the same user (its
/// environment holds API keys): call it at start.
pub fn protect_self() {
    #[cfg(target_os = "linux")]
    let _ = nix::sys::prctl::set_dumpable(false);
}

/// Set by flotilla's `main`: runs are started by this very executable, whatever its name.
static THIS_EXECUTABLE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Called by flotilla's `main`: `sandbox-exec` is run by the executable that is running.
pub fn use_this_executable() {
    if let Ok(me) = std::env::current_exe() {
        let _ = THIS_EXECUTABLE.set(me);
    }
}

/// The flotilla executable that runs `sandbox-exec`: this one (see `use_this_executable`), or,
/// in cargo's tests, the `flotilla` binary the test harness was built beside.
/// `FLOTILLA_SANDBOX_EXE` overrides both.
pub fn helper() -> io::Result<PathBuf> {
    if let Some(path) = std::env::var_os("FLOTILLA_SANDBOX_EXE") {
        return Ok(PathBuf::from(path));
    }
    if let Some(me) = THIS_EXECUTABLE.get() {
        return Ok(me.clone());
    }
    let me = std::env::current_exe()?;
    if me.file_stem().is_some_and(|n| n == "flotilla") {
        return Ok(me);
    }
    let beside = me
        .parent()
        .and_then(|deps| deps.parent())
        .map(|dir| dir.join("flotilla"))
        .filter(|p| p.is_file());
    beside.ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            "the flotilla executable that runs the sandbox was not found (set FLOTILLA_SANDBOX_EXE)",
        )
    })
}

/// Runs `job` under `limits`, streaming its output to `on_output` as it comes. The run ends
/// when its program ends: whatever it left behind is killed, and output still held open by it
/// is waited for briefly, never until the timeout.
pub async fn run(
    job: &Job,
    limits: &Limits,
    cancel: &CancellationToken,
    on_output: &mut (dyn FnMut(&str) + Send),
) -> io::Result<Finished> {
    let mut child = spawn(job, limits)?;
    let pid = child.id();
    // Dropping this future (a cancelled workflow) kills the whole group too.
    let group = ProcessGroup(pid);
    let kill_group = || group.kill();
    let mut rx = readers(&mut child);

    let mut finished = Finished::default();
    let mut setup_error = None;
    let mut output = CappedOutput::new(limits.output_cap);
    let deadline = tokio::time::sleep(limits.timeout);
    tokio::pin!(deadline);
    // Once the program has ended, what is left of its output gets a moment, not the timeout.
    let drain = tokio::time::sleep(Duration::from_secs(3600));
    tokio::pin!(drain);
    let mut status = None;
    loop {
        tokio::select! {
            chunk = rx.recv() => match chunk {
                Some(Chunk::Output(bytes)) => {
                    if let Some(text) = output.push(&bytes) {
                        on_output(&text);
                    }
                }
                Some(Chunk::Protections(line)) => finished.protections = line,
                Some(Chunk::SetupError(why)) => setup_error = Some(why),
                None => break,
            },
            exit = child.wait(), if status.is_none() => {
                status = Some(exit?);
                // The program is done: nothing it left behind may linger.
                kill_group();
                drain.as_mut().reset(tokio::time::Instant::now() + DRAIN);
            }
            _ = &mut drain, if status.is_some() => break,
            _ = &mut deadline, if !finished.timed_out && !finished.cancelled => {
                finished.timed_out = true;
                kill_group();
            }
            _ = cancel.cancelled(), if !finished.timed_out && !finished.cancelled => {
                finished.cancelled = true;
                kill_group();
            }
        }
    }
    kill_group();
    let status = match status {
        Some(s) => s,
        None => child.wait().await?,
    };
    #[cfg(target_os = "linux")]
    if let Some(pid) = pid {
        cgroup::remove_left(pid);
    }
    if let Some(why) = setup_error {
        return Err(io::Error::other(format!("sandbox: {why}")));
    }
    if let Some(text) = output.finish() {
        on_output(&text);
    }
    finished.exit_code = status.code();
    #[cfg(unix)]
    {
        finished.signal = status.signal();
    }
    finished.truncated = output.truncated;
    finished.output = output.text;
    Ok(finished)
}

/// How long output may still come once the program has ended.
const DRAIN: Duration = Duration::from_millis(500);

/// The command that runs `job` confined: `flotilla sandbox-exec SPEC` on Linux; elsewhere the
/// program itself, and only when the config allows running tests unconfined.
fn confined(
    job: &Job,
    limits: &Limits,
    env: Vec<(String, String)>,
) -> io::Result<tokio::process::Command> {
    if cfg!(target_os = "linux") {
        let spec = Spec {
            job: Job { env, ..job.clone() },
            limits: *limits,
            parent: std::process::id() as i32,
            namespaces: std::env::var_os("FLOTILLA_SANDBOX_NAMESPACES").is_none_or(|v| v != "0"),
        };
        let mut command = tokio::process::Command::new(helper()?);
        command
            .arg("sandbox-exec")
            .arg(serde_json::to_string(&spec).map_err(io::Error::other)?)
            .env_clear();
        return Ok(command);
    }
    if !limits.permissive {
        return Err(io::Error::other(
            "no sandbox on this system: tests do not run unless config.toml's [sandbox] says mode = \"permissive\"",
        ));
    }
    let mut command = tokio::process::Command::new(&job.program);
    command.args(&job.args).env_clear().envs(env);
    Ok(command)
}

/// The confined program, started in a process group of its own with its output piped.
fn spawn(job: &Job, limits: &Limits) -> io::Result<tokio::process::Child> {
    let mut env: Vec<(String, String)> = ["PATH", "HOME", "LANG"]
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| ((*k).to_owned(), v)))
        .collect();
    env.extend(job.env.iter().cloned());
    let mut command = confined(job, limits, env)?;
    command
        .current_dir(&job.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    command.spawn()
}

/// Readers of the child's stdout and stderr, reporting on one channel that closes when both
/// pipes have.
fn readers(child: &mut tokio::process::Child) -> mpsc::Receiver<Chunk> {
    let (tx, rx) = mpsc::channel::<Chunk>(64);
    if let Some(mut out) = child.stdout.take() {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 8192];
            while let Ok(n @ 1..) = out.read(&mut buf).await {
                if tx.send(Chunk::Output(buf[..n].to_vec())).await.is_err() {
                    break;
                }
            }
        });
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(read_stderr(err, tx));
    }
    rx
}

/// What the run's pipes carry.
enum Chunk {
    Output(Vec<u8>),
    Protections(String),
    SetupError(String),
}

/// Reads stderr, taking its first line apart when the sandbox wrote it: the protections in
/// force, or why the sandbox could not be set up. Only the first line counts, so a program
/// cannot forge either.
async fn read_stderr(mut err: tokio::process::ChildStderr, tx: mpsc::Sender<Chunk>) {
    let mut buf = vec![0u8; 8192];
    let mut first: Option<Vec<u8>> = Some(Vec::new());
    while let Ok(n @ 1..) = err.read(&mut buf).await {
        let mut bytes = buf[..n].to_vec();
        if let Some(mut line) = first.take() {
            line.extend_from_slice(&bytes);
            let Some(end) = line.iter().position(|b| *b == b'\n') else {
                if line.len() < 4096 && b"\x1e".starts_with(&line[..line.len().min(1)]) {
                    first = Some(line);
                    continue;
                }
                bytes = line;
                if tx.send(Chunk::Output(bytes)).await.is_err() {
                    return;
                }
                continue;
            };
            let text = String::from_utf8_lossy(&line[..end]).into_owned();
            let rest = line[end + 1..].to_vec();
            let chunk = if let Some(p) = text.strip_prefix(PROTECTIONS_MARKER) {
                Some(Chunk::Protections(p.to_owned()))
            } else {
                text.strip_prefix(SANDBOX_ERROR_MARKER)
                    .map(|e| Chunk::SetupError(e.to_owned()))
            };
            match chunk {
                Some(chunk) => {
                    if tx.send(chunk).await.is_err() {
                        return;
                    }
                    bytes = rest;
                }
                None => bytes = line,
            }
            if bytes.is_empty() {
                continue;
            }
        }
        if tx.send(Chunk::Output(bytes)).await.is_err() {
            return;
        }
    }
}

/// A child's process group, killed when dropped (on Unix; elsewhere `kill_on_drop` ends the
/// child alone).
#[cfg_attr(not(unix), allow(dead_code))]
struct ProcessGroup(Option<u32>);

impl ProcessGroup {
    fn kill(&self) {
        #[cfg(unix)]
        if let Some(pgid) = self.0.and_then(|p| libc::pid_t::try_from(p).ok()) {
            // SAFETY: signals our own child's process group.
            unsafe { libc::killpg(pgid, libc::SIGKILL) };
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A program as a shell would find it: a path as given, else the first executable file of
/// that name in the folders of `path` (a `PATH` value). Used for flotilla's own environment and
/// for the sandbox's.
pub fn find_program(program: &str, path: &std::ffi::OsStr) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    std::env::split_paths(path)
        .map(|d| d.join(program))
        .find(|p| is_executable(p))
}

#[cfg(unix)]
fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &std::path::Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests;
