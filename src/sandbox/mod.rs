//! Runs untrusted generated code (its tests) in a scratch folder, in its own process group, with
//! a wall-clock timeout that kills the whole group, a cleared environment, resource limits,
//! capped output, and no network where the machine allows a network namespace.

use std::io;
use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// What a sandboxed run may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time; then the whole process group is killed.
    pub timeout: Duration,
    /// CPU seconds per process (RLIMIT_CPU).
    pub cpu_seconds: u64,
    /// Data segment size per process, in bytes (RLIMIT_DATA).
    pub memory_bytes: u64,
    /// Largest file a process may write, in bytes (RLIMIT_FSIZE).
    pub file_size_bytes: u64,
    /// Processes the user may have (RLIMIT_NPROC; not enforced for root).
    pub max_processes: u64,
    /// Output kept, in bytes; the rest is counted and dropped.
    pub output_cap: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            cpu_seconds: 120,
            memory_bytes: 2 << 30,
            file_size_bytes: 64 << 20,
            max_processes: 4096,
            output_cap: 256 << 10,
        }
    }
}

/// A program to run inside the sandbox.
#[derive(Debug, Clone)]
pub struct Job {
    pub program: String,
    pub args: Vec<String>,
    /// The scratch folder it runs in.
    pub dir: PathBuf,
    /// Variables added to the cleared environment (which keeps only PATH, HOME and LANG).
    pub env: Vec<(String, String)>,
}

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
            let why = match sig {
                libc::SIGXCPU => " (CPU time limit)",
                libc::SIGXFSZ => " (file size limit)",
                libc::SIGKILL => " (killed)",
                libc::SIGSEGV => " (crashed)",
                _ => "",
            };
            format!("killed by signal {sig}{why}")
        } else {
            format!("exit code {}", self.exit_code.unwrap_or(-1))
        }
    }
}

/// Bytes of the uid/gid maps a child writes after entering a new user namespace.
#[derive(Clone, Copy)]
struct IdMaps {
    uid: [u8; 32],
    uid_len: usize,
    gid: [u8; 32],
    gid_len: usize,
    root: bool,
}

impl IdMaps {
    fn current() -> Self {
        // SAFETY: getuid/getgid cannot fail.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let mut maps = Self {
            uid: [0; 32],
            uid_len: 0,
            gid: [0; 32],
            gid_len: 0,
            root: uid == 0,
        };
        let u = format!("{uid} {uid} 1");
        let g = format!("{gid} {gid} 1");
        maps.uid[..u.len()].copy_from_slice(u.as_bytes());
        maps.uid_len = u.len();
        maps.gid[..g.len()].copy_from_slice(g.as_bytes());
        maps.gid_len = g.len();
        maps
    }
}

/// Runs in the forked child before exec: only async-signal-safe calls, no allocation.
fn isolate_network(maps: &IdMaps) -> io::Result<()> {
    // SAFETY: plain syscalls on static paths and stack buffers.
    unsafe {
        if maps.root {
            if libc::unshare(libc::CLONE_NEWNET) == 0 {
                return Ok(());
            }
            return Err(io::Error::last_os_error());
        }
        if libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET) != 0 {
            return Err(io::Error::last_os_error());
        }
        // Map our own ids to themselves, so file access stays as it was.
        write_file(c"/proc/self/setgroups", b"deny")?;
        write_file(c"/proc/self/uid_map", &maps.uid[..maps.uid_len])?;
        write_file(c"/proc/self/gid_map", &maps.gid[..maps.gid_len])?;
    }
    Ok(())
}

unsafe fn write_file(path: &std::ffi::CStr, bytes: &[u8]) -> io::Result<()> {
    // SAFETY: the caller runs in a single-threaded child; the buffers outlive the calls.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = libc::write(fd, bytes.as_ptr().cast(), bytes.len());
        libc::close(fd);
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }
}

fn set_limits(limits: &Limits) -> io::Result<()> {
    let pairs = [
        (libc::RLIMIT_CPU, limits.cpu_seconds),
        (libc::RLIMIT_DATA, limits.memory_bytes),
        (libc::RLIMIT_FSIZE, limits.file_size_bytes),
        (libc::RLIMIT_NPROC, limits.max_processes),
        (libc::RLIMIT_CORE, 0),
    ];
    for (resource, value) in pairs {
        let limit = libc::rlimit {
            rlim_cur: value as libc::rlim_t,
            rlim_max: value as libc::rlim_t,
        };
        // SAFETY: setrlimit with a valid pointer to a stack value.
        if unsafe { libc::setrlimit(resource, &limit) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Whether this machine lets a child enter a new network namespace (checked once).
pub fn network_isolation() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let maps = IdMaps::current();
        let mut probe = std::process::Command::new("/bin/sh");
        probe
            .args(["-c", "exit 0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: the closure only makes async-signal-safe syscalls.
        unsafe { probe.pre_exec(move || isolate_network(&maps)) };
        probe.status().map(|s| s.success()).unwrap_or(false)
    })
}

/// Runs `job` under `limits`, streaming its output to `on_output` as it comes.
pub async fn run(
    job: &Job,
    limits: &Limits,
    cancel: &CancellationToken,
    on_output: &mut (dyn FnMut(&str) + Send),
) -> io::Result<Finished> {
    let mut command = tokio::process::Command::new(&job.program);
    command.args(&job.args).current_dir(&job.dir).env_clear();
    for key in ["PATH", "HOME", "LANG"] {
        if let Some(value) = std::env::var_os(key) {
            command.env(key, value);
        }
    }
    for (key, value) in &job.env {
        command.env(key, value);
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command.process_group(0);
    let limits_copy = *limits;
    let isolate = network_isolation();
    let maps = IdMaps::current();
    // SAFETY: the closure only makes async-signal-safe syscalls on copied, stack-held data.
    unsafe {
        command.pre_exec(move || {
            set_limits(&limits_copy)?;
            if isolate {
                isolate_network(&maps)?;
            }
            Ok(())
        });
    }
    let mut child = command.spawn()?;
    // Dropping this future (a cancelled workflow) kills the whole group too.
    let group = ProcessGroup(child.id().map(|id| id as libc::pid_t));
    let kill_group = || group.kill();

    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
    for pipe in [
        child.stdout.take().map(Pipe::Out),
        child.stderr.take().map(Pipe::Err),
    ]
    .into_iter()
    .flatten()
    {
        let tx = tx.clone();
        let mut pipe = pipe;
        tokio::spawn(async move {
            let mut buf = vec![0u8; 8192];
            loop {
                match pipe.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx.send(buf[..n].to_vec()).await.is_err() {
                            break;
                        }
                    }
                }
            }
        });
    }
    drop(tx);

    let mut finished = Finished::default();
    let mut output = CappedOutput::new(limits.output_cap);
    let deadline = tokio::time::sleep(limits.timeout);
    tokio::pin!(deadline);
    let mut status = None;
    loop {
        tokio::select! {
            chunk = rx.recv() => match chunk {
                Some(bytes) => {
                    if let Some(text) = output.push(&bytes) {
                        on_output(&text);
                    }
                }
                None => break,
            },
            exit = child.wait(), if status.is_none() => {
                status = Some(exit?);
                // The program is done: nothing it left behind may linger.
                kill_group();
            }
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
    if let Some(text) = output.finish() {
        on_output(&text);
    }
    finished.exit_code = status.code();
    finished.signal = status.signal();
    finished.truncated = output.truncated;
    finished.output = output.text;
    Ok(finished)
}

/// A child's process group, killed when dropped.
struct ProcessGroup(Option<libc::pid_t>);

impl ProcessGroup {
    fn kill(&self) {
        if let Some(pgid) = self.0 {
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

enum Pipe {
    Out(tokio::process::ChildStdout),
    Err(tokio::process::ChildStderr),
}

impl Pipe {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Out(p) => p.read(buf).await,
            Self::Err(p) => p.read(buf).await,
        }
    }
}

/// Output up to a cap, decoded as UTF-8 across chunk boundaries.
struct CappedOutput {
    cap: usize,
    kept: usize,
    dropped: usize,
    carry: Vec<u8>,
    text: String,
    truncated: bool,
}

impl CappedOutput {
    fn new(cap: usize) -> Self {
        Self {
            cap,
            kept: 0,
            dropped: 0,
            carry: Vec::new(),
            text: String::new(),
            truncated: false,
        }
    }

    /// Takes a chunk; returns the text it adds, if any.
    fn push(&mut self, bytes: &[u8]) -> Option<String> {
        if self.kept >= self.cap {
            self.dropped += bytes.len();
            return None;
        }
        let room = self.cap - self.kept;
        let (take, rest) = bytes.split_at(bytes.len().min(room));
        self.kept += take.len();
        self.dropped += rest.len();
        self.carry.extend_from_slice(take);
        let valid = match std::str::from_utf8(&self.carry) {
            Ok(_) => self.carry.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => self.carry.len(),
        };
        let text = String::from_utf8_lossy(&self.carry[..valid]).into_owned();
        self.carry.drain(..valid);
        if !rest.is_empty() || self.kept >= self.cap {
            self.truncated = !rest.is_empty();
        }
        self.text.push_str(&text);
        (!text.is_empty()).then_some(text)
    }

    fn finish(&mut self) -> Option<String> {
        let mut tail = String::from_utf8_lossy(&std::mem::take(&mut self.carry)).into_owned();
        if self.dropped > 0 {
            self.truncated = true;
            tail.push_str(&format!(
                "\n[output cut at {} KiB; {} more bytes dropped]\n",
                self.cap >> 10,
                self.dropped
            ));
        }
        self.text.push_str(&tail);
        (!tail.is_empty()).then_some(tail)
    }
}

#[cfg(test)]
mod tests;
