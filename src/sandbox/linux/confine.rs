//! What the program does to itself before exec: Landlock, seccomp where there is no file
//! view, and no capabilities.

use super::{DEVICES, SECRETS, SYSTEM};
use crate::sandbox::Spec;
use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreatedAttr, Scope,
};
use std::path::{Path, PathBuf};

/// Landlock: read and run the system and the toolchains, write the scratch copy, `/tmp` and the
/// shared folders; no TCP; no abstract Unix sockets or signals outside the sandbox.
pub(super) fn restrict(spec: &Spec, view: bool) -> Result<landlock::RestrictionStatus, String> {
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
pub(super) fn block_unix_sockets() -> Result<(), String> {
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
pub(super) fn drop_capabilities() -> Result<(), String> {
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
