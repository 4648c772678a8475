//! Limits that hold for root too: each run gets cgroups of its own under the v1 `pids` and
//! `memory` controllers, where flotilla may create them (as root, or with a delegated
//! hierarchy). The memory limit counts shared mappings and tmpfs pages, which RLIMIT_DATA
//! does not; the process limit counts threads and holds for root, which RLIMIT_NPROC does not.

use super::Limits;
use std::path::{Path, PathBuf};

const V1: &str = "/sys/fs/cgroup";

/// The cgroups of one run, removed when it ends.
pub struct Group {
    dirs: Vec<PathBuf>,
    pub pids: bool,
    pub memory: bool,
}

impl Group {
    /// Creates the run's cgroups with their limits; `None` where none can be written.
    pub fn create(limits: &Limits) -> Option<Self> {
        let name = format!("flotilla/run-{}", std::process::id());
        let mut group = Self {
            dirs: Vec::new(),
            pids: false,
            memory: false,
        };
        let pids = Path::new(V1).join("pids").join(&name);
        if make(&pids, &[("pids.max", limits.max_processes.to_string())]) {
            group.dirs.push(pids);
            group.pids = true;
        }
        let memory = Path::new(V1).join("memory").join(&name);
        if make(
            &memory,
            &[("memory.limit_in_bytes", limits.memory_bytes.to_string())],
        ) {
            // Swap counted too where the kernel accounts for it.
            let _ = std::fs::write(
                memory.join("memory.memsw.limit_in_bytes"),
                limits.memory_bytes.to_string(),
            );
            group.dirs.push(memory);
            group.memory = true;
        }
        (!group.dirs.is_empty()).then_some(group)
    }

    /// Moves a process (and so its future children) into the run's cgroups.
    pub fn add(&self, pid: i32) {
        for dir in &self.dirs {
            let _ = std::fs::write(dir.join("cgroup.procs"), pid.to_string());
        }
    }

    /// Kills what is still in the cgroups, then removes them once their processes are gone
    /// (the kernel may take a moment to let go of the last one).
    pub fn remove(self) {
        for dir in &self.dirs {
            for _ in 0..100 {
                let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
                for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
                match std::fs::remove_dir(dir) {
                    Ok(()) => break,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
                }
            }
        }
    }
}

/// Creates a cgroup and writes its limits; false (and nothing left behind) if any step fails.
fn make(dir: &Path, settings: &[(&str, String)]) -> bool {
    if std::fs::create_dir_all(dir).is_err() {
        return false;
    }
    for (file, value) in settings {
        if std::fs::write(dir.join(file), value).is_err() {
            let _ = std::fs::remove_dir(dir);
            return false;
        }
    }
    true
}

/// Kills what is left in a run's cgroups and removes them, when its keeper was killed before
/// it could (a timeout, a cancel): called by flotilla with the keeper's pid. Without PID
/// namespaces, this is what ends the processes a timed-out run had set apart with setsid.
pub fn remove_left(keeper: u32) {
    let name = format!("flotilla/run-{keeper}");
    let dirs: Vec<PathBuf> = ["pids", "memory"]
        .iter()
        .map(|c| Path::new(V1).join(c).join(&name))
        .filter(|d| d.exists())
        .collect();
    if dirs.is_empty() {
        return;
    }
    let group = Group {
        dirs,
        pids: false,
        memory: false,
    };
    // The killed processes may take a moment to leave the cgroup.
    std::thread::spawn(move || group.remove());
}
