//! `flotilla diff`, `apply` and `discard`: a workflow's change to its repository, shown, landed
//! on the user's branch (or staged), or thrown away. They read and write the history without
//! an engine, as `list` does.

use crate::engine::land::{apply as land, discard as throw_away};
use crate::home::Home;
use crate::project::land::Refusal;
use crate::store::db::Db;
use crate::workflow::Workflow;
use crate::workflow::change::{Change, Landed};

use serde_json::json;
use std::io::Write;

fn find(home: &Home, query: &str) -> anyhow::Result<(Db, Workflow, Change)> {
    let db = Db::open(&home.db_file)?;
    let all = db.load()?;
    let wf = crate::workflow::find(query, &all)?.clone();
    let Some(change) = wf.change.clone() else {
        anyhow::bail!("{} did not work on a repository: it has no branch", wf.id);
    };
    Ok((db, wf, change))
}

/// `flotilla diff <id>`: the workflow's change, or with `--json` its files and the patch.
pub fn diff(home: &Home, query: &str, as_json: bool, out: &mut dyn Write) -> anyhow::Result<i32> {
    let (_, wf, change) = find(home, query)?;
    let text = crate::project::land::diff_text(&change).map_err(|e| anyhow::anyhow!(e))?;
    if as_json {
        let value = json!({
            "id": wf.id,
            "branch": change.branch,
            "base": change.base,
            "commit": change.commit,
            "files": change.files,
            "lines": {"added": change.lines.0, "removed": change.lines.1},
            "diff": text,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(0);
    }
    if change.commit.is_none() {
        writeln!(out, "{} made no commit on {}", wf.id, change.branch)?;
        return Ok(1);
    }
    out.write_all(text.as_bytes())?;
    Ok(0)
}

/// `flotilla apply <id> [--staged]`.
pub fn apply(
    home: &Home,
    query: &str,
    staged: bool,
    as_json: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<i32> {
    // An apply a crash cut off is finished (or found never to have happened) first.
    for said in crate::project::land::recover(&home.journals_dir()) {
        writeln!(err, "{said}")?;
    }
    let (db, wf, _) = find(home, query)?;
    if let Some(reason) = wf.error().filter(|_| !wf.status().is_live()) {
        writeln!(
            err,
            "warning: {} failed ({reason}); applying the best code it tested",
            wf.id
        )?;
    }
    match land(home, &db, &wf, staged) {
        Ok(change) => {
            if as_json {
                let value = json!({"id": wf.id, "applied": true, "project": change});
                writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
            } else {
                match &change.landed {
                    Some(Landed::Applied { commit, onto }) => writeln!(
                        out,
                        "applied {} to {} as {} ({}); branch {} kept until discarded",
                        wf.id,
                        onto,
                        commit.get(..10).unwrap_or(commit),
                        change.stat(),
                        change.branch
                    )?,
                    _ => writeln!(
                        out,
                        "staged {}'s change in {} ({}): review it with git diff --cached",
                        wf.id,
                        change.project.display(),
                        change.stat()
                    )?,
                }
            }
            Ok(0)
        }
        Err(refusal) => {
            if as_json {
                let files = match &refusal {
                    Refusal::Dirty(f) | Refusal::Conflict(f) => f.clone(),
                    _ => Vec::new(),
                };
                let value = json!({"id": wf.id, "applied": false, "reason": refusal.to_string(), "files": files});
                writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
            } else {
                writeln!(err, "flotilla: not applied: {refusal}")?;
            }
            Ok(1)
        }
    }
}

/// `flotilla discard <id>`.
pub fn discard(
    home: &Home,
    query: &str,
    as_json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<i32> {
    let (db, wf, _) = find(home, query)?;
    let change = throw_away(&db, &wf).map_err(|e| anyhow::anyhow!(e))?;
    if as_json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(
                &json!({"id": wf.id, "discarded": true, "project": change})
            )?
        )?;
    } else {
        writeln!(
            out,
            "discarded {}: worktree and branch {} removed",
            wf.id, change.branch
        )?;
    }
    Ok(0)
}
