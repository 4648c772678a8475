//! Limits that hold for root too: each run gets cgroups of its own — under the v1 `pids` and
//! `memory` controllers, or one cgroup with both on a v2 (unified) hierarchy — where flotilla
//! may create them (as root, or with a delegated hierarchy). The memory limit counts shared
//! mappings and tmpfs pages, which RLIMIT_DATA does not; the process limit counts threads and
//! holds for root, which RLIMIT_NPROC does not.

use super::Limits;
use std::path::{Path, PathBuf};

const ROOT: &str = "/sys/fs/cgroup";

/// The cgroups of one run, removed when it ends.
pub struct Group {
    dirs: Vec<PathBuf>,
    pub pids: bool,
    pub memory: bool,
}

/// Where a run's cgroups live: `(v1 pids, v1 memory)` or the one v2 cgroup.
fn places(root: &Path, keeper: u32) -> Vec<PathBuf> {
    let name = format!("flotilla/run-{keeper}");
    if unified(root) {
        vec![root.join(name)]
    } else {
        vec![
            root.join("pids").join(&name),
            root.join("memory").join(&name),
        ]
    }
}

/// Whether the hierarchy is cgroup v2 only.
fn unified(root: &Path) -> bool {
    root.join("cgroup.controllers").is_file()
}

impl Group {
    /// Creates the run's cgroups with their limits; `None` where none can be written.
    pub fn create(limits: &Limits) -> Option<Self> {
        sweep(Path::new(ROOT));
        Self::create_in(Path::new(ROOT), std::process::id(), limits)
    }

    fn create_in(root: &Path, keeper: u32, limits: &Limits) -> Option<Self> {
        let mut group = Self {
            dirs: Vec::new(),
            pids: false,
            memory: false,
        };
        let places = places(root, keeper);
        let max = limits.memory_bytes.to_string();
        if unified(root) {
            let dir = &places[0];
            // Controllers must be handed down from the root to flotilla's cgroup to the run's.
            let flotilla = dir.parent().unwrap_or(root);
            if std::fs::create_dir_all(flotilla).is_err() {
                return None;
            }
            for parent in [root, flotilla] {
                let _ = std::fs::write(parent.join("cgroup.subtree_control"), "+pids +memory");
            }
            if std::fs::create_dir(dir).is_err() {
                return None;
            }
            group.pids =
                std::fs::write(dir.join("pids.max"), limits.max_processes.to_string()).is_ok();
            group.memory = std::fs::write(dir.join("memory.max"), &max).is_ok();
            if group.memory {
                let _ = std::fs::write(dir.join("memory.swap.max"), "0");
            }
            if !group.pids && !group.memory {
                let _ = std::fs::remove_dir(dir);
                return None;
            }
            group.dirs.push(dir.clone());
            return Some(group);
        }
        if make(
            &places[0],
            &[("pids.max", limits.max_processes.to_string())],
        ) {
            group.dirs.push(places[0].clone());
            group.pids = true;
        }
        if make(&places[1], &[("memory.limit_in_bytes", max.clone())]) {
            // Swap counted too where the kernel accounts for it.
            let _ = std::fs::write(places[1].join("memory.memsw.limit_in_bytes"), &max);
            group.dirs.push(places[1].clone());
            group.memory = true;
        }
        (!group.dirs.is_empty()).then_some(group)
    }

    /// Moves a process (and so its future children) into the run's cgroups; false if it
    /// could not be.
    pub fn add(&self, pid: i32) -> bool {
        self.dirs
            .iter()
            .all(|dir| std::fs::write(dir.join("cgroup.procs"), pid.to_string()).is_ok())
    }

    /// Kills what is still in the cgroups, then removes them once their processes are gone
    /// (the kernel may take a moment to let go of the last one).
    pub fn remove(self) {
        for dir in &self.dirs {
            for _ in 0..100 {
                kill_members(dir);
                match std::fs::remove_dir(dir) {
                    Ok(()) => break,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
                }
            }
        }
    }
}

/// Removes the cgroups of runs whose keeper is gone (killed before it could), killing what is
/// left in them first: they are a dead run's, so nothing else lives there. One attempt each;
/// what the kernel still holds is swept next time.
fn sweep(root: &Path) {
    let parents: Vec<PathBuf> = places(root, 0)
        .iter()
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    for parent in parents {
        let Ok(entries) = std::fs::read_dir(&parent) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = name
                .strip_prefix("run-")
                .and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            if Path::new(&format!("/proc/{pid}")).exists() {
                continue;
            }
            let dir = entry.path();
            kill_members(&dir);
            let _ = std::fs::remove_dir(&dir);
        }
    }
}

/// Sends SIGKILL to every process in a cgroup.
fn kill_members(dir: &Path) {
    let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
    for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
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
    let dirs: Vec<PathBuf> = places(Path::new(ROOT), keeper)
        .into_iter()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            max_processes: 64,
            memory_bytes: 256 << 20,
            ..Limits::default()
        }
    }

    #[test]
    fn a_v2_hierarchy_gets_one_cgroup_with_both_limits_and_the_controllers_handed_down() {
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(root.path().join("cgroup.controllers"), "cpu memory pids\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let group = Group::create_in(root.path(), 42, &limits());
        let group = group.unwrap_or_else(|| panic!("no cgroup"));
        assert!(group.pids && group.memory);
        let dir = root.path().join("flotilla/run-42");
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
        assert_eq!(read("pids.max"), "64");
        assert_eq!(read("memory.max"), (256u64 << 20).to_string());
        assert_eq!(read("memory.swap.max"), "0");
        let handed = std::fs::read_to_string(root.path().join("flotilla/cgroup.subtree_control"));
        assert_eq!(handed.unwrap_or_default(), "+pids +memory");
        assert_eq!(group.dirs, [dir]);
    }

    #[test]
    fn cgroups_of_dead_keepers_are_swept_and_live_ones_kept() {
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        // A pid above the kernel's pid_max cannot be alive; this process is.
        let dead = root.path().join("pids/flotilla/run-4194999");
        let live = root
            .path()
            .join(format!("memory/flotilla/run-{}", std::process::id()));
        for dir in [&dead, &live] {
            std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
        }
        sweep(root.path());
        assert!(!dead.exists() && live.exists());
    }

    #[test]
    fn a_v1_hierarchy_gets_a_pids_and_a_memory_cgroup() {
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let group = Group::create_in(root.path(), 7, &limits());
        let group = group.unwrap_or_else(|| panic!("no cgroup"));
        let pids = root.path().join("pids/flotilla/run-7");
        let memory = root.path().join("memory/flotilla/run-7");
        assert_eq!(
            std::fs::read_to_string(pids.join("pids.max")).unwrap_or_default(),
            "64"
        );
        assert_eq!(
            std::fs::read_to_string(memory.join("memory.limit_in_bytes")).unwrap_or_default(),
            (256u64 << 20).to_string()
        );
        assert_eq!(group.dirs, [pids, memory]);
    }
}
