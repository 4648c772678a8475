//! The dashboard: the only layer that knows the terminal (ratatui, crossterm, syntect).
//! `terminal` is the loop, `app` the state keys and events change, `ui` draws that state,
//! `keymap` reads `keybindings.toml`, `highlight` colours code for the result view.

pub mod app;
pub mod command;
pub mod highlight;
pub mod keymap;
mod terminal;
pub mod theme;
pub mod ui;

pub use terminal::run;
