//! Who runs a live workflow: the owning process as `pid:start`, its start time in clock ticks
//! since boot (Linux's `/proc/<pid>/stat`), so a pid the kernel gave to another process since
//! is not taken for the owner. Readers use it to tell a workflow whose process is gone from a
//! live one.

/// This process, as recorded in the workflows it creates.
pub fn this_process() -> String {
    let pid = std::process::id();
    format!("{pid}:{}", start_time(pid).unwrap_or(0))
}

/// Whether the process an owner names is still the one running.
pub fn alive(owner: &str) -> bool {
    let Some((pid, start)) = owner.split_once(':') else {
        return false;
    };
    let (Ok(pid), Ok(start)) = (pid.parse::<u32>(), start.parse::<u64>()) else {
        return false;
    };
    if pid == std::process::id() {
        return true;
    }
    match start_time(pid) {
        Some(now) => start == 0 || now == start,
        None => start == 0 && exists(pid),
    }
}

/// The start time of a process, in clock ticks since boot; `None` when there is no such
/// process (or, off Linux, no way to tell).
#[cfg(target_os = "linux")]
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces: fields are counted after its end.
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace();
    // A zombie (killed, not yet reaped) is as dead as a process can be.
    if matches!(fields.next(), Some("Z" | "X")) {
        return None;
    }
    // Field 22 of stat is the 19th after the state (field 3).
    fields.nth(18)?.parse().ok()
}

#[cfg(not(target_os = "linux"))]
fn start_time(_pid: u32) -> Option<u64> {
    None
}

/// Whether a process with this pid exists (used when no start time can be read).
#[cfg(not(unix))]
fn exists(_pid: u32) -> bool {
    // No way to tell: never take another process's workflow for dead.
    true
}

/// Whether a process with this pid exists (used when no start time can be read).
#[cfg(unix)]
fn exists(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 sends nothing; it only checks that the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_dead_one_is_not() {
        assert!(alive(&this_process()));
        let mut child = std::process::Command::new("true")
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        let pid = child.id();
        let owner = format!("{pid}:{}", start_time(pid).unwrap_or(1));
        child.wait().unwrap_or_else(|e| panic!("{e}"));
        assert!(!alive(&owner), "a reaped child is gone");
        assert!(!alive("garbage") && !alive("12:x"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_killed_process_not_yet_reaped_is_dead() {
        let mut child = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        let pid = child.id();
        let owner = format!("{pid}:{}", start_time(pid).unwrap_or(1));
        assert!(alive(&owner));
        child.kill().unwrap_or_else(|e| panic!("{e}"));
        // Not waited for yet: a zombie until then. Wait (with a deadline) for the kernel to
        // have made it one.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z"))
        {
            assert!(std::time::Instant::now() < deadline, "never a zombie");
            std::thread::yield_now();
        }
        assert!(!alive(&owner));
        child.wait().unwrap_or_else(|e| panic!("{e}"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_reused_pid_is_not_the_owner() {
        // PID 1 exists, but it started at another time than the one recorded.
        let start = start_time(1).unwrap_or_else(|| panic!("no /proc/1/stat"));
        assert!(alive(&format!("1:{start}")));
        assert!(!alive(&format!("1:{}", start + 1)));
    }
}
