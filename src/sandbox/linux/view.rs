//! The run's file view, built by the init bubblewrap-style: a read-only tmpfs root holding
//! read-only binds of the system and the toolchains, the scratch copy on a size-limited tmpfs,
//! a private `/tmp` and `/dev/shm`, a few device nodes, a `/proc` of its own, and nothing over
//! the secrets.

use super::{DEVICES, SECRETS, SYSTEM};
use crate::sandbox::Spec;
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sys::statvfs::{FsFlags, statvfs};
use nix::unistd::pivot_root;
use std::path::{Path, PathBuf};

/// Builds the run's file view and makes it the root (see the module's comment).
pub(super) fn build_view(spec: &Spec) -> Result<(), String> {
    // The scratch copy is read before anything is mounted over it.
    let scratch = read_tree(&spec.job.dir, 64 << 20)?;
    stage(spec.limits.disk_bytes)?;
    write_tree(Path::new("/data/work"), &scratch)?;
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
    devices()?;
    // /proc of this PID namespace only.
    mkdir(Path::new("/newroot/proc"))?;
    mount_at(
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
    hide_secrets()?;
    enter()
}

/// `mount(2)`, its error naming the target.
fn mount_at(
    src: Option<&str>,
    target: &str,
    fstype: Option<&str>,
    flags: MsFlags,
    data: Option<&str>,
) -> Result<(), String> {
    mount(src, target, fstype, flags, data).map_err(|e| format!("mount {target}: {e}"))
}

/// A tmpfs at `target` with these options.
fn tmpfs(target: &str, flags: MsFlags, options: &str) -> Result<(), String> {
    mount_at(Some("tmpfs"), target, Some("tmpfs"), flags, Some(options))
}

/// A host path as the staging root sees it (`/oldroot/…`).
fn old(p: &Path) -> PathBuf {
    Path::new("/oldroot").join(p.strip_prefix("/").unwrap_or(p))
}

/// A path of the view being built (`/newroot/…`).
fn new(p: &Path) -> PathBuf {
    Path::new("/newroot").join(p.strip_prefix("/").unwrap_or(p))
}

/// A staging tmpfs on /tmp becomes the root for a moment, the host at /oldroot, with the
/// view's root at /newroot and the data tmpfs (the job's disk: its work folder, /tmp and
/// shared memory) at /data.
fn stage(disk_bytes: u64) -> Result<(), String> {
    let private = MsFlags::MS_REC | MsFlags::MS_PRIVATE;
    mount_at(None, "/", None, private, None)?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    tmpfs("/tmp", flags, "mode=0755,size=1m")?;
    for dir in ["/tmp/newroot", "/tmp/oldroot", "/tmp/data"] {
        mkdir(Path::new(dir))?;
    }
    tmpfs("/tmp/newroot", flags, "mode=0755,size=4m")?;
    tmpfs(
        "/tmp/data",
        flags,
        &format!("mode=0755,size={}", disk_bytes.max(1 << 20)),
    )?;
    pivot_root("/tmp", "/tmp/oldroot").map_err(|e| format!("pivot_root: {e}"))?;
    std::env::set_current_dir("/").map_err(|e| format!("chdir: {e}"))?;
    for dir in ["/data/work", "/data/tmp", "/data/shm"] {
        mkdir(Path::new(dir))?;
    }
    set_mode(Path::new("/data/tmp"), 0o1777)?;
    set_mode(Path::new("/data/shm"), 0o1777)
}

/// /dev: a few nodes, the standard links, and shared memory on the data tmpfs.
fn devices() -> Result<(), String> {
    let dev = Path::new("/newroot/dev");
    mkdir(dev)?;
    tmpfs("/newroot/dev", MsFlags::MS_NOSUID, "mode=0755,size=64k")?;
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
    bind(Path::new("/data/shm"), &dev.join("shm"), false)
}

/// Nothing over the secrets: an empty read-only folder over each folder, /dev/null over each
/// file.
fn hide_secrets() -> Result<(), String> {
    for secret in SECRETS {
        let target = new(Path::new(secret));
        match std::fs::symlink_metadata(&target) {
            Ok(meta) if meta.is_dir() => tmpfs(
                &target.to_string_lossy(),
                MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
                "mode=0755,size=4k",
            )?,
            Ok(meta) if meta.is_file() => {
                bind(Path::new("/newroot/dev/null"), &target, true)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The view becomes the root, read-only; the staging root and the host's go away.
fn enter() -> Result<(), String> {
    std::env::set_current_dir("/newroot").map_err(|e| format!("chdir: {e}"))?;
    pivot_root(".", ".").map_err(|e| format!("pivot_root: {e}"))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(|e| format!("detaching the host: {e}"))?;
    std::env::set_current_dir("/").map_err(|e| format!("chdir: {e}"))?;
    mount_at(
        None,
        "/",
        None,
        MsFlags::MS_REMOUNT
            | MsFlags::MS_BIND
            | MsFlags::MS_RDONLY
            | MsFlags::MS_NOSUID
            | MsFlags::MS_NODEV,
        None,
    )
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

pub(super) fn mkdir(dir: &Path) -> Result<(), String> {
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
}
