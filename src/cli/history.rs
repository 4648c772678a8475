//! `flotilla list`, `show` and `logs`: the history, read from the database while a dashboard
//! may be running on the same home (WAL lets readers and the writer work at once).

use crate::home::Home;
use crate::store::db::{Db, HomeLock};
use crate::workflow::{
    Failure, Outcome, Transition, Workflow, WorkflowStatus, format_elapsed, unix_secs,
};
use serde_json::{Value, json};
use std::io::Write;
use std::time::{Duration, SystemTime};

/// One workflow as `--json` prints it (the fields are documented in docs/headless.md).
/// `started` is when it first ran ([`Db::started_times`]).
pub fn to_json(home: &Home, wf: &Workflow, started: Option<SystemTime>, now: SystemTime) -> Value {
    json!({
        "id": wf.id,
        "name": wf.name,
        "description": wf.description,
        "status": wf.status(),
        "progress": wf.progress,
        "error": wf.error(),
        "created_at": unix_secs(wf.start_time),
        "started_at": started.map(unix_secs),
        "ended_at": wf.end_time.map(unix_secs),
        "elapsed_s": (wf.elapsed(now).as_secs_f64() * 10.0).round() / 10.0,
        "dir": home.workflow_dir(&wf.id),
        "result": wf.result(),
        "retry_of": wf.retry_of,
        "project": wf.change,
    })
}

/// The history as it stands: workflows whose process is gone are marked interrupted (those that
/// name no owner only when no flotilla holds the home). When that cannot be written (a full
/// disk, a read-only home), they are still shown as interrupted.
fn history(home: &Home) -> anyhow::Result<(Db, Vec<Workflow>)> {
    let db = Db::open(&home.db_file)?;
    let nobody = HomeLock::is_free(&home.lock_file());
    let orphans = db.orphans(nobody)?;
    let marked = db.mark_interrupted(&orphans).is_ok();
    let mut all = db.load()?;
    if !marked {
        let outcome = Outcome::Failed(Failure::Interrupted);
        let ended = Transition::Finished {
            outcome: &outcome,
            at: SystemTime::now(),
        };
        for wf in all.iter_mut().filter(|w| orphans.contains(&w.id)) {
            ended.apply(wf);
        }
    }
    Ok((db, all))
}

/// `flotilla list`: the dashboard's table, oldest first.
pub fn list(
    home: &Home,
    status: Option<WorkflowStatus>,
    as_json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<i32> {
    let (db, all) = history(home)?;
    let now = SystemTime::now();
    let all: Vec<Workflow> = all
        .into_iter()
        .filter(|w| status.is_none_or(|s| w.status() == s))
        .collect();
    if as_json {
        let started = db.started_times()?;
        let items: Vec<Value> = all
            .iter()
            .map(|w| to_json(home, w, started.get(&w.id).copied(), now))
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&items)?)?;
        return Ok(0);
    }
    // The dashboard's columns, in its order.
    let id_w = all
        .iter()
        .map(|w| w.id.as_str().len())
        .max()
        .unwrap_or(2)
        .max(2);
    let name_w = all
        .iter()
        .map(|w| w.label().len())
        .max()
        .unwrap_or(4)
        .max(4);
    let progress_w = all
        .iter()
        .map(|w| w.progress.chars().count())
        .max()
        .unwrap_or(8)
        .clamp(8, 60);
    let clip = |p: &str| -> String {
        if p.chars().count() > progress_w {
            format!("{}…", p.chars().take(progress_w - 1).collect::<String>())
        } else {
            p.to_owned()
        }
    };
    writeln!(
        out,
        "{:<id_w$}  {:<name_w$}  {:<9}  {:<progress_w$}  {:>7}",
        "ID", "Name", "Status", "Progress", "Time"
    )?;
    for w in &all {
        writeln!(
            out,
            "{:<id_w$}  {:<name_w$}  {:<9}  {:<progress_w$}  {:>7}",
            w.id.as_str(),
            w.label(),
            w.status().as_str(),
            clip(&w.progress),
            format_elapsed(w.elapsed(now))
        )?;
    }
    Ok(0)
}

fn find(all: Vec<Workflow>, query: &str) -> anyhow::Result<Workflow> {
    Ok(crate::workflow::find(query, &all)?.clone())
}

/// `flotilla show <id>`: the seed's `/wf` view.
pub fn show(home: &Home, query: &str, as_json: bool, out: &mut dyn Write) -> anyhow::Result<i32> {
    let (db, all) = history(home)?;
    let wf = find(all, query)?;
    let now = SystemTime::now();
    if as_json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&to_json(
                home,
                &wf,
                db.started_times()?.get(&wf.id).copied(),
                now
            ))?
        )?;
        return Ok(0);
    }
    for field in crate::workflow::view::fields(&wf, &home.workflow_dir(&wf.id), now) {
        writeln!(out, "{} {}", field.label, field.value)?;
    }
    Ok(0)
}

/// `flotilla logs <id> [--follow]`: its log; following prints new lines until it ends.
pub fn logs(home: &Home, query: &str, follow: bool, out: &mut dyn Write) -> anyhow::Result<i32> {
    let (db, all) = history(home)?;
    let wf = find(all, query)?;
    let path = home.workflow_dir(&wf.id).join(crate::workflow::folder::LOG);
    let mut printed = 0usize;
    loop {
        let text = std::fs::read(&path).unwrap_or_default();
        if text.len() > printed {
            out.write_all(&text[printed..])?;
            out.flush()?;
            printed = text.len();
        }
        if !follow {
            return Ok(0);
        }
        // A workflow whose process died is over too.
        let orphaned = db.orphans(false)?.contains(&wf.id);
        let live = !orphaned
            && db
                .load()?
                .into_iter()
                .find(|w| w.id == wf.id)
                .is_some_and(|w| w.status().is_live());
        if !live {
            // One last read: the end of the log was written before the status changed.
            let text = std::fs::read(&path).unwrap_or_default();
            out.write_all(text.get(printed..).unwrap_or_default())?;
            return Ok(0);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}
