//! `run`, `retry`, `delete` and `name`: workflows without the dashboard, for scripts and tests.

use crate::engine::Engine;
use crate::event::{Event, EventReceiver, Outcome, Recorded};
use crate::store::Store;
use crate::workflow::{WorkflowStatus, format_elapsed};
use std::io::Write;

/// Runs one workflow in the foreground, printing the seed's progress lines; 0 when it completed.
/// Also returns the workflow's id, when it could be started.
pub async fn run(
    engine: &Engine,
    events: &mut EventReceiver,
    description: String,
    out: &mut dyn Write,
) -> (i32, Option<crate::workflow::WorkflowId>) {
    match engine.start(description) {
        Ok(workflow) => {
            let id = workflow.id.clone();
            (follow(engine, events, workflow, out).await, Some(id))
        }
        Err(e) => {
            let _ = writeln!(out, "✗ {e}");
            (1, None)
        }
    }
}

/// Runs a past workflow's task again, linked to it, in the foreground.
pub async fn retry(
    engine: &Engine,
    events: &mut EventReceiver,
    query: &str,
    out: &mut dyn Write,
) -> i32 {
    let history = engine.take_history();
    let old = match crate::workflow::find(query, &history) {
        Ok(old) => old,
        Err(e) => {
            let _ = writeln!(out, "{e}");
            return 2;
        }
    };
    let _ = writeln!(out, "Retrying {} ({})", old.label(), old.id);
    match engine.start_retry(old.description.clone(), Some(&old.id)) {
        Ok(workflow) => follow(engine, events, workflow, out).await,
        Err(e) => {
            let _ = writeln!(out, "✗ {e}");
            1
        }
    }
}

/// Deletes a finished workflow and its folder.
pub fn delete(engine: &Engine, query: &str, out: &mut dyn Write) -> i32 {
    let history = engine.take_history();
    let id = match crate::workflow::find(query, &history) {
        Ok(w) => w.id.clone(),
        Err(e) => {
            let _ = writeln!(out, "{e}");
            return 2;
        }
    };
    if history.iter().any(|w| w.id == id && w.status().is_live()) {
        let _ = writeln!(
            out,
            "{id} is still live in another flotilla: cancel it there first"
        );
        return 1;
    }
    match engine.delete(&id) {
        Ok(()) => {
            let _ = writeln!(out, "Deleted {id}");
            0
        }
        Err(e) => {
            let _ = writeln!(out, "cannot delete {id}: {e}");
            1
        }
    }
}

/// Prints a started workflow's progress lines until it ends; 0 when it completed and its
/// ending is in the history.
async fn follow(
    engine: &Engine,
    events: &mut EventReceiver,
    workflow: crate::workflow::Workflow,
    out: &mut dyn Write,
) -> i32 {
    let id = workflow.id.clone();
    let mut store = Store::default();
    store.insert(workflow);
    let _ = writeln!(out, "Started workflow {id}");
    // SIGINT, SIGTERM and SIGHUP cancel the workflow; once its cancel is in the history, the
    // process exits 128 + the signal.
    let mut signals = crate::signals::StopSignals::new(true);
    let mut stopped_by: Option<i32> = None;
    let mut ending_unrecorded: Option<String> = None;
    loop {
        let event = tokio::select! {
            event = events.recv() => event,
            n = signals.recv(), if stopped_by.is_none() => {
                stopped_by = Some(n);
                engine.cancel(&id);
                continue;
            }
        };
        let Some(event) = event else { return 1 };
        if let Event::Unrecorded {
            id: of,
            what,
            error,
        } = &event
        {
            if *of == id {
                let _ = writeln!(out, "! cannot record {what}: {error}");
                if *what == Recorded::Ending {
                    ending_unrecorded = Some(error.clone());
                }
            }
            continue;
        }
        let Some(wf) = store.apply(&event) else {
            continue;
        };
        let Some(line) = progress_line(engine, wf, &event, ending_unrecorded.as_deref()) else {
            continue;
        };
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
        if let Event::Finished { outcome, .. } = &event {
            return match (stopped_by, outcome) {
                (Some(n), _) => crate::signals::exit_code(n),
                (None, Outcome::Completed(_)) if ending_unrecorded.is_none() => 0,
                _ => 1,
            };
        }
    }
}

/// The line `run` prints for an event of its workflow `wf` (as the event left it), if any:
/// the design's progress lines, and the ending with where the work is.
fn progress_line(
    engine: &Engine,
    wf: &crate::workflow::Workflow,
    event: &Event,
    ending_unrecorded: Option<&str>,
) -> Option<String> {
    let label = wf.label();
    Some(match event {
        Event::Status {
            status: WorkflowStatus::Naming,
            progress,
            ..
        } => format!("→ [naming] {progress}"),
        Event::Status { progress, .. } => format!("→ [{label}] {progress}"),
        Event::Named { source, .. } => format!("→ [{label}] {source}"),
        Event::Progress { progress, .. } => format!("[{label}] {progress}"),
        Event::Change { change, .. } if change.commit.is_none() && change.worktree.is_some() => {
            format!(
                "→ [{label}] on branch {} (base {})",
                change.branch,
                short(&change.base)
            )
        }
        Event::Finished { outcome, at, .. } => {
            ending_line(engine, wf, outcome, *at, ending_unrecorded)
        }
        Event::Change { .. }
        | Event::Log { .. }
        | Event::Health { .. }
        | Event::Load { .. }
        | Event::Artifact { .. }
        | Event::Unrecorded { .. }
        | Event::Others(_) => return None,
    })
}

/// "✓ [name] Completed in 4.2s" with the files or the branch; "✗ [name] failed: why" with
/// where what it made is kept.
fn ending_line(
    engine: &Engine,
    wf: &crate::workflow::Workflow,
    outcome: &Outcome,
    at: std::time::SystemTime,
    ending_unrecorded: Option<&str>,
) -> String {
    let (label, id) = (wf.label(), &wf.id);
    let kept = engine.home().workflow_dir(id);
    match (outcome, ending_unrecorded) {
        (Outcome::Completed(_), Some(error)) => format!(
            "✗ [{label}] completed, but the history could not record it: {error}\n  {} (what it made is kept here)",
            kept.display()
        ),
        (Outcome::Completed(result), None) => {
            let mut text = format!(
                "✓ [{label}] Completed in {}",
                format_elapsed(wf.elapsed(at))
            );
            match &wf.change {
                Some(change) => text.push_str(&branch_summary(change, id)),
                None => {
                    for file in &result.files {
                        text.push_str(&format!("\n  {}", result.dir.join(file).display()));
                    }
                }
            }
            text
        }
        (Outcome::Failed(reason), _) => match &wf.change {
            Some(change) => format!("✗ [{label}] failed: {reason}{}", branch_summary(change, id)),
            None => format!(
                "✗ [{label}] failed: {reason}\n  {} (what it made is kept here)",
                kept.display()
            ),
        },
    }
}

/// Prints the name the veryfast tier gives a description; how it was made goes to stderr.
pub async fn name(
    engine: &Engine,
    description: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let (name, source) = engine.suggest_name(description).await;
    let _ = writeln!(out, "{name}");
    let _ = writeln!(err, "({source})");
    0
}

/// The first characters of a commit id.
fn short(commit: &str) -> &str {
    commit.get(..10).unwrap_or(commit)
}

/// What `run` prints of a workflow's change at its end: the branch, the diffstat and what to
/// do next.
fn branch_summary(
    change: &crate::workflow::change::Change,
    id: &crate::workflow::WorkflowId,
) -> String {
    if change.commit.is_none() {
        return "\n  no change to the repository (its branch and worktree were removed)".to_owned();
    }
    let mut text = format!("\n  branch {}: {}", change.branch, change.stat());
    for file in &change.files {
        text.push_str(&format!("\n    {file}"));
    }
    text.push_str(&format!(
        "\n  flotilla diff {id} · flotilla apply {id} [--staged] · flotilla discard {id}"
    ));
    text
}
