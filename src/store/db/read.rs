//! Reading the history: workflows, another process's changes, a workflow's state changes,
//! stage times and tokens.

use super::{Db, DbError, status_from, time};
use crate::workflow::record::Record;
use crate::workflow::{Failure, State, Workflow, WorkflowId, WorkflowResult, WorkflowStatus};
use rusqlite::{Connection, params};
use std::time::{SystemTime, UNIX_EPOCH};

impl Db {
    /// Every workflow, oldest first, without logs.
    pub fn load(&self) -> Result<Vec<Workflow>, DbError> {
        self.select("TRUE", params![])
    }

    /// A number that changes whenever another connection (this process's engine, or another
    /// flotilla) commits to the database: SQLite's `PRAGMA data_version`, read without I/O on
    /// the database file.
    pub fn data_version(&self) -> Result<i64, DbError> {
        self.conn()
            .pragma_query_value(None, "data_version", |r| r.get(0))
            .map_err(|e| self.wrap(e))
    }

    /// Workflows other processes own that are new (counter above `after_seq`), live, or ended
    /// at or after `ended_since`: what a dashboard shows of work it did not start.
    pub fn others(&self, after_seq: u64, ended_since: f64) -> Result<Vec<Workflow>, DbError> {
        self.select(
            &format!(
                "(owner IS NULL OR owner != ?1) AND (seq > ?2 OR ended_at >= ?3 OR {})",
                super::live()
            ),
            params![self.owner, after_seq as i64, ended_since],
        )
    }

    fn select(
        &self,
        filter: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<Workflow>, DbError> {
        rows(&self.conn(), filter, args).map_err(|e| self.wrap(e))
    }

    /// The highest id counter in use, so new ids go on from it.
    pub fn max_seq(&self) -> Result<u64, DbError> {
        let conn = self.conn();
        let max: i64 = conn
            .query_row(
                "SELECT MAX((SELECT COALESCE(MAX(seq), 0) FROM workflows),
                            (SELECT COALESCE(MAX(value), 0) FROM counters WHERE name = 'seq'))",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.wrap(e))?;
        Ok(max.max(0) as u64)
    }

    /// A workflow's state changes, oldest first: (time, status if it changed, progress).
    pub fn transitions(
        &self,
        id: &WorkflowId,
    ) -> Result<Vec<(SystemTime, Option<WorkflowStatus>, String)>, DbError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT at, status, progress FROM transitions WHERE workflow_id = ?1 ORDER BY rowid")
            .map_err(|e| self.wrap(e))?;
        let rows = stmt
            .query_map([id.as_str()], |r| {
                let status: Option<String> = r.get(1)?;
                Ok((
                    time(r.get(0)?),
                    status.as_deref().map(status_from),
                    r.get(2)?,
                ))
            })
            .map_err(|e| self.wrap(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.wrap(e))
    }

    /// When each workflow first ran, in one query (for listings).
    pub fn started_times(
        &self,
    ) -> Result<std::collections::HashMap<WorkflowId, SystemTime>, DbError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT workflow_id, MIN(at) FROM transitions WHERE status = 'running' GROUP BY workflow_id")
            .map_err(|e| self.wrap(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, f64>(1)?)))
            .map_err(|e| self.wrap(e))?;
        let mut out = std::collections::HashMap::new();
        for row in rows {
            let (id, at) = row.map_err(|e| self.wrap(e))?;
            if let Some(id) = WorkflowId::parse(&id) {
                out.insert(id, time(at));
            }
        }
        Ok(out)
    }

    /// Stage times and tokens recorded for a workflow.
    pub fn record_of(&self, id: &WorkflowId) -> Result<Record, DbError> {
        let conn = self.conn();
        let mut record = Record::default();
        let mut stmt = conn
            .prepare("SELECT stage, seconds FROM stages WHERE workflow_id = ?1")
            .map_err(|e| self.wrap(e))?;
        for row in stmt
            .query_map([id.as_str()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, f64>(1)?))
            })
            .map_err(|e| self.wrap(e))?
        {
            let (stage, seconds) = row.map_err(|e| self.wrap(e))?;
            record.seconds.insert(stage, seconds);
        }
        let mut stmt = conn
            .prepare("SELECT tier, tokens_in, tokens_out FROM tokens WHERE workflow_id = ?1")
            .map_err(|e| self.wrap(e))?;
        for row in stmt
            .query_map([id.as_str()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(|e| self.wrap(e))?
        {
            let (tier, tokens_in, tokens_out) = row.map_err(|e| self.wrap(e))?;
            record.tokens.insert(
                tier,
                crate::workflow::record::Tokens {
                    tokens_in: tokens_in.max(0) as u64,
                    tokens_out: tokens_out.max(0) as u64,
                },
            );
        }
        Ok(record)
    }
}

/// The workflows matching `filter` (an SQL condition on the workflows table), in id order.
pub(super) fn rows(
    conn: &Connection,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
) -> rusqlite::Result<Vec<Workflow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT id, description, name, status, progress, error, result, created_at, ended_at, retry_of, change
         FROM workflows WHERE {filter} ORDER BY seq, created_at"
    ))?;
    let rows = stmt.query_map(args, |r| {
        let id: String = r.get(0)?;
        let result: Option<String> = r.get(6)?;
        let ended: Option<f64> = r.get(8)?;
        let id = WorkflowId::parse(&id).unwrap_or_else(|| WorkflowId::new(0, UNIX_EPOCH));
        let error: Option<String> = r.get(5)?;
        let state = match status_from(&r.get::<_, String>(3)?) {
            WorkflowStatus::Completed => State::Completed(
                result
                    .and_then(|j| serde_json::from_str::<WorkflowResult>(&j).ok())
                    // A row whose result could not be read: completed, nothing more known.
                    .unwrap_or_else(WorkflowResult::unknown),
            ),
            WorkflowStatus::Failed => {
                State::Failed(Failure::from_reason(error.as_deref().unwrap_or_default()))
            }
            live => State::live(live).unwrap_or(State::Queued),
        };
        Ok(Workflow {
            id,
            description: r.get(1)?,
            name: r.get(2)?,
            state,
            progress: r.get(4)?,
            start_time: time(r.get(7)?),
            end_time: ended.map(time),
            retry_of: r
                .get::<_, Option<String>>(9)?
                .and_then(|id| WorkflowId::parse(&id)),
            change: r
                .get::<_, Option<String>>(10)?
                .and_then(|j| serde_json::from_str(&j).ok()),
        })
    })?;
    rows.collect()
}
