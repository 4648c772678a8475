//! Worktrees a past run left: at start, the ones of workflows that ended with nothing
//! committed, and folders no workflow holds.

use crate::home::Home;
use crate::store::db::Db;
use crate::workflow::{Workflow, WorkflowId};

/// The worktrees of workflows that ended with nothing committed (killed mid-run, then marked
/// interrupted) are removed with their branches, and folders under the worktrees folder that
/// no workflow of the history holds go too; a committed change keeps its worktree and branch
/// until it is applied or discarded. Returns the history as it is now.
pub(super) fn prune_worktrees(db: &Db, home: &Home, mut history: Vec<Workflow>) -> Vec<Workflow> {
    let mut roots: Vec<std::path::PathBuf> = Vec::new();
    for w in history.iter_mut().filter(|w| !w.status().is_live()) {
        let Some(change) = w.change.as_mut() else {
            continue;
        };
        if !roots.contains(&change.project) {
            roots.push(change.project.clone());
        }
        if change.commit.is_some() || change.worktree.is_none() {
            continue;
        }
        match crate::project::land::discard(change) {
            Ok(()) => {
                tracing::info!(
                    "removed the worktree of {}, which ended with nothing committed",
                    w.id
                );
                change.worktree = None;
                if let Err(e) = db.set_change(&w.id, change) {
                    tracing::error!("cannot record the removed worktree of {}: {e}", w.id);
                }
            }
            Err(e) => tracing::warn!("cannot remove the worktree of {}: {e}", w.id),
        }
    }
    let held: Vec<&std::path::Path> = history
        .iter()
        .filter_map(|w| w.change.as_ref()?.worktree.as_deref())
        .collect();
    if let Ok(entries) = std::fs::read_dir(&home.worktrees_dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || held.contains(&path.as_path()) {
                continue;
            }
            // A worktree of a workflow deleted, or made just before its workflow recorded it
            // (left alone while that workflow is live).
            let live = history
                .iter()
                .any(|w| w.id.as_str() == name && w.status().is_live());
            if WorkflowId::parse(&name).is_some() && !live {
                let _ = std::fs::remove_dir_all(&path);
            }
        }
    }
    for root in roots {
        let _ = crate::project::git::Git::at(&root).run(&["worktree", "prune"]);
    }
    history
}
