//! Which flotilla processes are working on a home: each holds a shared lock on
//! `flotilla.lock`; one that can take it exclusively at start knows it is alone, so workflows
//! left live in the history belong to no one and were interrupted.

use std::fs::{File, TryLockError};
use std::io;
use std::path::Path;

/// Held while this process runs workflows on the home.
#[derive(Debug)]
pub struct HomeLock {
    _file: File,
}

impl HomeLock {
    /// Takes the shared lock; the flag is true when no other process held it.
    pub fn acquire(path: &Path) -> io::Result<(Self, bool)> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        // The standard library's locks: flock on Unix, LockFileEx on Windows.
        let alone = match file.try_lock() {
            Ok(()) => {
                // Not every platform turns an exclusive lock into a shared one, so it is let
                // go first. A peer starting in between may also find itself alone: both then
                // mark the same orphans interrupted, and this process has no workflow yet.
                file.unlock()?;
                true
            }
            Err(TryLockError::WouldBlock) => false,
            Err(TryLockError::Error(e)) => return Err(e),
        };
        // Waits only for a peer that is itself just starting.
        file.lock_shared()?;
        Ok((Self { _file: file }, alone))
    }
}

impl HomeLock {
    /// Whether no flotilla process holds the home (a reader's check: it takes nothing).
    pub fn is_free(path: &Path) -> bool {
        let Ok(file) = File::options().read(true).open(path) else {
            // No lock file: no flotilla ever ran workflows here.
            return true;
        };
        // Closing the file releases the lock taken here.
        file.try_lock().is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_holder_is_alone_and_the_second_is_not() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("flotilla.lock");
        let (first, alone) = HomeLock::acquire(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(alone);
        let (second, alone) = HomeLock::acquire(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(!alone);
        drop((first, second));
        // Other tests in this process spawn programs: a child forked between our open and its
        // exec holds a copy of the descriptor (and so the lock) until the exec closes it. Wait
        // for that, with a deadline.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let (third, alone) = HomeLock::acquire(&path).unwrap_or_else(|e| panic!("{e}"));
            if alone {
                break;
            }
            drop(third);
            assert!(
                std::time::Instant::now() < deadline,
                "once everyone has gone, the next one is alone again"
            );
            std::thread::yield_now();
        }
    }
}
