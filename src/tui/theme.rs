//! Every style the dashboard uses, in one place: a dark and a light theme, no colour at all when
//! `NO_COLOR` is set, and any role recoloured from `config.toml`'s `[colors]`.

use crate::workflow::WorkflowStatus;
use ratatui::style::{Color, Modifier, Style};
use std::str::FromStr;

/// How code in the result view is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Dark,
    Light,
    /// `NO_COLOR`: plain text.
    None,
}

/// The colours of each role; `Color::Reset` is the terminal's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    pub queued: Color,
    pub naming: Color,
    pub running: Color,
    pub completed: Color,
    pub failed: Color,
    /// Borders of panes without focus, hints, placeholders.
    pub dim: Color,
    /// Keys in the footer and help, the focused border.
    pub key: Color,
    /// The selected row's background.
    pub selection: Color,
    pub warn: Color,
    pub info: Color,
    pub good: Color,
    pub bad: Color,
    pub syntax: Syntax,
}

/// The names of the roles `[colors]` may set, in the order of [`Theme`]'s fields.
pub const ROLES: [&str; 12] = [
    "queued",
    "naming",
    "running",
    "completed",
    "failed",
    "dim",
    "key",
    "selection",
    "warn",
    "info",
    "good",
    "bad",
];

impl Theme {
    /// For dark backgrounds (the default).
    pub fn dark() -> Self {
        Self {
            queued: Color::Blue,
            naming: Color::Magenta,
            running: Color::Yellow,
            completed: Color::Green,
            failed: Color::Red,
            dim: Color::DarkGray,
            key: Color::Cyan,
            selection: Color::DarkGray,
            warn: Color::Yellow,
            info: Color::Cyan,
            good: Color::Green,
            bad: Color::Red,
            syntax: Syntax::Dark,
        }
    }

    /// For light backgrounds: darker tones that stay readable on white.
    pub fn light() -> Self {
        Self {
            queued: Color::Blue,
            naming: Color::Magenta,
            running: Color::Indexed(130),
            completed: Color::Indexed(28),
            failed: Color::Indexed(160),
            dim: Color::Indexed(244),
            key: Color::Indexed(25),
            selection: Color::Indexed(253),
            warn: Color::Indexed(130),
            info: Color::Indexed(25),
            good: Color::Indexed(28),
            bad: Color::Indexed(160),
            syntax: Syntax::Light,
        }
    }

    /// `NO_COLOR`: the terminal's colours only; bold, reverse and dim still mark things.
    pub fn plain() -> Self {
        Self {
            queued: Color::Reset,
            naming: Color::Reset,
            running: Color::Reset,
            completed: Color::Reset,
            failed: Color::Reset,
            dim: Color::Reset,
            key: Color::Reset,
            selection: Color::Reset,
            warn: Color::Reset,
            info: Color::Reset,
            good: Color::Reset,
            bad: Color::Reset,
            syntax: Syntax::None,
        }
    }

    /// The theme `config.toml` names (`dark`, `light`), with its `[colors]`; `no_color` (the
    /// `NO_COLOR` variable) wins over both. An unknown role or colour is an error naming its line.
    pub fn from_config(config: &crate::config::Config, no_color: bool) -> Result<Self, String> {
        if no_color {
            return Ok(Self::plain());
        }
        let mut theme = match config.theme.as_str() {
            "light" => Self::light(),
            _ => Self::dark(),
        };
        for setting in &config.colors {
            let color = Color::from_str(setting.value.trim()).map_err(|_| {
                format!(
                    "line {}: {:?} is not a colour (a name such as \"red\" or \"lightblue\", \"#rrggbb\", or 0-255)",
                    setting.line, setting.value
                )
            })?;
            let Some(slot) = theme.slot(&setting.role) else {
                return Err(format!(
                    "line {}: [colors] has no role {:?}; the roles are {}",
                    setting.line,
                    setting.role,
                    ROLES.join(", ")
                ));
            };
            *slot = color;
        }
        Ok(theme)
    }

    fn slot(&mut self, role: &str) -> Option<&mut Color> {
        Some(match role {
            "queued" => &mut self.queued,
            "naming" => &mut self.naming,
            "running" => &mut self.running,
            "completed" => &mut self.completed,
            "failed" => &mut self.failed,
            "dim" => &mut self.dim,
            "key" => &mut self.key,
            "selection" => &mut self.selection,
            "warn" => &mut self.warn,
            "info" => &mut self.info,
            "good" => &mut self.good,
            "bad" => &mut self.bad,
            _ => return None,
        })
    }

    pub fn status(&self, status: WorkflowStatus) -> Style {
        Style::new().fg(match status {
            WorkflowStatus::Queued => self.queued,
            WorkflowStatus::Naming => self.naming,
            WorkflowStatus::Running => self.running,
            WorkflowStatus::Completed => self.completed,
            WorkflowStatus::Failed => self.failed,
        })
    }

    pub fn title(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn dim(&self) -> Style {
        if self.dim == Color::Reset {
            Style::new().add_modifier(Modifier::DIM)
        } else {
            Style::new().fg(self.dim)
        }
    }

    pub fn key(&self) -> Style {
        Style::new().fg(self.key).add_modifier(Modifier::BOLD)
    }

    pub fn border(&self, focused: bool) -> Style {
        match (focused, self.key == Color::Reset) {
            (true, true) => Style::new().add_modifier(Modifier::BOLD),
            (true, false) => Style::new().fg(self.key),
            (false, _) => self.dim(),
        }
    }

    pub fn selected_row(&self) -> Style {
        let style = Style::new().add_modifier(Modifier::BOLD);
        if self.selection == Color::Reset {
            style.add_modifier(Modifier::REVERSED)
        } else {
            style.bg(self.selection)
        }
    }

    pub fn warn(&self) -> Style {
        Style::new().fg(self.warn)
    }

    pub fn info(&self) -> Style {
        Style::new().fg(self.info)
    }

    pub fn good(&self) -> Style {
        Style::new().fg(self.good)
    }

    pub fn bad(&self) -> Style {
        Style::new().fg(self.bad)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_can_be_set_by_its_name() {
        let mut theme = Theme::dark();
        for role in ROLES {
            *theme.slot(role).unwrap_or_else(|| panic!("{role}")) = Color::Indexed(7);
        }
        let theme = Theme {
            syntax: Syntax::Dark,
            ..theme
        };
        assert_eq!(
            theme.status(WorkflowStatus::Failed).fg,
            Some(Color::Indexed(7))
        );
        assert_eq!(theme.warn, Color::Indexed(7));
        assert!(theme.clone().slot("nope").is_none());
    }
}
