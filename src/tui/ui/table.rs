//! The workflow table: ID, Name, Status, Progress, Time.

use crate::app::{App, Mode};
use crate::keymap::Focus;
use crate::tui::theme;
use crate::workflow::format_elapsed;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Row, Table};

const STATUS_WIDTH: u16 = 9;
const TIME_WIDTH: u16 = 7;
/// Columns the progress keeps however long the names are ("Failed: tests failed after 3 a…").
const PROGRESS_MIN: u16 = 28;
/// Columns a name keeps however narrow the terminal is.
const NAME_MIN: usize = 12;

/// `text` in at most `width` columns, its end replaced by "…" when cut.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let kept: String = text.chars().take(width.saturating_sub(1)).collect();
    format!("{kept}…")
}

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let shown = app.visible();
    let visible = area.height.saturating_sub(3) as usize;
    // Only the rows on screen are built, so thousands of workflows cost little.
    let offset = app.table_offset(&shown, visible);
    let (id_width, name_width) = widths(app, area.width);
    let rows = shown
        .iter()
        .skip(offset)
        .take(visible)
        .filter_map(|&i| app.model().store.at(i))
        .map(|w| row(app, w, name_width));
    let header =
        Row::new(["", "ID", "Name", "Status", "Progress", "Time"]).style(app.view().theme.title());
    let table = Table::new(
        rows,
        [
            Constraint::Length(1),
            Constraint::Length(id_width),
            Constraint::Length(name_width),
            Constraint::Length(STATUS_WIDTH),
            Constraint::Fill(1),
            Constraint::Length(TIME_WIDTH),
        ],
    )
    .header(header)
    .block(with_fold_marks(
        app,
        block(app, shown.len()),
        offset,
        visible,
        shown.len(),
    ));
    frame.render_widget(table, area);
}

/// The table's frame and title, with the filter and what it lets through while one is set.
fn block(app: &App, shown: usize) -> Block<'static> {
    let view = app.view();
    let block = Block::bordered()
        .border_style(view.theme.border(view.focus == Focus::Table))
        .title(Span::styled(" Background Workflows ", view.theme.title()));
    if view.mode != Mode::Filter && view.filter.is_empty() {
        return block;
    }
    let cursor = if view.mode == Mode::Filter { "▏" } else { "" };
    block.title(Line::styled(
        format!(
            " filter: {}{cursor} ({shown} of {}) ",
            view.filter,
            app.model().store.len()
        ),
        view.theme.warn(),
    ))
}

/// The id column's width and the name column's. An id is as wide as today's even before the
/// first workflow, so the titles keep their place; names get what the progress column can
/// spare (it keeps PROGRESS_MIN columns, and a name cut short ends in "…").
fn widths(app: &App, width: u16) -> (u16, u16) {
    let store = &app.model().store;
    let id_width = store
        .iter()
        .map(|w| w.id.as_str().len())
        .max()
        .unwrap_or(0)
        .max("wf_1_1732123457".len()) as u16;
    let fixed = 1 + id_width + STATUS_WIDTH + TIME_WIDTH + 5 + 2;
    let spare = width.saturating_sub(fixed + PROGRESS_MIN);
    let name_width = (store
        .iter()
        .filter_map(|w| w.name.as_ref().map(|n| n.chars().count()))
        .max()
        .unwrap_or(0)
        .clamp("Name".len(), crate::workflow::name::MAX_LEN) as u16)
        .min(spare.max(NAME_MIN as u16));
    (id_width, name_width)
}

/// One workflow's row.
fn row<'a>(app: &'a App, w: &'a crate::workflow::Workflow, name_width: u16) -> Row<'a> {
    let view = app.view();
    let style = view.theme.status(w.status());
    let name = match &w.name {
        Some(n) => Span::raw(fit(n, name_width as usize)),
        None => Span::styled("…", view.theme.dim()),
    };
    let row = Row::new([
        Cell::from(Span::styled(theme::icon(w.status(), view.tick), style)),
        Cell::from(w.id.as_str().to_owned()),
        Cell::from(name),
        Cell::from(Span::styled(w.status().as_str(), style)),
        Cell::from(progress_line(app, w)),
        Cell::from(Line::from(format_elapsed(w.elapsed(view.now))).right_aligned()),
    ]);
    if view.selected.as_ref() == Some(&w.id) {
        row.style(view.theme.selected_row())
    } else {
        row
    }
}

/// The progress, after the state of the workflow's change to the repository when it has one
/// (`⎇ +12 −3`, `⎇ applied`), and the other pending changes that touch its files
/// (`overlaps wf_3`: the second apply may conflict).
fn progress_line<'a>(app: &App, w: &'a crate::workflow::Workflow) -> Line<'a> {
    let Some(change) = &w.change else {
        return Line::raw(w.progress.as_str());
    };
    let mut spans = Vec::new();
    let state = match (&change.landed, &change.commit) {
        (None, Some(_)) => format!("⎇ +{} −{}", change.lines.0, change.lines.1),
        (None, None) => "⎇".to_owned(),
        (Some(_), _) => format!("⎇ {}", change.state_word()),
    };
    spans.push(Span::styled(state, app.view().theme.info()));
    // Before the progress, which may be long: the second apply of overlapping changes may
    // conflict.
    if change.pending() {
        let overlapping: Vec<&str> = app
            .model()
            .store
            .iter()
            .filter(|o| o.id != w.id)
            .filter_map(|o| Some((o, o.change.as_ref()?)))
            .filter(|(_, c)| c.pending() && c.project == change.project)
            .filter(|(_, c)| c.files.iter().any(|f| change.files.contains(f)))
            .map(|(o, _)| o.id.as_str())
            .collect();
        if !overlapping.is_empty() {
            let short: Vec<String> = overlapping
                .iter()
                .map(|id| id.rsplit_once('_').map_or(*id, |(a, _)| a).to_owned())
                .collect();
            spans.push(Span::styled(
                format!(" overlaps {}", short.join(", ")),
                app.view().theme.warn(),
            ));
        }
    }
    spans.push(Span::raw(" "));
    spans.push(Span::raw(w.progress.as_str()));
    Line::from(spans)
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
        Line::styled(format!(" {} ", marks.join(" · ")), app.view().theme.warn()).right_aligned(),
    )
}
