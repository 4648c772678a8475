//! Applying and discarding a workflow's change, for the dashboard and the command line alike:
//! the repository changed (see `project::land`), then the history told.

use crate::home::Home;
use crate::project::land::{self, Refusal};
use crate::store::db::Db;
use crate::workflow::Workflow;
use crate::workflow::change::{Change, Landed};

/// The message of the commit an apply makes: the workflow's name and task, and for a failed
/// one, that it failed and why.
pub fn apply_message(wf: &Workflow, change: &Change) -> String {
    let first = wf.description.lines().next().unwrap_or("").trim();
    let title: String = format!("{}: {first}", wf.label())
        .chars()
        .take(72)
        .collect();
    let failed = wf
        .error()
        .map(|e| format!("The workflow failed ({e}); applied on request.\n\n"))
        .unwrap_or_default();
    format!(
        "{title}\n\n{}\n\n{failed}Applied from flotilla workflow {} (branch {}).\n",
        wf.description.trim(),
        wf.id,
        change.branch
    )
}

/// Applies (or stages) a workflow's change and records it: the worktree goes, the branch stays
/// until discarded.
pub fn apply(home: &Home, db: &Db, wf: &Workflow, staged: bool) -> Result<Change, Refusal> {
    if wf.status().is_live() {
        return Err(Refusal::Git(format!(
            "{} is still running: wait for it to end",
            wf.id
        )));
    }
    let Some(change) = wf.change.clone() else {
        return Err(Refusal::Git(format!(
            "{} did not work on a repository",
            wf.id
        )));
    };
    let landed = land::apply(
        &change,
        wf.id.as_str(),
        &apply_message(wf, &change),
        staged,
        &home.journals_dir(),
    )?;
    let mut after = change.clone();
    after.landed = Some(landed);
    if land::drop_worktree(&change).is_ok() {
        after.worktree = None;
    }
    db.set_change(&wf.id, &after)
        .map_err(|e| Refusal::Git(format!("applied, but the history could not record it: {e}")))?;
    Ok(after)
}

/// Removes a workflow's worktree and branch and records it.
pub fn discard(db: &Db, wf: &Workflow) -> Result<Change, String> {
    if wf.status().is_live() {
        return Err(format!("{} is still running: cancel it first", wf.id));
    }
    let Some(change) = wf.change.clone() else {
        return Err(format!("{} did not work on a repository", wf.id));
    };
    land::discard(&change)?;
    let mut after = change;
    after.worktree = None;
    if after.landed.is_none() {
        after.landed = Some(Landed::Discarded);
    }
    db.set_change(&wf.id, &after).map_err(|e| e.to_string())?;
    Ok(after)
}
