//! Everything besides the dashboard: the command line itself (`args.rs`), `config`, `run`, `retry`,
//! `delete` and `name` (`run.rs`), `doctor`, and the history's `list`, `show` and `logs`
//! (`history.rs`), which read the database without an engine.

pub mod args;
pub mod config;
pub mod dispatch;
pub mod doctor;
pub mod early;
pub mod eval;
pub mod history;
pub mod land;
pub mod models;
pub mod run;
