//! Draws the dashboard from the app's state; nothing here changes state.

mod logpane;
mod overlay;
mod resultpane;
mod table;

use crate::app::layout::layout;
use crate::app::{App, Level, Overlay};
use crate::event::Health;
use crate::keymap::{Action, Focus};
use crate::tui::theme;
use crate::workflow::WorkflowStatus;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui_textarea::TextArea;

pub fn render(app: &App, frame: &mut Frame) {
    let areas = layout(frame.area());
    render_header(app, frame, areas.header);
    table::render(app, frame, areas.table);
    logpane::render_header(app, frame, areas.selected);
    logpane::render(app, frame, areas.log);
    resultpane::render(app, frame, areas.result);
    render_notice(app, frame, areas.notice);
    // Styled here, for the current focus, on a copy: the state holds only the text.
    let mut input = app.view().input.clone();
    style_input(
        &app.view().theme,
        &mut input,
        app.view().focus == Focus::Input,
    );
    frame.render_widget(&input, areas.input);
    render_footer(app, frame, areas.footer);
    match app.overlay() {
        Some(Overlay::Help) => overlay::help(app, frame),
        Some(Overlay::Details(id)) => overlay::details(app, id, frame),
        Some(Overlay::ConfirmQuit) => overlay::confirm_quit(app, frame),
        Some(Overlay::ConfirmDelete(id)) => overlay::confirm_delete(app, id, frame),
        Some(Overlay::ConfirmClear(ids)) => overlay::confirm_clear(app, ids, frame),
        Some(Overlay::ConfirmApply { id, staged }) => {
            overlay::confirm_apply(app, id, *staged, frame)
        }
        Some(Overlay::ConfirmDiscard(id)) => overlay::confirm_discard(app, id, frame),
        None => {}
    }
}

/// Gives the input box its border and placeholder for the current focus.
fn style_input(theme: &theme::Theme, input: &mut TextArea<'static>, focused: bool) {
    input.set_block(
        Block::bordered()
            .border_style(theme.border(focused))
            .title(Span::styled(" New task ", theme.title())),
    );
    input.set_placeholder_text("describe a coding task, or /help");
    input.set_placeholder_style(theme.dim());
    input.set_cursor_line_style(ratatui::style::Style::new());
    input.set_cursor_style(if focused {
        ratatui::style::Style::new().add_modifier(ratatui::style::Modifier::REVERSED)
    } else {
        ratatui::style::Style::new()
    });
}

/// The counts of each status on the left, the servers on the right. When both do not fit, the
/// title goes first, then the statuses no workflow is in; the servers are never cut.
fn render_header(app: &App, frame: &mut Frame, area: Rect) {
    let mut servers = server_spans(app);
    // The repository workflows work on, by its folder's name.
    if let Some(project) = &app.engine().config().project {
        let name = project
            .root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        servers.push(Span::styled("  │ ", app.view().theme.dim()));
        servers.push(Span::styled(format!("⎇ {name}"), app.view().theme.info()));
    }
    let room = (area.width as usize).saturating_sub(Line::from(servers.clone()).width());
    let counts = app.model().store.counts();
    let line = |title: bool, zeros: bool| {
        let mut spans = Vec::new();
        if title {
            spans.push(Span::styled(" flotilla ", app.view().theme.title()));
        }
        spans.push(Span::raw(" "));
        let mut first = true;
        for (i, status) in WorkflowStatus::ALL.iter().enumerate() {
            if counts[i] == 0 && !zeros {
                continue;
            }
            if !first {
                spans.push(Span::styled(" · ", app.view().theme.dim()));
            }
            first = false;
            let style = if counts[i] > 0 {
                app.view().theme.status(*status)
            } else {
                app.view().theme.dim()
            };
            spans.push(Span::styled(format!("{} {}", counts[i], status), style));
        }
        spans.push(Span::styled("  │ ", app.view().theme.dim()));
        Line::from(spans)
    };
    let fits = |l: &Line| l.width() <= room;
    let full = line(true, true);
    let counts_line = if fits(&full) {
        full
    } else {
        let untitled = line(false, true);
        if fits(&untitled) {
            untitled
        } else {
            line(false, false)
        }
    };
    let mut spans = counts_line.spans;
    spans.extend(servers);
    frame.render_widget(Line::from(spans), area);
}

fn server_spans(app: &App) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    for (i, (name, health)) in app.model().health.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", app.view().theme.dim()));
        }
        // Requests in flight for its slots, once it has had one.
        let load = app
            .model()
            .load
            .get(name)
            .map(|(in_flight, slots)| format!("{in_flight}/{slots}"));
        let (mark, text, style) = match health {
            Health::Unknown => (
                "○",
                load.unwrap_or_else(|| "checking".into()),
                app.view().theme.dim(),
            ),
            Health::Reachable(_) => (
                "●",
                load.unwrap_or_else(|| "up".into()),
                app.view().theme.good(),
            ),
            Health::Busy => (
                "●",
                load.map_or_else(|| "busy".into(), |l| format!("{l} busy")),
                app.view().theme.warn(),
            ),
            Health::Unreachable(_) => ("✗", "unreachable".to_owned(), app.view().theme.bad()),
        };
        spans.push(Span::raw(format!("{name} ")));
        spans.push(Span::styled(format!("{mark} {text}"), style));
    }
    spans
}

fn render_notice(app: &App, frame: &mut Frame, area: Rect) {
    if let Some(notice) = &app.view().notice {
        let style = match notice.level {
            Level::Info => app.view().theme.info(),
            Level::Warn => app.view().theme.warn(),
        };
        frame.render_widget(
            Paragraph::new(Line::styled(format!(" {}", notice.text), style)),
            area,
        );
    }
}

/// The actions worth showing in the footer for each focus.
fn footer_actions(focus: Focus) -> &'static [Action] {
    match focus {
        Focus::Input => &[
            Action::Submit,
            Action::SubmitBackground,
            Action::SelectNext,
            Action::FocusNext,
            Action::Help,
            Action::Quit,
        ],
        Focus::Table => &[
            Action::SelectNext,
            Action::ShowDetails,
            Action::Cancel,
            Action::Retry,
            Action::Delete,
            Action::Filter,
            Action::FocusNext,
            Action::Help,
            Action::Quit,
        ],
        Focus::Log => &[
            Action::ScrollUp,
            Action::ScrollDown,
            Action::PageUp,
            Action::ScrollBottom,
            Action::Cancel,
            Action::FocusNext,
            Action::Help,
            Action::Quit,
        ],
        Focus::Result => &[
            Action::ResultNext,
            Action::ScrollDown,
            Action::ScrollUp,
            Action::OpenEditor,
            Action::FocusNext,
            Action::Help,
            Action::Quit,
        ],
    }
}

fn render_footer(app: &App, frame: &mut Frame, area: Rect) {
    let mut spans = vec![Span::raw(" ")];
    // A change to apply or discard: its keys lead.
    let pending = app
        .selected_workflow()
        .and_then(|w| w.change.as_ref())
        .is_some_and(|c| c.pending());
    let landing: &[Action] = if pending && app.view().focus != Focus::Input {
        &[Action::ShowDiff, Action::Apply, Action::Discard]
    } else {
        &[]
    };
    for action in landing.iter().chain(footer_actions(app.view().focus)) {
        let keys = app.keymap().keys_in(app.view().focus, *action);
        if keys.is_empty() {
            continue;
        }
        let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
        spans.push(Span::styled(keys.join("/"), app.view().theme.key()));
        spans.push(Span::raw(format!(" {}  ", action.short())));
    }
    frame.render_widget(Line::from(spans), area);
}

/// Words of `text` in lines of at most `width` columns (a longer word has a line of its own).
pub(super) fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("one line at least");
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            lines.push(word.to_owned());
        } else {
            if len > 0 {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}
