//! A workflow's task once started: its name, its run slot, the pipeline, and `result.json`.

use super::naming;
use super::{Inner, lock};
use crate::config::Tier;
use crate::event::{Event, Outcome, Recorded};
use crate::pipeline::worklog::WorkLog;
use crate::pipeline::{self, StageContext};
use crate::provider::ChatRequest;
use crate::workflow::NameSource;
use crate::workflow::record::SharedRecord;
use crate::workflow::{Failure, Workflow, WorkflowId, WorkflowResult, WorkflowStatus, folder};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::SystemTime;
use tokio_util::sync::CancellationToken;

pub(super) async fn run(
    inner: &Arc<Inner>,
    id: &WorkflowId,
    description: &str,
    log: &WorkLog,
    record: &SharedRecord,
    cancel: &CancellationToken,
) -> Result<WorkflowResult, Failure> {
    if description.trim().is_empty() {
        return Err(Failure::EmptyDescription);
    }
    inner.emit(Event::Status {
        id: id.clone(),
        status: WorkflowStatus::Naming,
        progress: "Generating workflow name...".into(),
    });
    let started = std::time::Instant::now();
    let Naming {
        name: candidate,
        source,
        usage,
    } = suggest_name(inner, description).await;
    record.add_seconds("naming", started.elapsed().as_secs_f64());
    if let Some(usage) = usage {
        record.add_tokens(Tier::Veryfast.as_str(), usage);
    }
    let name = lock(&inner.names).reserve(&candidate);
    record.lock().name = Some(name.clone());
    log.line(&format!("name: {name} ({source})"));
    inner.emit(Event::Named {
        id: id.clone(),
        name: name.clone(),
        source,
    });
    let repo = match &inner.config.project {
        Some(project) => Some(on_repo(inner, id, &name, project, log, record)?),
        None => None,
    };

    let permit = match inner.try_slot() {
        Some(slot) => slot,
        None => {
            inner.emit(Event::Status {
                id: id.clone(),
                status: WorkflowStatus::Queued,
                progress: "Waiting for a run slot...".into(),
            });
            log.line("waiting for a run slot");
            inner.slot().await?
        }
    };
    inner.emit(Event::Status {
        id: id.clone(),
        status: WorkflowStatus::Running,
        progress: "Starting workflow...".into(),
    });
    log.line(&format!("→ [{name}] Starting workflow..."));
    let cx = StageContext {
        host: inner.as_ref(),
        id,
        description,
        dir: inner.home.workflow_dir(id),
        log,
        record,
        cancel,
        waits: Default::default(),
        repo: repo.as_ref(),
        placed: Default::default(),
    };
    let result = pipeline::run(&cx).await;
    drop(permit);
    result
}

/// The workflow's worktree and branch on the repository, from its base: the commit of `HEAD`
/// (or `base`) now. Recorded before anything runs.
fn on_repo(
    inner: &Inner,
    id: &WorkflowId,
    name: &str,
    project: &crate::project::Project,
    log: &WorkLog,
    record: &SharedRecord,
) -> Result<pipeline::OnRepo, Failure> {
    let base = project.base_commit().map_err(Failure::Project)?;
    let path = inner.home.worktrees_dir.join(id.as_str());
    let made = crate::project::worktree::create(&project.root, &path, id.seq(), name, &base)
        .map_err(Failure::Project)?;
    let files = crate::project::git::Git::at(&made.path)
        .tracked_files()
        .map_err(|e| Failure::Project(e.to_string()))?;
    let change = crate::workflow::change::Change {
        project: project.root.clone(),
        base: base.clone(),
        branch: made.branch.clone(),
        worktree: Some(made.path.clone()),
        commit: None,
        files: Vec::new(),
        lines: (0, 0),
        landed: None,
    };
    log.line(&format!(
        "on {} ({}): branch {} from {}, worktree {}",
        project.root.display(),
        project.kind.as_str(),
        made.branch,
        base.get(..10).unwrap_or(&base),
        made.path.display()
    ));
    record.lock().change = Some(change.clone());
    inner.emit(Event::Change {
        id: id.clone(),
        change: change.clone(),
    });
    Ok(pipeline::OnRepo {
        project: project.clone(),
        change,
        files,
    })
}

/// A name and how it was made.
pub(super) struct Naming {
    pub(super) name: String,
    pub(super) source: NameSource,
    /// Tokens in and out, when the model answered.
    usage: Option<(u64, u64)>,
}

pub(super) async fn suggest_name(inner: &Inner, description: &str) -> Naming {
    let (provider, tier) = inner.tier(Tier::Veryfast);
    let request = ChatRequest {
        model: tier.model.clone(),
        messages: naming::prompt(description),
        max_tokens: Some(naming::MAX_TOKENS),
        temperature: Some(tier.temperature.unwrap_or(0.0)),
        seed: None,
        stop: Vec::new(),
        urgent: true,
    };
    let timeout = inner.config.naming_timeout;
    let why = match tokio::time::timeout(timeout, provider.chat(&request, &mut |_| {})).await {
        Err(_) => format!(
            "the veryfast model did not answer within {}s",
            timeout.as_secs_f64()
        ),
        Ok(Err(e)) => format!("the veryfast model failed: {e}"),
        Ok(Ok(reply)) => match naming::clean_reply(&reply.text) {
            Ok(name) => {
                return Naming {
                    name,
                    source: NameSource::Model,
                    usage: Some(reply.usage(&request)),
                };
            }
            Err(why) => why,
        },
    };
    tracing::info!(%why, "naming fell back to keywords");
    Naming {
        name: naming::fallback(description),
        source: NameSource::Fallback(why),
        usage: None,
    }
}

/// Writes `result.json`: the workflow's summary, whatever its ending (documented in docs/quality.md).
pub(super) fn write_result_json(
    dir: &std::path::Path,
    workflow: &Workflow,
    ended: SystemTime,
    outcome: &Result<WorkflowResult, Failure>,
    record: &SharedRecord,
) -> std::io::Result<()> {
    let record = record.lock();
    let secs = crate::workflow::unix_secs;
    let summary = serde_json::json!({
        "id": workflow.id,
        "name": record.name,
        "description": workflow.description,
        "status": if outcome.is_ok() { "completed" } else { "failed" },
        "error": outcome.as_ref().err().map(Failure::to_string),
        "language": record.language,
        "files": record.files,
        "main_file": outcome.as_ref().ok().and_then(|r| r.main_file.clone()),
        "attempts": record.attempts,
        "tests": { "passed": record.tests_passed, "failed": record.tests_failed },
        "candidates": record.candidates,
        "suites": record.suites,
        "tokens": record.tokens,
        "seconds": record.seconds,
        "started_at": secs(workflow.start_time),
        "ended_at": secs(ended),
        "elapsed_s": ((secs(ended) - secs(workflow.start_time)) * 1000.0).round() / 1000.0,
        "dir": dir,
        "project": record.change,
    });
    std::fs::create_dir_all(dir)?;
    // Written whole, then renamed, so a reader never sees half a file.
    let partial = dir.join(folder::RESULT_PARTIAL);
    std::fs::write(
        &partial,
        serde_json::to_vec_pretty(&summary).map_err(std::io::Error::other)?,
    )?;
    std::fs::rename(partial, dir.join(folder::RESULT))
}

/// A workflow's task from start to end: its log opened, the run (or its cancelling), an
/// unused worktree removed, `result.json` written, the history told, and the ending sent;
/// then shutdown may go on.
pub(super) async fn supervise(
    inner: &Arc<Inner>,
    id: &WorkflowId,
    description: &str,
    workflow: &Workflow,
    token: &CancellationToken,
) {
    let dir = inner.home.workflow_dir(id);
    let log = WorkLog::open(id.clone(), &dir, inner.events.clone());
    log.line(&format!("Task: {description}"));
    let record = SharedRecord::default();
    // Cancelling drops the workflow's future, which kills any tests it is running.
    let outcome = tokio::select! {
        _ = token.cancelled() => Err(Failure::Cancelled {
            at_exit: inner.exiting.load(Ordering::SeqCst),
        }),
        // A reason may quote a server or a test: it is kept and shown without control
        // sequences, everywhere.
        result = run(inner, id, description, &log, &record, token) => {
            result.map_err(Failure::sanitized)
        }
    };
    drop_unused_change(inner, id, &log, &record);
    let ended = SystemTime::now();
    if let Err(e) = write_result_json(&dir, workflow, ended, &outcome, &record) {
        log.line(&format!("cannot write result.json: {e}"));
    }
    let outcome = match outcome {
        Ok(result) => Outcome::Completed(result),
        Err(failure) => {
            log.end_stream();
            log.line(&format!("failed: {failure}"));
            Outcome::Failed(failure)
        }
    };
    if let Err(e) = inner.db.record(id, &record.lock()) {
        inner.unrecorded(id, Recorded::Stages, &e.to_string());
    }
    inner.emit(Event::Finished {
        id: id.clone(),
        outcome,
        at: ended,
    });
    // Only now is the ending in the history: shutdown waits for this.
    lock(&inner.cancels).remove(id);
    inner.finished.notify_waiters();
    super::give_memory_back();
}

/// A change on a repository with nothing committed leaves nothing behind: its worktree and
/// branch go, and the dashboard is told.
fn drop_unused_change(inner: &Inner, id: &WorkflowId, log: &WorkLog, record: &SharedRecord) {
    let unused = record
        .lock()
        .change
        .clone()
        .filter(|c| c.commit.is_none() && c.worktree.is_some());
    let Some(mut change) = unused else {
        return;
    };
    match crate::project::land::discard(&change) {
        Ok(()) => {
            log.line(&format!(
                "nothing was committed: worktree and branch {} removed",
                change.branch
            ));
            change.worktree = None;
            record.lock().change = Some(change.clone());
            inner.emit(Event::Change {
                id: id.clone(),
                change,
            });
        }
        Err(e) => log.line(&format!("cannot remove the worktree: {e}")),
    }
}
