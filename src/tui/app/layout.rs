//! Where each part of the dashboard goes for a terminal size: the drawing uses it, and so
//! does the state, for page sizes.

use ratatui::layout::{Constraint, Layout, Rect};

/// Where each part of the dashboard goes.
pub struct Areas {
    pub header: Rect,
    pub table: Rect,
    /// One line over the log and result view: the selected workflow's name, status and age.
    pub selected: Rect,
    pub log: Rect,
    /// The result view: beside the log on wide terminals, under it on narrow ones.
    pub result: Rect,
    pub notice: Rect,
    pub input: Rect,
    pub footer: Rect,
}

pub fn layout(area: Rect) -> Areas {
    let [header, table, work, notice, input, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Percentage(35),
        Constraint::Min(4),
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Length(1),
    ])
    .areas(area);
    let [selected, work] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(work);
    let [log, result] = if area.width >= WIDE {
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(work)
    } else {
        Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(work)
    };
    Areas {
        header,
        table,
        selected,
        log,
        result,
        notice,
        input,
        footer,
    }
}

/// From this width on, the result view sits beside the log.
const WIDE: u16 = 110;

/// Lines of the result view visible in a terminal of this size.
pub fn result_body_height((w, h): (u16, u16)) -> usize {
    layout(Rect::new(0, 0, w, h))
        .result
        .height
        .saturating_sub(2) as usize
}

/// Lines of log text visible in a terminal of this size.
pub fn log_body_height((w, h): (u16, u16)) -> usize {
    layout(Rect::new(0, 0, w, h)).log.height.saturating_sub(2) as usize
}
