//! Shared test fixtures: a scripted loopback model server, a real llama.cpp server, and helpers
//! that drive the app through its event channel.
#![allow(dead_code)]

pub mod cache;
pub mod harness;
pub mod llama;
pub mod mock;
pub mod pty;
