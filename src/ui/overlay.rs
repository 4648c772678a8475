//! Pop-ups: the help overlay, a workflow's details, and the quit confirmation.

use super::theme;
use crate::app::App;
use crate::command::USAGE;
use crate::workflow::{WorkflowId, format_ago, format_elapsed};
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [rect] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    rect
}

fn popup(frame: &mut Frame, title: &str, lines: Vec<Line<'static>>, width: u16) {
    let height = lines.len() as u16 + 2;
    let area = centered(frame.area(), width, height);
    frame.render_widget(Clear, area);
    let block = Block::bordered()
        .border_style(theme::border(true))
        .title(Span::styled(format!(" {title} "), theme::title()));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        area,
    );
}

pub fn help(app: &App, frame: &mut Frame) {
    let mut lines = Vec::new();
    let mut last_section = None;
    for (section, action, keys) in app.keymap.all() {
        if last_section != Some(section) {
            lines.push(Line::styled(
                format!("[{}]", section.as_str()),
                theme::dim(),
            ));
            last_section = Some(section);
        }
        let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<20}", keys.join(", ")), theme::key()),
            Span::raw(action.describe()),
        ]));
    }
    lines.push(Line::styled("commands", theme::dim()));
    for (usage, what) in USAGE {
        lines.push(Line::from(vec![
            Span::styled(format!("  {usage:<44}"), theme::key()),
            Span::raw(*what),
        ]));
    }
    lines.push(Line::styled(
        "esc closes · keys come from keybindings.toml",
        theme::dim(),
    ));
    popup(frame, "Keys and commands", lines, 80);
}

pub fn details(app: &App, id: &WorkflowId, frame: &mut Frame) {
    let Some(wf) = app.store.get(id) else { return };
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{name:<12}"), theme::dim()),
            Span::raw(value),
        ])
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled("Workflow:   ", theme::dim()),
            Span::styled(wf.label().to_owned(), theme::title()),
            Span::raw(format!(" ({})", wf.id)),
        ]),
        Line::from(vec![
            Span::styled("Status:     ", theme::dim()),
            Span::styled(wf.status.as_str(), theme::status(wf.status)),
        ]),
        field("Progress:", wf.progress.clone()),
        field(
            "Started:",
            format_ago(app.now.duration_since(wf.start_time).unwrap_or_default()),
        ),
        field("Time:", format_elapsed(wf.elapsed(app.now))),
        field("Task:", wf.description.clone()),
    ];
    if let Some(error) = &wf.error {
        lines.push(Line::from(vec![
            Span::styled("Error:      ", theme::dim()),
            Span::styled(error.clone(), theme::bad()),
        ]));
    }
    lines.push(field(
        "Folder:",
        app.engine.home().workflow_dir(&wf.id).display().to_string(),
    ));
    if let Some(result) = &wf.result {
        lines.push(field("Files:", result.files.join(", ")));
    }
    lines.push(Line::styled("esc closes", theme::dim()));
    popup(frame, "Workflow", lines, 90);
}

pub fn confirm_quit(app: &App, frame: &mut Frame) {
    let live = app.store.live().count();
    let lines = vec![
        Line::raw(format!(
            "{live} workflow{} still live.",
            if live == 1 { " is" } else { "s are" }
        )),
        Line::raw("Quit and cancel them?"),
        Line::from(vec![
            Span::styled("y", theme::key()),
            Span::raw(" quit   "),
            Span::styled("n", theme::key()),
            Span::raw(" / esc stay"),
        ]),
    ];
    popup(frame, "Quit flotilla?", lines, 44);
}
