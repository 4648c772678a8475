//! What the engine watches besides its own workflows: the model servers' health for the
//! header, and the history for workflows of other flotilla processes on the same home.

use super::Engine;
use crate::event::{Event, Health};
use crate::provider::ProviderError;
use crate::store::db::Db;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;

/// How often the history is checked for work of other flotilla processes on the same home.
const HISTORY_WATCH: Duration = Duration::from_secs(1);

/// How often each model server is checked for the header's reachability dot.
pub const HEALTH_INTERVAL: Duration = Duration::from_secs(30);
/// How soon a server that was too busy to answer is asked again, so "busy" goes once it is idle.
const BUSY_RECHECK: Duration = Duration::from_secs(3);
const HEALTH_TIMEOUT: Duration = Duration::from_secs(3);

impl Engine {
    /// Sends the dashboard the workflows other flotilla processes on this home start, change
    /// and end ([`Event::Others`]). Each second it reads SQLite's `data_version` (a counter in
    /// shared memory: no query, no disk read); only when that moved does it read the rows.
    pub fn watch_history(&self, stop: CancellationToken) {
        let db = match Db::open(&self.inner.home.db_file) {
            Ok(db) => db,
            Err(e) => {
                tracing::warn!("cannot watch the history for other processes: {e}");
                return;
            }
        };
        let events = self.inner.events.clone();
        // Rows up to here are in the history the dashboard loaded; later ones are new, and live
        // or recently ended ones are caught by their status.
        let mut after_seq = db.max_seq().unwrap_or(0);
        tokio::spawn(async move {
            let db = Arc::new(db);
            let mut seen = db.data_version().ok();
            let mut since = crate::workflow::unix_secs(SystemTime::now());
            let mut interval = tokio::time::interval(HISTORY_WATCH);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = interval.tick() => {}
                }
                let version = db.data_version().ok();
                if version == seen {
                    continue;
                }
                seen = version;
                // A little overlap, so an ending written during the last read is not missed.
                let now = crate::workflow::unix_secs(SystemTime::now());
                let reader = Arc::clone(&db);
                let read =
                    tokio::task::spawn_blocking(move || reader.others(after_seq, since - 2.0));
                since = now;
                match read.await {
                    Ok(Ok(rows)) if rows.is_empty() => {}
                    Ok(Ok(rows)) => {
                        after_seq = rows
                            .iter()
                            .map(|w| w.id.seq())
                            .max()
                            .unwrap_or(0)
                            .max(after_seq);
                        if events.send(Event::Others(rows)).is_err() {
                            break;
                        }
                    }
                    Ok(Err(e)) => tracing::warn!("cannot read other processes' workflows: {e}"),
                    Err(e) => tracing::warn!("history watch failed: {e}"),
                }
            }
        });
    }

    /// [`Self::watch_health`] when a tier has a pool of several servers (headless runs, which
    /// need no header, still need their servers' model lists, slots and probes).
    pub fn watch_pools(&self, stop: CancellationToken) {
        if self.inner.servers.len() > 1 {
            self.watch_health(stop);
        }
    }

    /// Checks every model server now and then every [`HEALTH_INTERVAL`] (a busy one every
    /// [`BUSY_RECHECK`]), until `stop`.
    pub fn watch_health(&self, stop: CancellationToken) {
        for server in &self.inner.servers {
            let server = Arc::clone(server);
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut wait = Duration::ZERO;
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => break,
                        _ = tokio::time::sleep(wait) => {}
                    }
                    let result = server.provider.models(HEALTH_TIMEOUT).await;
                    // The server tells the dashboard what changed (`Server::watch`).
                    server.observe(&result);
                    let health = match result {
                        Ok(models) => Health::Reachable(models),
                        Err(ProviderError::Timeout(_)) => Health::Busy,
                        Err(e) => Health::Unreachable(e.to_string()),
                    };
                    wait = next_check(&health);
                }
            });
        }
    }
}

/// When to check a server again after it answered `health`.
fn next_check(health: &Health) -> Duration {
    match health {
        Health::Busy => BUSY_RECHECK,
        Health::Unknown | Health::Reachable(_) | Health::Unreachable(_) => HEALTH_INTERVAL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_server_is_asked_again_soon() {
        assert_eq!(next_check(&Health::Busy), BUSY_RECHECK);
        assert!(BUSY_RECHECK < HEALTH_INTERVAL / 5);
        assert_eq!(next_check(&Health::Reachable(Vec::new())), HEALTH_INTERVAL);
        assert_eq!(
            next_check(&Health::Unreachable("refused".into())),
            HEALTH_INTERVAL
        );
    }
}
