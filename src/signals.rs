//! The signals that ask flotilla to stop: SIGINT (ctrl-c outside the dashboard), SIGTERM (a
//! service manager, `kill`) and SIGHUP (the terminal went away). Each ends `run` and the
//! dashboard the way ctrl-c does: live workflows are cancelled and the cancel is recorded, their
//! tests killed; then the process exits with 128 + the signal's number.

/// Waits for a stop signal; its number. Signals that cannot be watched are never received.
pub struct StopSignals {
    #[cfg(unix)]
    streams: Vec<(i32, tokio::signal::unix::Signal)>,
}

impl StopSignals {
    /// Watches SIGTERM and SIGHUP, and SIGINT when `interrupt` (the dashboard reads ctrl-c as a
    /// key in raw mode, so it leaves SIGINT alone).
    pub fn new(interrupt: bool) -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut kinds = vec![
                (libc::SIGTERM, SignalKind::terminate()),
                (libc::SIGHUP, SignalKind::hangup()),
            ];
            if interrupt {
                kinds.push((libc::SIGINT, SignalKind::interrupt()));
            }
            let streams = kinds
                .into_iter()
                .filter_map(|(n, kind)| match signal(kind) {
                    Ok(s) => Some((n, s)),
                    Err(e) => {
                        tracing::warn!("cannot watch signal {n}: {e}");
                        None
                    }
                })
                .collect();
            Self { streams }
        }
        #[cfg(not(unix))]
        {
            let _ = interrupt;
            Self {}
        }
    }

    /// The next stop signal's number.
    pub async fn recv(&mut self) -> i32 {
        #[cfg(unix)]
        {
            if self.streams.is_empty() {
                return std::future::pending().await;
            }
            let waits = self.streams.iter_mut().map(|(n, s)| {
                let n = *n;
                Box::pin(async move {
                    s.recv().await;
                    n
                })
            });
            futures_util::future::select_all(waits).await.0
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            2
        }
    }
}

/// The exit status of a process ended by signal `n`, as shells report it.
pub fn exit_code(n: i32) -> i32 {
    128 + n
}
