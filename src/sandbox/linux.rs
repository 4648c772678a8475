//! The Linux sandbox: `flotilla sandbox-exec SPEC` runs one program confined, in three
//! processes.
//!
//! - **The keeper** (flotilla's child) puts the run in cgroups where it may (root), then enters
//!   new user, mount, PID, network, IPC and UTS namespaces, forks the init, waits for it and
//!   exits as the program did.
//! - **The init** (PID 1 of the new PID namespace) builds the file view, bubblewrap-style: a
//!   read-only tmpfs root holding read-only binds of the system and the toolchains, the scratch
//!   copy on a size-limited tmpfs, a private `/tmp` and `/dev/shm` on that same tmpfs, a few
//!   device nodes, a `/proc` of its own, and empty files over the system's secrets. It forks the
//!   program and reaps; when the program ends, the init ends, and the kernel kills whatever the
//!   program left behind in the namespace (setsid'd, double-forked).
//! - **The program** sets its resource limits, restricts itself with Landlock (files, TCP,
//!   abstract Unix sockets and signals outside), drops every capability, and execs with the
//!   job's environment only.
//!
//! Every process dies with its parent (`PR_SET_PDEATHSIG`), so killing flotilla ends the run.
//! Where namespaces are not allowed, Landlock alone confines files (`/tmp` is then replaced by
//! a folder of the scratch copy); the first line on stderr says which protections held.

mod confine;
mod view;

use super::{PROTECTIONS_MARKER, SANDBOX_ERROR_MARKER, Spec};
use confine::{block_unix_sockets, drop_capabilities, restrict};
use landlock::RulesetStatus;
use nix::sched::{CloneFlags, unshare};
use nix::sys::resource::{Resource, setrlimit};
use nix::sys::signal::{SigHandler, Signal, kill, signal};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getppid};
use std::ffi::CString;
use std::io::{Read as _, Write as _};
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use view::mkdir;

/// The system folders every run may read (those that exist).
pub(super) const SYSTEM: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc",
];

/// What no run may read, though it lies in a folder it may: password hashes, sudo rules, host
/// keys, private TLS keys, Kerberos keys.
pub(super) const SECRETS: &[&str] = &[
    "/etc/shadow",
    "/etc/shadow-",
    "/etc/gshadow",
    "/etc/gshadow-",
    "/etc/sudoers",
    "/etc/sudoers.d",
    "/etc/ssh",
    "/etc/ssl/private",
    "/etc/security/opasswd",
    "/etc/krb5.keytab",
    "/etc/credstore",
    "/etc/credstore.encrypted",
];

/// Device nodes a run may use.
pub(super) const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom"];

/// Exit code of a run whose sandbox could not be set up.
const SETUP_FAILED: i32 = 125;

/// Which protections hold for this run, reported on the first line of stderr.
#[derive(Debug, Default)]
struct Held {
    namespaces: bool,
    view: bool,
    landlock: Option<RulesetStatus>,
    cgroup_pids: bool,
    cgroup_memory: bool,
    caps_dropped: bool,
    no_new_privs: bool,
    /// No Unix socket can be created (seccomp): where there is no file view to hide the
    /// host's sockets.
    unix_blocked: bool,
}

impl Held {
    fn line(&self, spec: &Spec) -> String {
        let landlock = match self.landlock {
            Some(RulesetStatus::FullyEnforced) => "landlock",
            Some(RulesetStatus::PartiallyEnforced) => "landlock(partial)",
            _ => "",
        };
        let fs = match (self.view, landlock.is_empty()) {
            (true, false) => format!("ns+{landlock}"),
            (true, true) => "ns".to_owned(),
            (false, false) => landlock.to_owned(),
            (false, true) => "none".to_owned(),
        };
        let ns = if self.namespaces { "ns" } else { "none" };
        let pid = if self.namespaces { "ns" } else { "group" };
        let net = match (self.namespaces, landlock.is_empty(), self.unix_blocked) {
            (true, false, _) => "ns+landlock",
            (true, true, _) => "ns",
            (false, false, true) => "landlock+seccomp",
            (false, false, false) => "landlock",
            (false, true, true) => "seccomp",
            (false, true, false) => "none",
        };
        let mem = if self.cgroup_memory {
            "cgroup"
        } else {
            "rlimit"
        };
        let procs = if self.cgroup_pids { "cgroup" } else { "rlimit" };
        let disk = if self.view {
            format!("tmpfs {} MiB", spec.limits.disk_bytes >> 20)
        } else {
            "per-file".to_owned()
        };
        let privs = match (self.no_new_privs, self.caps_dropped) {
            (true, true) => "no_new_privs,no caps",
            (true, false) => "no_new_privs",
            (false, true) => "no caps",
            (false, false) => "kept",
        };
        format!(
            "sandbox: fs={fs} pid={pid} net={net} ipc={ns} mem={mem} procs={procs} disk={disk} privs={privs}"
        )
    }
}

/// Runs `spec` confined; never returns.
pub fn exec(spec: &Spec) -> ! {
    match keeper(spec) {
        Ok(code) => std::process::exit(code),
        Err(e) => fail(&e),
    }
}

/// Says why the sandbox could not be set up, on stderr after a marker, and exits.
fn fail(why: &str) -> ! {
    let _ = writeln!(std::io::stderr(), "{SANDBOX_ERROR_MARKER}{why}");
    std::process::exit(SETUP_FAILED)
}

fn keeper(spec: &Spec) -> Result<i32, String> {
    die_with_parent()?;
    if getppid().as_raw() != spec.parent {
        return Err("flotilla ended before the run started".into());
    }
    setrlimit(Resource::RLIMIT_CORE, 0, 0).map_err(|e| format!("no core dumps: {e}"))?;
    let mut held = Held::default();
    let cgroup = super::cgroup::Group::create(&spec.limits);
    if let Some(group) = &cgroup {
        held.cgroup_pids = group.pids;
        held.cgroup_memory = group.memory;
    }
    held.namespaces = spec.namespaces && enter_namespaces().is_ok();
    let started = nix::unistd::pipe()
        .and_then(|go| Ok((go, nix::unistd::pipe()?)))
        .and_then(|p| {
            // SAFETY: this process is single-threaded (it runs nothing before this but the code
            // above).
            Ok((p, unsafe { fork() }?))
        });
    let (((go_read, go_write), (status_read, status_write)), forked) = match started {
        Ok(s) => s,
        Err(e) => {
            if let Some(group) = cgroup {
                group.remove();
            }
            return Err(format!("starting the run: {e}"));
        }
    };
    match forked {
        ForkResult::Child => {
            drop(go_write);
            drop(status_read);
            let code = match init(spec, held, go_read, status_write) {
                Ok(code) => code,
                Err(e) => fail(&e),
            };
            std::process::exit(code)
        }
        ForkResult::Parent { child } => {
            drop(go_read);
            drop(status_write);
            // The init learns whether it is in the cgroups, so the protections line is true.
            let added = cgroup.as_ref().is_some_and(|g| g.add(child.as_raw()));
            let mut go = std::fs::File::from(go_write);
            let _ = go.write_all(if added { b"g" } else { b"n" });
            drop(go);
            let init_status = wait_for(child);
            let mut relayed = String::new();
            let _ = std::fs::File::from(status_read).read_to_string(&mut relayed);
            if let Some(group) = cgroup {
                group.remove();
            }
            Ok(relay(&relayed, init_status))
        }
    }
}

/// Waits for `child`, retrying on interruption.
fn wait_for(child: Pid) -> Option<WaitStatus> {
    loop {
        match waitpid(child, None) {
            Ok(status) => return Some(status),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return None,
        }
    }
}

/// Ends this process the way the program ended: the same exit code, or the same signal.
fn relay(relayed: &str, init_status: Option<WaitStatus>) -> i32 {
    let (kind, value) = relayed.split_at(relayed.len().min(1));
    let value: i32 = value.trim().parse().unwrap_or(-1);
    match (kind, init_status) {
        ("E", _) => value,
        ("S", _) => raise(value),
        (_, Some(WaitStatus::Signaled(_, sig, _))) => raise(sig as i32),
        (_, Some(WaitStatus::Exited(_, code))) => code,
        _ => SETUP_FAILED,
    }
}

/// Dies of `sig` (no core: RLIMIT_CORE is 0), or exits 128 + sig if that signal is survived.
fn raise(sig: i32) -> i32 {
    if let Ok(sig) = Signal::try_from(sig) {
        // SAFETY: restoring the default action of a signal in a single-threaded process.
        let _ = unsafe { signal(sig, SigHandler::SigDfl) };
        let _ = kill(Pid::this(), sig);
    }
    128 + sig
}

fn die_with_parent() -> Result<(), String> {
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(|e| format!("parent-death signal: {e}"))
}

/// New user, mount, PID, network, IPC and UTS namespaces, the user's ids mapped to themselves:
/// root inside is not root outside, so nothing done inside reaches the host's network or
/// namespaces.
fn enter_namespaces() -> Result<(), String> {
    let uid = nix::unistd::getuid();
    let gid = nix::unistd::getgid();
    unshare(
        CloneFlags::CLONE_NEWUSER
            | CloneFlags::CLONE_NEWNS
            | CloneFlags::CLONE_NEWPID
            | CloneFlags::CLONE_NEWNET
            | CloneFlags::CLONE_NEWIPC
            | CloneFlags::CLONE_NEWUTS,
    )
    .map_err(|e| format!("namespaces: {e}"))?;
    std::fs::write("/proc/self/setgroups", "deny").map_err(|e| format!("setgroups: {e}"))?;
    std::fs::write("/proc/self/uid_map", format!("{uid} {uid} 1"))
        .map_err(|e| format!("uid map: {e}"))?;
    std::fs::write("/proc/self/gid_map", format!("{gid} {gid} 1"))
        .map_err(|e| format!("gid map: {e}"))?;
    Ok(())
}

fn init(spec: &Spec, mut held: Held, go: OwnedFd, status: OwnedFd) -> Result<i32, String> {
    die_with_parent()?;
    // Wait until the keeper has put this process in its cgroups.
    let mut byte = [0u8; 1];
    let _ = std::fs::File::from(go).read(&mut byte);
    if byte != *b"g" {
        held.cgroup_pids = false;
        held.cgroup_memory = false;
    }
    if held.namespaces {
        // A mount namespace of its own, so the keeper keeps the host's view (its cgroups).
        unshare(CloneFlags::CLONE_NEWNS).map_err(|e| format!("mount namespace: {e}"))?;
        view::build_view(spec)?;
        held.view = true;
        let _ = nix::unistd::sethostname("flotilla-sandbox");
    }
    if !held.namespaces {
        // No PID namespace to end with the program: what it leaves behind comes to this
        // process instead of PID 1, and is killed here.
        nix::sys::prctl::set_child_subreaper(true).map_err(|e| format!("subreaper: {e}"))?;
    }
    // SAFETY: single-threaded, as above.
    match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Child => {
            drop(status);
            match program(spec, held) {
                Ok(never) => match never {},
                Err(e) => fail(&e),
            }
        }
        ForkResult::Parent { child } => {
            // Reap everything (orphans come to PID 1) until the program ends.
            let ended = loop {
                match waitpid(None, None) {
                    Ok(WaitStatus::Exited(pid, code)) if pid == child => break format!("E{code}"),
                    Ok(WaitStatus::Signaled(pid, sig, _)) if pid == child => {
                        break format!("S{}", sig as i32);
                    }
                    Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
                    Err(e) => return Err(format!("waiting for the program: {e}")),
                }
            };
            if !held.namespaces {
                kill_orphans();
            }
            let _ = std::fs::File::from(status).write_all(ended.as_bytes());
            Ok(0)
        }
    }
}

/// Kills and reaps this process's children until none is left (those of the program that
/// outlived it were reparented here).
fn kill_orphans() {
    let me = std::process::id().to_string();
    for _ in 0..1000 {
        let children: Vec<i32> = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                    // "pid (comm) state ppid …": the comm may hold spaces and parentheses.
                    stat.rsplit_once(')')
                        .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                        == Some(me.as_str())
                })
            })
            .collect();
        if children.is_empty() {
            return;
        }
        for pid in children {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            let _ = waitpid(Pid::from_raw(pid), None);
        }
    }
}

/// The program's side: limits, Landlock, no capabilities, then exec.
fn program(spec: &Spec, mut held: Held) -> Result<std::convert::Infallible, String> {
    die_with_parent()?;
    let dir = &spec.job.dir;
    std::env::set_current_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut env = spec.job.env.clone();
    if !held.view {
        // No private /tmp: temporary files go in the scratch copy.
        let tmp = dir.join(".tmp");
        mkdir(&tmp)?;
        env.retain(|(k, _)| k != "TMPDIR");
        env.push(("TMPDIR".into(), tmp.display().to_string()));
    }
    // Rust ignores SIGPIPE in flotilla; the program gets the default back, as any program
    // started from a shell would.
    // SAFETY: restoring a default signal action in a single-threaded process.
    unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) }.map_err(|e| format!("SIGPIPE: {e}"))?;
    set_limits(spec)?;
    let status = restrict(spec, held.view)?;
    held.no_new_privs = status.no_new_privs;
    held.landlock = Some(status.ruleset);
    held.caps_dropped = drop_capabilities().is_ok();
    if !held.view {
        held.unix_blocked = block_unix_sockets().is_ok();
    }
    if !held.view
        && matches!(held.landlock, Some(RulesetStatus::NotEnforced) | None)
        && !spec.limits.permissive
    {
        return Err(
            "files cannot be confined on this machine (no user namespaces and no Landlock); set sandbox = \"permissive\" in config.toml to run tests anyway"
                .into(),
        );
    }
    let program = resolve(&spec.job.program, &env)?;
    let _ = writeln!(std::io::stderr(), "{PROTECTIONS_MARKER}{}", held.line(spec));
    let c = |s: &str| CString::new(s).map_err(|_| format!("a NUL byte in {s:?}"));
    let mut argv = vec![c(&spec.job.program)?];
    for a in &spec.job.args {
        argv.push(c(a)?);
    }
    let envp: Vec<CString> = env
        .iter()
        .map(|(k, v)| c(&format!("{k}={v}")))
        .collect::<Result<_, _>>()?;
    let path = c(&program.to_string_lossy())?;
    let Err(e) = nix::unistd::execve(&path, &argv, &envp);
    // Past the protections line, this is the run's own output, as a shell would say it.
    let _ = writeln!(std::io::stderr(), "cannot start {}: {e}", spec.job.program);
    std::process::exit(127)
}

/// `program` itself when it has a slash, else its first match on the job's PATH.
fn resolve(program: &str, env: &[(String, String)]) -> Result<PathBuf, String> {
    let path = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_str())
        .unwrap_or("/usr/bin:/bin");
    super::find_program(program, std::ffi::OsStr::new(path))
        .ok_or_else(|| format!("{program} is not on PATH inside the sandbox"))
}

fn set_limits(spec: &Spec) -> Result<(), String> {
    let l = &spec.limits;
    for (resource, value) in [
        (Resource::RLIMIT_CPU, l.cpu_seconds),
        (Resource::RLIMIT_DATA, l.memory_bytes),
        (Resource::RLIMIT_FSIZE, l.file_size_bytes),
        (Resource::RLIMIT_NPROC, l.max_processes),
        (Resource::RLIMIT_CORE, 0),
    ] {
        setrlimit(resource, value, value).map_err(|e| format!("limit {resource:?}: {e}"))?;
    }
    Ok(())
}
