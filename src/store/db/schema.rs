//! The database schema and its migrations, numbered by SQLite's `user_version`.

use rusqlite::Connection;

/// The schema this build writes.
pub const VERSION: i64 = 5;

pub enum MigrateError {
    Sqlite(rusqlite::Error),
    TooNew(i64),
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e)
    }
}

/// Each step takes the schema from its index to the next version.
pub const STEPS: [&str; 5] = [
    // 0 → 1
    "CREATE TABLE workflows (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        description TEXT NOT NULL,
        name TEXT,
        status TEXT NOT NULL,
        progress TEXT NOT NULL DEFAULT '',
        error TEXT,
        result TEXT,
        created_at REAL NOT NULL,
        ended_at REAL
    );
    CREATE TABLE transitions (
        workflow_id TEXT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
        at REAL NOT NULL,
        status TEXT,
        progress TEXT NOT NULL
    );
    CREATE INDEX transitions_by_workflow ON transitions (workflow_id);
    CREATE TABLE stages (
        workflow_id TEXT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
        stage TEXT NOT NULL,
        seconds REAL NOT NULL,
        PRIMARY KEY (workflow_id, stage)
    );
    CREATE TABLE tokens (
        workflow_id TEXT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
        tier TEXT NOT NULL,
        tokens_in INTEGER NOT NULL,
        tokens_out INTEGER NOT NULL,
        PRIMARY KEY (workflow_id, tier)
    );",
    // 1 → 2: retries point at the workflow they repeat; listing by status gets an index.
    "ALTER TABLE workflows ADD COLUMN retry_of TEXT;
    CREATE INDEX workflows_by_status ON workflows (status);",
    // 2 → 3: the id counter is kept, so ids are never given twice after deletes.
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO counters (name, value) SELECT 'seq', COALESCE(MAX(seq), 0) FROM workflows;",
    // 3 → 4: a live workflow names the process running it (`pid:start`), so readers can tell
    // one whose process died.
    "ALTER TABLE workflows ADD COLUMN owner TEXT;",
    // 4 → 5: a workflow on a repository keeps its change there: project, base commit, branch,
    // worktree, commit, files changed and what became of it (JSON).
    "ALTER TABLE workflows ADD COLUMN change TEXT;",
];

/// Brings the database to [`VERSION`] in one exclusive transaction: the version is read
/// inside it, so processes starting at the same moment migrate one after the other, and the
/// later ones find nothing left to do.
pub fn migrate(conn: &mut Connection) -> Result<(), MigrateError> {
    let version = |conn: &Connection| -> rusqlite::Result<i64> {
        conn.pragma_query_value(None, "user_version", |r| r.get(0))
    };
    // The common case, an up-to-date database, takes no write lock.
    let seen = version(conn)?;
    if seen > VERSION {
        return Err(MigrateError::TooNew(seen));
    }
    if seen == VERSION {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)?;
    let current = version(&tx)?;
    if current > VERSION {
        return Err(MigrateError::TooNew(current));
    }
    for (from, step) in STEPS.iter().enumerate().skip(current.max(0) as usize) {
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", from as i64 + 1)?;
    }
    tx.commit()?;
    Ok(())
}
