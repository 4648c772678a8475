//! Shared test fixtures: a scripted loopback model server, a real llama.cpp server, and helpers
//! that drive the app through its event channel.
#![allow(dead_code)]

pub mod cache;
pub mod harness;
pub mod llama;
pub mod mock;
pub mod pty;

/// Says that a test did not check what it is for on this machine, and why, on standard error
/// (`cargo test -- --nocapture` shows it). Where everything is known to be there (CI sets
/// `FLOTILLA_NO_SKIP`), a skip is a failure, so a test never passes by skipping there.
pub fn skip(test: &str, reason: &str) {
    assert!(
        std::env::var_os("FLOTILLA_NO_SKIP").is_none(),
        "{test} would be skipped ({reason}), and FLOTILLA_NO_SKIP says nothing may be"
    );
    eprintln!("SKIPPED {test}: {reason}");
}
