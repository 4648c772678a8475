//! Every style the dashboard uses, in one place.

use crate::workflow::WorkflowStatus;
use ratatui::style::{Color, Modifier, Style};

pub fn status(status: WorkflowStatus) -> Style {
    Style::new().fg(match status {
        WorkflowStatus::Queued => Color::Blue,
        WorkflowStatus::Naming => Color::Magenta,
        WorkflowStatus::Running => Color::Yellow,
        WorkflowStatus::Completed => Color::Green,
        WorkflowStatus::Failed => Color::Red,
    })
}

pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// The icon at the start of a table row: a spinner while live.
pub fn icon(status: WorkflowStatus, tick: u64) -> &'static str {
    match status {
        WorkflowStatus::Completed => "✓",
        WorkflowStatus::Failed => "✗",
        _ => SPINNER[(tick % SPINNER.len() as u64) as usize],
    }
}

pub fn title() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn key() -> Style {
    Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
}

pub fn border(focused: bool) -> Style {
    if focused {
        Style::new().fg(Color::Cyan)
    } else {
        Style::new().fg(Color::DarkGray)
    }
}

pub fn selected_row() -> Style {
    Style::new()
        .bg(Color::DarkGray)
        .add_modifier(Modifier::BOLD)
}

pub fn warn() -> Style {
    Style::new().fg(Color::Yellow)
}

pub fn info() -> Style {
    Style::new().fg(Color::Cyan)
}

pub fn good() -> Style {
    Style::new().fg(Color::Green)
}

pub fn bad() -> Style {
    Style::new().fg(Color::Red)
}
