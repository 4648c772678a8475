//! A provider's concurrent-request limit, where urgent requests (naming) go before waiting
//! ordinary ones (code), so a name never queues behind long generations on a one-slot server.
//! Within each kind, requests are served in the order they came.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

#[derive(Debug)]
pub struct Slots {
    state: Mutex<State>,
    freed: Notify,
}

#[derive(Debug)]
struct State {
    used: usize,
    total: usize,
    next_ticket: u64,
    urgent: VecDeque<u64>,
    ordinary: VecDeque<u64>,
}

impl State {
    fn queue(&mut self, urgent: bool) -> &mut VecDeque<u64> {
        if urgent {
            &mut self.urgent
        } else {
            &mut self.ordinary
        }
    }

    /// Requests ahead of `ticket`: those being served, those before it in its queue, and for
    /// an ordinary one every urgent one.
    fn ahead(&self, ticket: u64, urgent: bool) -> usize {
        let queue = if urgent { &self.urgent } else { &self.ordinary };
        let place = queue.iter().take_while(|t| **t != ticket).count();
        self.used + place + if urgent { 0 } else { self.urgent.len() }
    }

    /// Whether the holder of `ticket` may take a free slot now.
    fn may_take(&self, ticket: u64, urgent: bool) -> bool {
        self.used < self.total
            && if urgent {
                self.urgent.front() == Some(&ticket)
            } else {
                self.urgent.is_empty() && self.ordinary.front() == Some(&ticket)
            }
    }
}

/// A held slot; dropping it frees the slot.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut state = self.slots.lock();
        state.used = state.used.saturating_sub(1);
        drop(state);
        self.slots.freed.notify_waiters();
    }
}

/// A place in a queue, given up if the waiting future is dropped.
struct Waiting<'a> {
    slots: &'a Slots,
    ticket: u64,
    urgent: bool,
    served: bool,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if !self.served {
            self.slots
                .lock()
                .queue(self.urgent)
                .retain(|t| *t != self.ticket);
            // Those behind this place may go now.
            self.slots.freed.notify_waiters();
        }
    }
}

impl Slots {
    pub fn new(n: usize) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                used: 0,
                total: n.max(1),
                next_ticket: 0,
                urgent: VecDeque::new(),
                ordinary: VecDeque::new(),
            }),
            freed: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Changes the number of slots (a server said how many it has, or a pool lost or regained
    /// a server). Slots held past a lowered number stay held until they are dropped.
    pub fn resize(&self, n: usize) {
        self.lock().total = n.max(1);
        self.freed.notify_waiters();
    }

    /// How many slots there are, and how many are held.
    pub fn load(&self) -> (usize, usize) {
        let state = self.lock();
        (state.used, state.total)
    }

    /// Waits for a free slot; urgent callers are served before ordinary ones, each in order.
    pub async fn acquire(self: &Arc<Self>, urgent: bool) -> Slot {
        self.acquire_watched(urgent, &mut |_| {}).await
    }

    /// As [`Self::acquire`], telling `ahead` how many requests are ahead of this one (served
    /// or waiting) each time that changes while it waits (not at all when a slot is free at
    /// once).
    pub async fn acquire_watched(
        self: &Arc<Self>,
        urgent: bool,
        ahead: &mut (dyn FnMut(usize) + Send),
    ) -> Slot {
        let ticket = {
            let mut state = self.lock();
            let ticket = state.next_ticket;
            state.next_ticket += 1;
            state.queue(urgent).push_back(ticket);
            ticket
        };
        let mut waiting = Waiting {
            slots: self,
            ticket,
            urgent,
            served: false,
        };
        let mut told = None;
        loop {
            // Register for the wake-up before looking, so a slot freed in between is not missed.
            let freed = self.freed.notified();
            {
                let mut state = self.lock();
                if state.may_take(ticket, urgent) {
                    state.used += 1;
                    state.queue(urgent).pop_front();
                    waiting.served = true;
                    drop(state);
                    // The next in line may be able to go too.
                    self.freed.notify_waiters();
                    return Slot {
                        slots: Arc::clone(self),
                    };
                }
                let before = state.ahead(ticket, urgent);
                drop(state);
                if told != Some(before) {
                    told = Some(before);
                    ahead(before);
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
    async fn ordinary_requests_are_served_in_order() {
        let slots = Slots::new(1);
        let held = slots.acquire(false).await;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut tasks = Vec::new();
        for n in 0..5 {
            let (slots, tx) = (Arc::clone(&slots), tx.clone());
            tasks.push(tokio::spawn(async move {
                let _slot = slots.acquire(false).await;
                let _ = tx.send(n);
            }));
            // Each queues before the next arrives.
            tokio::task::yield_now().await;
        }
        drop(held);
        let mut order = Vec::new();
        for _ in 0..5 {
            order.push(
                tokio::time::timeout(Duration::from_secs(5), rx.recv())
                    .await
                    .ok()
                    .flatten(),
            );
        }
        assert_eq!(order, [Some(0), Some(1), Some(2), Some(3), Some(4)]);
        for t in tasks {
            let _ = t.await;
        }
    }

    #[tokio::test]
    async fn a_waiting_request_hears_how_many_are_ahead() {
        let slots = Slots::new(1);
        let held = slots.acquire(false).await;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut tasks = Vec::new();
        for n in 0..3 {
            let (slots, tx) = (Arc::clone(&slots), tx.clone());
            tasks.push(tokio::spawn(async move {
                let _slot = slots
                    .acquire_watched(false, &mut |ahead| {
                        let _ = tx.send((n, ahead));
                    })
                    .await;
            }));
            tokio::task::yield_now().await;
        }
        drop(tx);
        // Each has heard its place before the slot is freed.
        let mut heard: Vec<Vec<usize>> = vec![Vec::new(); 3];
        for _ in 0..3 {
            let (n, ahead) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .ok()
                .flatten()
                .expect("a place");
            heard[n as usize].push(ahead);
        }
        // One is served (the held slot), and each has those before it in line.
        assert_eq!(heard, [vec![1], vec![2], vec![3]]);
        // The first gives up its place: the two behind it hear that they moved up.
        tasks.remove(0).abort();
        let mut moved = Vec::new();
        for _ in 0..2 {
            moved.push(
                tokio::time::timeout(Duration::from_secs(5), rx.recv())
                    .await
                    .ok()
                    .flatten(),
            );
        }
        moved.sort();
        assert_eq!(moved, [Some((1, 1)), Some((2, 2))]);
        drop(held);
        for t in tasks {
            let _ = t.await;
        }
    }

    #[tokio::test]
    async fn more_slots_let_a_waiting_request_go_and_fewer_hold_the_next() {
        let slots = Slots::new(1);
        let a = slots.acquire(false).await;
        let waiting = {
            let slots = Arc::clone(&slots);
            tokio::spawn(async move { slots.acquire(false).await })
        };
        tokio::task::yield_now().await;
        slots.resize(2);
        let b = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("a second slot lets the waiting request go")
            .expect("joined");
        assert_eq!(slots.load(), (2, 2));
        slots.resize(1);
        drop(a);
        assert!(
            tokio::time::timeout(Duration::from_millis(20), slots.acquire(false))
                .await
                .is_err(),
            "one slot, still held"
        );
        drop(b);
        assert!(
            tokio::time::timeout(Duration::from_secs(5), slots.acquire(false))
                .await
                .is_ok()
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
