//! History in SQLite (`<home>/flotilla.db`, WAL): every workflow with its fields, its state
//! changes with times, its stage times and token counts. Logs and artifacts stay as files.
//! Every state change is written here before the dashboard hears of it.

use crate::event::Event;
use crate::workflow::record::Record;
use crate::workflow::{
    Failure, Outcome, Transition, Workflow, WorkflowId, WorkflowStatus, unix_secs,
};
use rusqlite::{Connection, params};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

mod lock;
mod owner;
mod schema;
pub use lock::HomeLock;

/// How long one statement waits for another process's lock before SQLite reports it busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a write keeps being tried again while the database stays busy.
const RETRY_FOR: Duration = Duration::from_secs(60);

pub use crate::workflow::INTERRUPTED;

/// The SQL condition for a live workflow: its status is one `WorkflowStatus::is_live` accepts.
fn live() -> String {
    let live: Vec<String> = WorkflowStatus::ALL
        .into_iter()
        .filter(|s| s.is_live())
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    format!("status IN ({})", live.join(", "))
}

mod read;
use read::rows;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("{path}: {message}")]
    Schema { path: PathBuf, message: String },
}

pub struct Db {
    path: PathBuf,
    conn: Mutex<Connection>,
    /// This process, as written in the workflows it creates (see [`owner`]).
    owner: String,
}

/// Whether an error means another connection holds the lock (try again) rather than a fault.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Runs `f` again while the database is busy, with a growing pause, for up to [`RETRY_FOR`].
/// SQLite's own busy handler does not cover every case: a lock held through a checkpoint or
/// WAL recovery, or a schema change, can still give SQLITE_BUSY at once.
fn retrying<T>(mut f: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let deadline = std::time::Instant::now() + RETRY_FOR;
    let mut pause = Duration::from_millis(2);
    loop {
        match f() {
            Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(250));
            }
            other => return other,
        }
    }
}

fn time(secs: f64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs_f64(secs.max(0.0))
}

fn status_from(text: &str) -> WorkflowStatus {
    text.parse().unwrap_or(WorkflowStatus::Failed)
}

impl Db {
    /// Opens (creating or migrating) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let err = |source| DbError::Sqlite {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let mut conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
        retrying(|| conn.pragma_update(None, "journal_mode", "WAL")).map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err)?;
        let migrated = retrying(|| match schema::migrate(&mut conn) {
            Err(schema::MigrateError::Sqlite(e)) => Err(e),
            other => Ok(other),
        })
        .map_err(err)?;
        migrated.map_err(|e| match e {
            schema::MigrateError::Sqlite(source) => DbError::Sqlite {
                path: path.to_owned(),
                source,
            },
            schema::MigrateError::TooNew(v) => DbError::Schema {
                path: path.to_owned(),
                message: format!(
                    "schema version {v} is newer than this flotilla understands ({}); upgrade flotilla",
                    schema::VERSION
                ),
            },
        })?;
        Ok(Self {
            path: path.to_owned(),
            conn: Mutex::new(conn),
            owner: owner::this_process(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn wrap(&self, source: rusqlite::Error) -> DbError {
        DbError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Runs `f` in one IMMEDIATE transaction (the write lock is taken at its start, so two
    /// writers never deadlock upgrading a read), again while the database is busy.
    fn write<T>(
        &self,
        mut f: impl FnMut(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, DbError> {
        let mut conn = self.conn();
        retrying(|| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })
        .map_err(|e| self.wrap(e))
    }

    /// Creates a workflow with the next id counter, which is unique across every process
    /// writing to this database, owned by this process.
    pub fn create(
        &self,
        description: &str,
        now: SystemTime,
        retry_of: Option<&WorkflowId>,
    ) -> Result<Workflow, DbError> {
        self.write(|tx| {
            // The counter outlives deleted rows, so an id is never given twice.
            let seq: i64 = tx.query_row(
                "UPDATE counters SET value = MAX(value, (SELECT COALESCE(MAX(seq), 0) FROM workflows)) + 1
                 WHERE name = 'seq' RETURNING value",
                [],
                |r| r.get(0),
            )?;
            let mut wf = Workflow::new(
                WorkflowId::new(seq.max(1) as u64, now),
                description.to_owned(),
                now,
            );
            wf.retry_of = retry_of.cloned();
            Self::insert_in(tx, &wf, retry_of, Some(&self.owner))?;
            Ok(wf)
        })
    }

    /// Records a new workflow (queued) made elsewhere, with no owner.
    pub fn insert(&self, wf: &Workflow, retry_of: Option<&WorkflowId>) -> Result<(), DbError> {
        self.write(|tx| Self::insert_in(tx, wf, retry_of, None))
    }

    fn insert_in(
        tx: &rusqlite::Transaction<'_>,
        wf: &Workflow,
        retry_of: Option<&WorkflowId>,
        owner: Option<&str>,
    ) -> rusqlite::Result<()> {
        tx.execute(
            "INSERT INTO workflows (id, seq, description, name, status, progress, created_at, retry_of, owner)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                wf.id.as_str(),
                wf.id.seq() as i64,
                wf.description,
                wf.name,
                wf.status().as_str(),
                wf.progress,
                unix_secs(wf.start_time),
                retry_of.map(WorkflowId::as_str),
                owner,
            ],
        )?;
        tx.execute(
            "INSERT INTO transitions (workflow_id, at, status, progress) VALUES (?1, ?2, ?3, ?4)",
            params![
                wf.id.as_str(),
                unix_secs(wf.start_time),
                wf.status().as_str(),
                wf.progress
            ],
        )?;
        Ok(())
    }

    /// Writes a state change; other events are not history. A workflow that ended keeps its
    /// ending: nothing after it is written.
    pub fn apply(&self, event: &Event) -> Result<(), DbError> {
        if let Event::Change { id, change } = event {
            return self.set_change(id, change);
        }
        let Some((id, transition)) = event.transition() else {
            return Ok(());
        };
        let now = unix_secs(SystemTime::now());
        self.write(|tx| write_transition(tx, id, transition, now).map(drop))
    }

    /// Stores a workflow's change to its repository (whatever its state: an apply comes after
    /// the ending).
    pub fn set_change(
        &self,
        id: &WorkflowId,
        change: &crate::workflow::change::Change,
    ) -> Result<(), DbError> {
        let json = serde_json::to_string(change).unwrap_or_default();
        self.write(|tx| {
            tx.execute(
                "UPDATE workflows SET change = ?2 WHERE id = ?1",
                params![id.as_str(), json],
            )
        })?;
        Ok(())
    }

    /// Stores a workflow's stage times and token counts.
    pub fn record(&self, id: &WorkflowId, record: &Record) -> Result<(), DbError> {
        self.write(|tx| {
            for (stage, seconds) in &record.seconds {
                tx.execute(
                    "INSERT OR REPLACE INTO stages (workflow_id, stage, seconds) VALUES (?1, ?2, ?3)",
                    params![id.as_str(), stage, seconds],
                )?;
            }
            for (tier, t) in &record.tokens {
                tx.execute(
                    "INSERT OR REPLACE INTO tokens (workflow_id, tier, tokens_in, tokens_out) VALUES (?1, ?2, ?3, ?4)",
                    params![id.as_str(), tier, t.tokens_in as i64, t.tokens_out as i64],
                )?;
            }
            Ok(())
        })
    }

    /// Removes a workflow and everything recorded about it.
    pub fn delete(&self, id: &WorkflowId) -> Result<(), DbError> {
        self.write(|tx| tx.execute("DELETE FROM workflows WHERE id = ?1", [id.as_str()]))?;
        Ok(())
    }

    /// The live workflows whose process is gone: their owner is not running, or, for one
    /// that names no owner (written by an older flotilla), `nobody_else` says no other
    /// flotilla holds the home.
    pub fn orphans(&self, nobody_else: bool) -> Result<Vec<WorkflowId>, DbError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!("SELECT id, owner FROM workflows WHERE {}", live()))
            .map_err(|e| self.wrap(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
            })
            .map_err(|e| self.wrap(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, owner) = row.map_err(|e| self.wrap(e))?;
            let gone = match &owner {
                Some(owner) => !owner::alive(owner),
                None => nobody_else,
            };
            if let (true, Some(id)) = (gone, WorkflowId::parse(&id)) {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// Marks these workflows failed ("interrupted") if they are still live; returns how many.
    pub fn mark_interrupted(&self, ids: &[WorkflowId]) -> Result<usize, DbError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let at = SystemTime::now();
        let outcome = Outcome::Failed(Failure::Interrupted);
        let ended = Transition::Finished {
            outcome: &outcome,
            at,
        };
        self.write(|tx| {
            let mut n = 0;
            for id in ids {
                if write_transition(tx, id, ended, unix_secs(at))? {
                    n += 1;
                }
            }
            Ok(n)
        })
    }

    /// Marks every live workflow whose process is gone as interrupted; returns how many.
    pub fn recover_orphans(&self, nobody_else: bool) -> Result<usize, DbError> {
        let orphans = self.orphans(nobody_else)?;
        self.mark_interrupted(&orphans)
    }
}

/// Applies one change to a workflow's row by the store's rule (`Transition::apply`: a workflow
/// that ended keeps its ending, and its history no second one), and adds it to the transitions;
/// `false` when the rule refused it or the row is gone. `now` is when a change without its own
/// time happened.
fn write_transition(
    tx: &rusqlite::Transaction<'_>,
    id: &WorkflowId,
    transition: Transition<'_>,
    now: f64,
) -> Result<bool, rusqlite::Error> {
    let Some(mut w) = rows(tx, "id = ?1", &[&id.as_str()])?.into_iter().next() else {
        return Ok(false);
    };
    if !transition.apply(&mut w) {
        return Ok(false);
    }
    let result = w.result().and_then(|r| serde_json::to_string(r).ok());
    tx.execute(
        "UPDATE workflows SET name = ?2, status = ?3, progress = ?4, error = ?5, result = ?6,
             ended_at = ?7 WHERE id = ?1",
        params![
            id.as_str(),
            w.name,
            w.status().as_str(),
            w.progress,
            w.error(),
            result,
            w.end_time.map(unix_secs)
        ],
    )?;
    let at = match transition {
        Transition::Named(_) => return Ok(true),
        Transition::Finished { at, .. } => unix_secs(at),
        Transition::Status { .. } | Transition::Progress(_) => now,
    };
    tx.execute(
        "INSERT INTO transitions (workflow_id, at, status, progress) VALUES (?1, ?2, ?3, ?4)",
        params![
            id.as_str(),
            at,
            transition.status_after(&w).map(|s| s.as_str()),
            w.progress
        ],
    )?;
    Ok(true)
}

#[cfg(test)]
mod tests;
