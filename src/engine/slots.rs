//! Run slots: how many workflows generate at once, changed by `/parallel N` while they run.

use super::{Engine, Inner};
use crate::workflow::Failure;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A run slot, held while a workflow runs; freed (or retired, see `slot_debt`) when dropped,
/// however the workflow ends.
pub(super) struct Slot<'a> {
    permit: Option<tokio::sync::SemaphorePermit<'a>>,
    debt: &'a AtomicUsize,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let retire = self
            .debt
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |d| d.checked_sub(1))
            .is_ok();
        if let (true, Some(permit)) = (retire, self.permit.take()) {
            permit.forget();
        }
    }
}

impl Inner {
    /// A free run slot, if there is one now.
    pub(super) fn try_slot(&self) -> Option<Slot<'_>> {
        self.slots
            .try_acquire()
            .ok()
            .map(|permit| self.slot_of(permit))
    }

    /// The next run slot that comes free (queued workflows get them in turn).
    pub(super) async fn slot(&self) -> Result<Slot<'_>, Failure> {
        // The semaphore is closed only when flotilla quits.
        let permit = self
            .slots
            .acquire()
            .await
            .map_err(|_| Failure::Cancelled { at_exit: true })?;
        Ok(self.slot_of(permit))
    }

    fn slot_of<'a>(&'a self, permit: tokio::sync::SemaphorePermit<'a>) -> Slot<'a> {
        Slot {
            permit: Some(permit),
            debt: &self.slot_debt,
        }
    }
}

impl Engine {
    /// The number of run slots.
    pub fn parallel(&self) -> usize {
        self.inner.parallel.load(Ordering::SeqCst)
    }

    /// Changes the number of run slots. Running workflows keep theirs, but no queued one starts
    /// until fewer than `n` run.
    pub fn set_parallel(&self, n: usize) {
        let inner = &self.inner;
        let n = n.max(1);
        let old = inner.parallel.swap(n, Ordering::SeqCst);
        if n > old {
            // Slots not yet taken back are simply kept; the rest are new.
            let mut more = n - old;
            let _ = inner
                .slot_debt
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |d| {
                    let paid = d.min(more);
                    more = n - old - paid;
                    Some(d - paid)
                });
            inner.slots.add_permits(more);
        } else if n < old {
            // Free slots go at once; slots in use are retired as they come free.
            let fewer = old - n;
            let taken = inner.slots.forget_permits(fewer);
            inner.slot_debt.fetch_add(fewer - taken, Ordering::SeqCst);
        }
    }
}
