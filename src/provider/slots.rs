//! A provider's concurrent-request limit, where urgent requests (naming) go before waiting
//! ordinary ones (code), so a name never queues behind long generations on a one-slot server.

use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

#[derive(Debug)]
pub struct Slots {
    state: Mutex<State>,
    freed: Notify,
}

#[derive(Debug)]
struct State {
    free: usize,
    urgent_waiting: usize,
}

/// A held slot; dropping it frees the slot.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.lock().free += 1;
        self.slots.freed.notify_waiters();
    }
}

/// Counts an urgent waiter while its acquire is pending, even if that future is dropped.
struct UrgentWaiter<'a>(&'a Slots);

impl Drop for UrgentWaiter<'_> {
    fn drop(&mut self) {
        self.0.lock().urgent_waiting -= 1;
        // Ordinary waiters may have been holding back for this one.
        self.0.freed.notify_waiters();
    }
}

impl Slots {
    pub fn new(n: usize) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                free: n.max(1),
                urgent_waiting: 0,
            }),
            freed: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits for a free slot; an urgent caller is served before ordinary ones.
    pub async fn acquire(self: &Arc<Self>, urgent: bool) -> Slot {
        let _waiter = urgent.then(|| {
            self.lock().urgent_waiting += 1;
            UrgentWaiter(self)
        });
        loop {
            // Register for the wake-up before looking, so a slot freed in between is not missed.
            let freed = self.freed.notified();
            {
                let mut state = self.lock();
                if state.free > 0 && (urgent || state.urgent_waiting == 0) {
                    state.free -= 1;
                    return Slot {
                        slots: Arc::clone(self),
                    };
                }
            }
            freed.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn urgent_waiters_go_first() {
        let slots = Slots::new(1);
        let held = slots.acquire(false).await;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let ordinary = {
            let (slots, tx) = (Arc::clone(&slots), tx.clone());
            tokio::spawn(async move {
                let _slot = slots.acquire(false).await;
                let _ = tx.send("ordinary");
            })
        };
        // Let the ordinary request start waiting before the urgent one arrives.
        tokio::task::yield_now().await;
        let urgent = {
            let (slots, tx) = (Arc::clone(&slots), tx.clone());
            tokio::spawn(async move {
                let _slot = slots.acquire(true).await;
                let _ = tx.send("urgent");
            })
        };
        tokio::task::yield_now().await;
        drop(held);
        let first = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .ok()
            .flatten();
        assert_eq!(first, Some("urgent"));
        let second = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .ok()
            .flatten();
        assert_eq!(second, Some("ordinary"));
        let _ = (ordinary.await, urgent.await);
    }

    #[tokio::test]
    async fn a_dropped_urgent_wait_releases_ordinary_waiters() {
        let slots = Slots::new(1);
        let held = slots.acquire(false).await;
        let gave_up = tokio::time::timeout(Duration::from_millis(10), slots.acquire(true)).await;
        assert!(gave_up.is_err());
        drop(held);
        let got = tokio::time::timeout(Duration::from_secs(5), slots.acquire(false)).await;
        assert!(
            got.is_ok(),
            "an abandoned urgent wait must not block ordinary requests"
        );
    }

    #[tokio::test]
    async fn limits_concurrency() {
        let slots = Slots::new(2);
        let a = slots.acquire(false).await;
        let _b = slots.acquire(true).await;
        assert!(
            tokio::time::timeout(Duration::from_millis(10), slots.acquire(true))
                .await
                .is_err()
        );
        drop(a);
        assert!(
            tokio::time::timeout(Duration::from_secs(5), slots.acquire(false))
                .await
                .is_ok()
        );
    }
}
