//! The programs the runners use, what of the machine each may read inside the sandbox, and
//! the scratch folders they run in.

use crate::language::Tool;
use crate::sandbox::find_program;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The programs and folders the runners use.
#[derive(Debug, Clone)]
pub struct Toolchain {
    pub python: String,
    pub node: String,
    pub cargo: String,
    /// Use pytest for Python when it can be imported (else flotilla's own runner).
    pub prefer_pytest: bool,
    /// Where scratch copies are made.
    pub scratch_dir: PathBuf,
    /// The project the runs happen in, for a workflow on a repository.
    pub project: Option<std::sync::Arc<ProjectSpace>>,
}

/// A project the runs happen in: its files are copied into each scratch folder, the code goes
/// at its place in it, the project's own environment is readable, and its tests can be run.
#[derive(Debug, Clone)]
pub struct ProjectSpace {
    /// The workflow's worktree, the files are copied from.
    pub root: PathBuf,
    /// The files copied: those tracked at the base.
    pub files: Vec<String>,
    pub layout: crate::project::Layout,
    /// Read-only: the project's virtual environment or node packages.
    pub read_only: Vec<PathBuf>,
    /// Variables naming a folder of the scratch copy (`PYTHONPATH` → `src`).
    pub env: Vec<(String, String)>,
    /// The project's own tests.
    pub command: Option<crate::project::TestCommand>,
}

impl ProjectSpace {
    /// Copies the project's files into `dir`.
    pub fn copy_into(&self, dir: &Path) -> std::io::Result<()> {
        for file in &self.files {
            let from = self.root.join(file);
            // A link or a file the checkout lacks is left out (the sandbox copies no links).
            let Ok(meta) = std::fs::symlink_metadata(&from) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            let to = dir.join(file);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::copy(&from, &to)?;
        }
        Ok(())
    }
}

impl Toolchain {
    pub fn new(cache_dir: &Path) -> Self {
        Self {
            python: "python3".into(),
            node: "node".into(),
            cargo: "cargo".into(),
            prefer_pytest: true,
            scratch_dir: cache_dir.join("scratch"),
            project: None,
        }
    }

    /// Whether `python -c "import pytest"` works (asked once per interpreter).
    pub fn has_pytest(&self) -> bool {
        static CACHE: OnceLock<std::sync::Mutex<std::collections::HashMap<String, bool>>> =
            OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
        *cache.entry(self.python.clone()).or_insert_with(|| {
            std::process::Command::new(&self.python)
                .args(["-c", "import pytest"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        })
    }
}

/// A toolchain's program and the folders it reads.
type Confinement = (String, Vec<PathBuf>);

impl Toolchain {
    /// The program `tool` names here and the folders it needs to read: Python's prefixes and
    /// import path (asked once per interpreter), node's prefix, or the Rust toolchain and the
    /// cargo registry. Never the home folder itself or `/`.
    pub fn confinement(&self, tool: Tool) -> (String, Vec<PathBuf>) {
        static CACHE: OnceLock<std::sync::Mutex<HashMap<String, Confinement>>> = OnceLock::new();
        let program = match tool {
            Tool::Python => &self.python,
            Tool::Node => &self.node,
            Tool::Cargo => &self.cargo,
        };
        let cache = CACHE.get_or_init(Default::default);
        let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .entry(format!("{tool:?}:{program}"))
            .or_insert_with(|| {
                let (program, paths) = match tool {
                    Tool::Python => python_paths(program),
                    Tool::Node => prefix_paths(program),
                    Tool::Cargo => rust_paths(program),
                };
                (program, readable_roots(paths))
            })
            .clone()
    }
}

/// The interpreter's own path and everything it imports from, asked of it.
fn python_paths(python: &str) -> (String, Vec<PathBuf>) {
    const ASK: &str = "import json, sys; print(json.dumps([sys.executable, sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix] + sys.path))";
    let answer = std::process::Command::new(python)
        .args(["-c", ASK])
        .current_dir("/")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    let list: Vec<String> = answer
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| serde_json::from_slice(&o.stdout).ok())
        .unwrap_or_default();
    match list.split_first() {
        Some((exe, rest)) if !exe.is_empty() => {
            let mut paths: Vec<PathBuf> = rest.iter().map(PathBuf::from).collect();
            paths.push(PathBuf::from(exe));
            (exe.clone(), paths)
        }
        _ => (python.to_owned(), Vec::new()),
    }
}

/// A program found on PATH, followed through its links, and the prefix it is installed in
/// (`…/bin/node` → `…`).
fn prefix_paths(program: &str) -> (String, Vec<PathBuf>) {
    let Some(found) = which(program) else {
        return (program.to_owned(), Vec::new());
    };
    let real = std::fs::canonicalize(&found).unwrap_or(found);
    let prefix = real
        .parent()
        .and_then(|bin| bin.parent())
        .map(Path::to_path_buf);
    (
        real.display().to_string(),
        prefix.into_iter().chain([real.clone()]).collect(),
    )
}

/// cargo, rustup's toolchains and the registry (read-only: tests build offline).
fn rust_paths(cargo: &str) -> (String, Vec<PathBuf>) {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let from_env = |key: &str, default: &str| {
        std::env::var_os(key)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(default)))
    };
    let mut paths: Vec<PathBuf> = [
        from_env("CARGO_HOME", ".cargo"),
        from_env("RUSTUP_HOME", ".rustup"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let program = match which(cargo) {
        Some(found) => {
            paths.push(found.clone());
            if let Ok(real) = std::fs::canonicalize(&found) {
                paths.extend(real.parent().and_then(Path::parent).map(Path::to_path_buf));
            }
            found.display().to_string()
        }
        None => cargo.to_owned(),
    };
    (program, paths)
}

/// `program` on PATH (or itself when it has a slash).
fn which(program: &str) -> Option<PathBuf> {
    find_program(program, &std::env::var_os("PATH")?)
}

/// The existing absolute paths of `paths`, minus `/`, the home folder and its ancestors
/// (a toolchain may live in the home, but the home is not a toolchain).
fn readable_roots(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut out: Vec<PathBuf> = paths
        .into_iter()
        .filter(|p| p.is_absolute() && p.exists())
        .filter(|p| p.parent().is_some())
        .filter(|p| home.as_ref().is_none_or(|h| !h.starts_with(p)))
        .collect();
    out.sort();
    out.dedup();
    out
}

impl Toolchain {
    /// Removes the scratch folders of flotilla processes that are gone (killed before they
    /// could clean up); returns how many. Folders of live processes, this one included, stay.
    pub fn sweep_scratch(&self) -> usize {
        // Liveness is read from /proc.
        if !cfg!(target_os = "linux") {
            return 0;
        }
        let Ok(entries) = std::fs::read_dir(&self.scratch_dir) else {
            return 0;
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name.split('-').nth(1).and_then(|p| p.parse::<u32>().ok());
            let Some(pid) = pid else { continue };
            if pid != std::process::id()
                && !Path::new(&format!("/proc/{pid}")).exists()
                && std::fs::remove_dir_all(entry.path()).is_ok()
            {
                removed += 1;
            }
        }
        removed
    }
}
