//! flotilla: a full-screen terminal dashboard that runs many LLM code-generation workflows in
//! parallel, each named by a small model.

pub mod cli;
pub mod config;
pub mod defaults;
pub mod engine;
pub mod eval;
pub mod event;
pub mod extract;
pub mod home;
pub mod language;
pub mod logbuf;
pub mod logging;
pub mod pipeline;
pub mod project;
pub mod provider;
pub mod sandbox;
pub mod sanitize;
pub mod serve;
pub mod signals;
pub mod store;
pub mod tui;
pub mod workflow;

// The dashboard's parts, by their short names.
pub use tui::{app, keymap, ui};
