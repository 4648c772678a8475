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

use super::{PROTECTIONS_MARKER, SANDBOX_ERROR_MARKER, Spec};
use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope,
};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, unshare};
use nix::sys::resource::{Resource, setrlimit};
use nix::sys::signal::{SigHandler, Signal, kill, signal};
use nix::sys::statvfs::{FsFlags, statvfs};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getppid, pivot_root};
use std::ffi::CString;
use std::io::{Read as _, Write as _};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// The system folders every run may read (those that exist).
const SYSTEM: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc",
];

/// What no run may read, though it lies in a folder it may: password hashes, sudo rules, host
/// keys, private TLS keys, Kerberos keys.
const SECRETS: &[&str] = &[
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
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom"];

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
        build_view(spec)?;
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

/// Builds the run's file view and makes it the root (see the module's comment).
fn build_view(spec: &Spec) -> Result<(), String> {
    // The scratch copy is read before anything is mounted over it.
    let scratch = read_tree(&spec.job.dir, 64 << 20)?;
    let m = |src: Option<&str>,
             target: &str,
             fstype: Option<&str>,
             flags: MsFlags,
             data: Option<&str>| {
        mount(src, target, fstype, flags, data).map_err(|e| format!("mount {target}: {e}"))
    };
    m(None, "/", None, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None)?;
    // A staging tmpfs on /tmp becomes the root for a moment; the host stays at /oldroot.
    m(
        Some("tmpfs"),
        "/tmp",
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some("mode=0755,size=1m"),
    )?;
    for dir in ["/tmp/newroot", "/tmp/oldroot", "/tmp/data"] {
        mkdir(Path::new(dir))?;
    }
    m(
        Some("tmpfs"),
        "/tmp/newroot",
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some("mode=0755,size=4m"),
    )?;
    let size = format!("mode=0755,size={}", spec.limits.disk_bytes.max(1 << 20));
    m(
        Some("tmpfs"),
        "/tmp/data",
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(&size),
    )?;
    pivot_root("/tmp", "/tmp/oldroot").map_err(|e| format!("pivot_root: {e}"))?;
    std::env::set_current_dir("/").map_err(|e| format!("chdir: {e}"))?;
    for dir in ["/data/work", "/data/tmp", "/data/shm"] {
        mkdir(Path::new(dir))?;
    }
    set_mode(Path::new("/data/tmp"), 0o1777)?;
    set_mode(Path::new("/data/shm"), 0o1777)?;
    write_tree(Path::new("/data/work"), &scratch)?;

    let old = |p: &Path| Path::new("/oldroot").join(p.strip_prefix("/").unwrap_or(p));
    let new = |p: &Path| Path::new("/newroot").join(p.strip_prefix("/").unwrap_or(p));
    // A private /tmp first, so a toolchain that lives under /tmp is bound inside it.
    bind(Path::new("/data/tmp"), Path::new("/newroot/tmp"), false)?;
    // Read-only: the system and the toolchains, parents before children.
    let mut read_only: Vec<PathBuf> = SYSTEM.iter().map(PathBuf::from).collect();
    read_only.extend(spec.job.read_only.iter().cloned());
    read_only.sort();
    read_only.dedup();
    let writable: Vec<&PathBuf> = spec.job.writable.iter().collect();
    for path in &read_only {
        if writable.iter().any(|w| path.starts_with(w)) {
            continue;
        }
        bind(&old(path), &new(path), true)?;
    }
    // /dev: a few nodes, and shared memory on the data tmpfs.
    let dev = Path::new("/newroot/dev");
    mkdir(dev)?;
    m(
        Some("tmpfs"),
        "/newroot/dev",
        Some("tmpfs"),
        MsFlags::MS_NOSUID,
        Some("mode=0755,size=64k"),
    )?;
    for node in DEVICES {
        bind(
            &Path::new("/oldroot/dev").join(node),
            &dev.join(node),
            false,
        )?;
    }
    for (link, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        std::os::unix::fs::symlink(target, dev.join(link))
            .map_err(|e| format!("/dev/{link}: {e}"))?;
    }
    bind(Path::new("/data/shm"), &dev.join("shm"), false)?;
    // /proc of this PID namespace only.
    mkdir(Path::new("/newroot/proc"))?;
    m(
        Some("proc"),
        "/newroot/proc",
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None,
    )?;
    // The scratch copy and the shared writable folders.
    bind(Path::new("/data/work"), &new(&spec.job.dir), false)?;
    for path in &writable {
        bind(&old(path), &new(path), false)?;
    }
    // Nothing over the secrets.
    for secret in SECRETS {
        let target = new(Path::new(secret));
        match std::fs::symlink_metadata(&target) {
            Ok(meta) if meta.is_dir() => m(
                Some("tmpfs"),
                &target.to_string_lossy(),
                Some("tmpfs"),
                MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
                Some("mode=0755,size=4k"),
            )?,
            Ok(meta) if meta.is_file() => bind(&dev.join("null"), &target, true)?,
            _ => {}
        }
    }
    // The view becomes the root; the staging root and the host's go away.
    std::env::set_current_dir("/newroot").map_err(|e| format!("chdir: {e}"))?;
    pivot_root(".", ".").map_err(|e| format!("pivot_root: {e}"))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(|e| format!("detaching the host: {e}"))?;
    std::env::set_current_dir("/").map_err(|e| format!("chdir: {e}"))?;
    m(
        None,
        "/",
        None,
        MsFlags::MS_REMOUNT
            | MsFlags::MS_BIND
            | MsFlags::MS_RDONLY
            | MsFlags::MS_NOSUID
            | MsFlags::MS_NODEV,
        None,
    )?;
    Ok(())
}

/// Binds `src` at `target` (creating the mount point), read-only or not. A symbolic link is
/// copied as a link; a missing source is skipped.
fn bind(src: &Path, target: &Path, read_only: bool) -> Result<(), String> {
    let Ok(meta) = std::fs::symlink_metadata(src) else {
        return Ok(());
    };
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    if meta.file_type().is_symlink() {
        let to = std::fs::read_link(src).map_err(|e| format!("{}: {e}", src.display()))?;
        if std::fs::symlink_metadata(target).is_err() {
            std::os::unix::fs::symlink(&to, target)
                .map_err(|e| format!("{}: {e}", target.display()))?;
        }
        return Ok(());
    }
    if meta.is_dir() {
        mkdir(target)?;
    } else if std::fs::symlink_metadata(target).is_err() {
        std::fs::File::create(target).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    mount(
        Some(src),
        target,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|e| format!("bind {}: {e}", src.display()))?;
    if read_only {
        // Every mount under it too (/etc/hosts and the like are often mounts of their own).
        for point in mounts_under(target) {
            remount_read_only(&point)?;
        }
    }
    Ok(())
}

/// `target` and the mount points below it, from /proc/self/mountinfo.
fn mounts_under(target: &Path) -> Vec<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut points: Vec<PathBuf> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(unescape_mountinfo)
        .filter(|p| p.starts_with(target))
        .collect();
    if points.is_empty() {
        points.push(target.to_owned());
    }
    points.sort();
    points.dedup();
    points
}

/// Mountinfo writes spaces, tabs, newlines and backslashes as octal escapes.
fn unescape_mountinfo(field: &str) -> PathBuf {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 3 < bytes.len()
            && bytes[i + 1..i + 4].iter().all(u8::is_ascii_digit)
        {
            let code =
                (bytes[i + 1] - b'0') * 64 + (bytes[i + 2] - b'0') * 8 + (bytes[i + 3] - b'0');
            out.push(code);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    use std::os::unix::ffi::OsStringExt as _;
    PathBuf::from(std::ffi::OsString::from_vec(out))
}

/// Remounts a bind read-only, keeping the flags the kernel locked on it (nosuid, nodev, …).
fn remount_read_only(point: &Path) -> Result<(), String> {
    let mut flags = MsFlags::MS_REMOUNT
        | MsFlags::MS_BIND
        | MsFlags::MS_RDONLY
        | MsFlags::MS_NOSUID
        | MsFlags::MS_NODEV;
    if let Ok(st) = statvfs(point) {
        let f = st.flags();
        for (fs, ms) in [
            (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
            (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
            (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
            (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
        ] {
            if f.contains(fs) {
                flags |= ms;
            }
        }
    }
    mount(None::<&str>, point, None::<&str>, flags, None::<&str>)
        .map_err(|e| format!("read-only {}: {e}", point.display()))
}

fn mkdir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))
}

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// A folder's files and subfolders (relative paths, contents and modes), up to `cap` bytes.
type Tree = Vec<(PathBuf, Option<(Vec<u8>, u32)>)>;

fn read_tree(root: &Path, cap: usize) -> Result<Tree, String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut out = Tree::new();
    let mut total = 0usize;
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = rel.join(entry.file_name());
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                out.push((path.clone(), None));
                stack.push(path);
            } else if meta.is_file() {
                total += meta.len() as usize;
                if total > cap {
                    return Err(format!("the scratch copy is over {} MiB", cap >> 20));
                }
                let bytes =
                    std::fs::read(entry.path()).map_err(|e| format!("{}: {e}", path.display()))?;
                out.push((path, Some((bytes, meta.permissions().mode()))));
            }
        }
    }
    Ok(out)
}

fn write_tree(root: &Path, tree: &Tree) -> Result<(), String> {
    for (rel, file) in tree {
        let path = root.join(rel);
        match file {
            None => mkdir(&path)?,
            Some((bytes, mode)) => {
                if let Some(parent) = path.parent() {
                    mkdir(parent)?;
                }
                std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
                set_mode(&path, mode & 0o7777)?;
            }
        }
    }
    Ok(())
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
    if program.contains('/') {
        return Ok(PathBuf::from(program));
    }
    let path = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_str())
        .unwrap_or("/usr/bin:/bin");
    use std::os::unix::fs::PermissionsExt as _;
    std::env::split_paths(path)
        .map(|d| d.join(program))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
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

/// Landlock: read and run the system and the toolchains, write the scratch copy, `/tmp` and the
/// shared folders; no TCP; no abstract Unix sockets or signals outside the sandbox.
fn restrict(spec: &Spec, view: bool) -> Result<landlock::RestrictionStatus, String> {
    let abi = ABI::V6;
    let err = |e: landlock::RulesetError| format!("landlock: {e}");
    let read = AccessFs::from_read(abi) | AccessFs::Execute;
    let all = AccessFs::from_all(abi);
    let mut readable: Vec<PathBuf> = SYSTEM.iter().map(PathBuf::from).collect();
    readable.extend(spec.job.read_only.iter().cloned());
    let mut rules: Vec<(PathBuf, landlock::BitFlags<AccessFs>)> = Vec::new();
    for path in &readable {
        for allowed in without_secrets(path) {
            rules.push((allowed, read));
        }
    }
    rules.push(("/proc".into(), AccessFs::from_read(abi)));
    for node in DEVICES {
        rules.push((Path::new("/dev").join(node), AccessFs::from_file(abi)));
    }
    rules.push((spec.job.dir.clone(), all));
    for path in &spec.job.writable {
        rules.push((path.clone(), all));
    }
    if view {
        rules.push(("/tmp".into(), all));
        rules.push(("/dev/shm".into(), all));
    }
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(all)
        .map_err(err)?
        .handle_access(AccessNet::from_all(abi))
        .map_err(err)?
        .scope(Scope::from_all(abi))
        .map_err(err)?
        .create()
        .map_err(err)?;
    for (path, access) in rules {
        let Ok(fd) = PathFd::new(&path) else {
            continue;
        };
        let is_file = std::fs::metadata(&path).is_ok_and(|m| !m.is_dir());
        let access = if is_file {
            access & AccessFs::from_file(abi)
        } else {
            access
        };
        ruleset = ruleset
            .add_rule(PathBeneath::new(fd, access))
            .map_err(err)?;
    }
    ruleset.restrict_self().map_err(err)
}

/// `path` itself, or, when a secret lies below it, its entries but the secrets (recursively
/// along the secrets' paths).
fn without_secrets(path: &Path) -> Vec<PathBuf> {
    let below: Vec<&Path> = SECRETS
        .iter()
        .map(Path::new)
        .filter(|s| s.starts_with(path))
        .collect();
    if below.contains(&path) {
        return Vec::new();
    }
    if below.is_empty() || !path.is_dir() {
        return vec![path.to_owned()];
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|e| without_secrets(&e.path()))
        .collect()
}

/// Makes `socket(AF_UNIX, …)` fail with EPERM (seccomp): without a file view, Landlock before
/// ABI 9 does not stop a connection to a host socket the run can see. `socketpair`, which
/// Python and node use between their own processes, stays allowed.
fn block_unix_sockets() -> Result<(), String> {
    use seccompiler::{
        BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
        SeccompRule,
    };
    let err = |e: seccompiler::BackendError| format!("seccomp: {e}");
    let arch = std::env::consts::ARCH
        .try_into()
        .map_err(|_| format!("seccomp: no filter for {}", std::env::consts::ARCH))?;
    let unix = SeccompCondition::new(
        0,
        SeccompCmpArgLen::Dword,
        SeccompCmpOp::Eq,
        libc::AF_UNIX as u64,
    )
    .map_err(err)?;
    let filter = SeccompFilter::new(
        [(
            libc::SYS_socket,
            vec![SeccompRule::new(vec![unix]).map_err(err)?],
        )]
        .into(),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(err)?;
    let program: BpfProgram = filter.try_into().map_err(err)?;
    seccompiler::apply_filter(&program).map_err(|e| format!("seccomp: {e}"))
}

/// Empties every capability set, the bounding set included, so nothing regains one on exec.
fn drop_capabilities() -> Result<(), String> {
    use caps::CapSet;
    let err = |e: caps::errors::CapsError| format!("capabilities: {e}");
    caps::clear(None, CapSet::Bounding).map_err(err)?;
    caps::clear(None, CapSet::Ambient).map_err(err)?;
    caps::clear(None, CapSet::Inheritable).map_err(err)?;
    caps::clear(None, CapSet::Effective).map_err(err)?;
    caps::clear(None, CapSet::Permitted).map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_are_read_back() {
        assert_eq!(
            unescape_mountinfo(r"/home/a\040b\011c"),
            PathBuf::from("/home/a b\tc")
        );
        assert_eq!(unescape_mountinfo("/usr"), PathBuf::from("/usr"));
    }

    #[test]
    fn secrets_are_carved_out_of_the_folders_around_them() {
        let etc = without_secrets(Path::new("/etc"));
        assert!(!etc.is_empty());
        for secret in SECRETS {
            assert!(
                !etc.iter().any(|p| Path::new(secret).starts_with(p)),
                "{secret} is reachable through {etc:?}"
            );
        }
        assert_eq!(without_secrets(Path::new("/usr")), [PathBuf::from("/usr")]);
        assert!(without_secrets(Path::new("/etc/shadow")).is_empty());
    }
}
