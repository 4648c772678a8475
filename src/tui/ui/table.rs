//! The workflow table: ID, Name, Status, Progress, Time.

use super::theme;
use crate::app::{App, Mode};
use crate::keymap::Focus;
use crate::workflow::format_elapsed;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Row, Table};

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let shown = app.visible();
    let mut block = Block::bordered()
        .border_style(app.theme.border(app.focus == Focus::Table))
        .title(Span::styled(" Background Workflows ", app.theme.title()));
    if app.mode == Mode::Filter || !app.filter.is_empty() {
        let cursor = if app.mode == Mode::Filter { "▏" } else { "" };
        block = block.title(Line::styled(
            format!(
                " filter: {}{cursor} ({} of {}) ",
                app.filter,
                shown.len(),
                app.store.len()
            ),
            app.theme.warn(),
        ));
    }
    let visible = area.height.saturating_sub(3) as usize;
    let selected = app
        .selected
        .as_ref()
        .and_then(|id| app.store.position(id))
        .and_then(|i| shown.iter().position(|s| *s == i));
    // Only the rows on screen are built, so thousands of workflows cost little. The selected
    // row is always shown; when it is among the last rows, the table shows the end of the list,
    // so it follows new rows as they come (the selection itself stays put).
    let tail = shown.len().saturating_sub(visible);
    let offset = match selected {
        Some(i) if i >= tail => tail,
        Some(i) if visible > 0 && i >= visible => i + 1 - visible,
        _ => 0,
    };
    let name_width = app
        .store
        .iter()
        .filter_map(|w| w.name.as_ref().map(String::len))
        .max()
        .unwrap_or(4)
        .clamp(4, crate::naming::MAX_LEN) as u16;
    let id_width = app
        .store
        .iter()
        .map(|w| w.id.as_str().len())
        .max()
        .unwrap_or(2)
        .max(2) as u16;
    let rows = shown
        .iter()
        .skip(offset)
        .take(visible)
        .filter_map(|&i| app.store.at(i))
        .map(|w| {
            let style = app.theme.status(w.status);
            let name = match &w.name {
                Some(n) => Span::raw(n.clone()),
                None => Span::styled("…", app.theme.dim()),
            };
            let row = Row::new([
                Cell::from(Span::styled(theme::icon(w.status, app.tick), style)),
                Cell::from(w.id.as_str().to_owned()),
                Cell::from(name),
                Cell::from(Span::styled(w.status.as_str(), style)),
                Cell::from(w.progress.clone()),
                Cell::from(Line::from(format_elapsed(w.elapsed(app.now))).right_aligned()),
            ]);
            if app.selected.as_ref() == Some(&w.id) {
                row.style(app.theme.selected_row())
            } else {
                row
            }
        });
    let header =
        Row::new(["", "ID", "Name", "Status", "Progress", "Time"]).style(app.theme.title());
    let table = Table::new(
        rows,
        [
            Constraint::Length(1),
            Constraint::Length(id_width),
            Constraint::Length(name_width),
            Constraint::Length(9),
            Constraint::Fill(1),
            Constraint::Length(7),
        ],
    )
    .header(header)
    .block(with_fold_marks(app, block, offset, visible, shown.len()));
    frame.render_widget(table, area);
}

/// Says how many rows are scrolled out of view above and below, on the table's bottom edge.
fn with_fold_marks<'a>(
    app: &App,
    block: Block<'a>,
    offset: usize,
    visible: usize,
    total: usize,
) -> Block<'a> {
    let below = total.saturating_sub(offset + visible);
    let mut marks = Vec::new();
    if offset > 0 {
        marks.push(format!("↑ {offset} above"));
    }
    if below > 0 {
        marks.push(format!("↓ {below} more below"));
    }
    if marks.is_empty() {
        return block;
    }
    block.title_bottom(
        Line::styled(format!(" {} ", marks.join(" · ")), app.theme.warn()).right_aligned(),
    )
}
