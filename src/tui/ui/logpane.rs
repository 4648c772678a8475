//! The selected workflow's log, following its tail unless the user scrolled up.

use crate::app::App;
use crate::config::ConfigSource;
use crate::event::Health;
use crate::keymap::{Action, Focus, Section};
use crate::workflow::format_ago;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

/// `name (id) · status · progress · started 45s ago`, over the log and the result view.
pub fn render_header(app: &App, frame: &mut Frame, area: Rect) {
    let Some(wf) = app.selected_workflow() else {
        return;
    };
    let ago = format_ago(
        app.view()
            .now
            .duration_since(wf.start_time)
            .unwrap_or_default(),
    );
    let head = format!(" {} ({}) · ", wf.label(), wf.id);
    let tail = format!(" · started {ago}");
    // A long progress (a failure's reason) gives way so the age stays on screen.
    let room = (area.width as usize).saturating_sub(
        head.chars().count() + wf.status().as_str().len() + 3 + tail.chars().count(),
    );
    let progress = if wf.progress.chars().count() > room {
        format!(
            "{}…",
            wf.progress
                .chars()
                .take(room.saturating_sub(1))
                .collect::<String>()
        )
    } else {
        wf.progress.clone()
    };
    let line = Line::from(vec![
        Span::raw(" "),
        Span::styled(wf.label().to_owned(), app.view().theme.title()),
        Span::raw(format!(" ({}) · ", wf.id)),
        Span::styled(wf.status().as_str(), app.view().theme.status(wf.status())),
        Span::raw(format!(" · {progress}{tail}")),
    ]);
    frame.render_widget(line, area);
}

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let mut block = Block::bordered()
        .border_style(app.view().theme.border(app.view().focus == Focus::Log))
        .title(" Log ");
    if app.selected_workflow().is_none() {
        frame.render_widget(
            Paragraph::new(welcome(app, area.width.saturating_sub(2) as usize)).block(block),
            area,
        );
        return;
    }
    if !app.view().log_view.follows() {
        let end = app
            .keymap()
            .keys(Section::Log, Action::ScrollBottom)
            .first()
            .map(ToString::to_string);
        let hint = format!(" paused · {} to follow ", end.as_deref().unwrap_or("end"));
        block = block.title_bottom(Line::styled(hint, app.view().theme.warn()).right_aligned());
    }
    let height = area.height.saturating_sub(2) as usize;
    let lines: Vec<Line> = app
        .selected_log()
        .map(|log| {
            log.lines(app.log_top(), height)
                .map(|l| Line::raw(l.to_owned()))
                .collect()
        })
        .unwrap_or_default();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// What the log pane says before there is any workflow: paragraphs wrapped to `width` with
/// their indent kept.
fn welcome(app: &App, width: usize) -> Vec<Line<'static>> {
    let mut paragraphs: Vec<(String, Style)> = vec![
        (
            "Type a task description and press Enter to start a workflow.".into(),
            app.view().theme.title(),
        ),
        (
            "alt-enter or ctrl-g (or /generate -b …) starts it in the background; /help lists everything.".into(),
            Style::new(),
        ),
        (String::new(), Style::new()),
    ];
    // On a repository: what happens to it.
    if let Some(project) = &app.engine().config().project {
        paragraphs.push((
            format!(
                "Working on {} ({}): each workflow gets a worktree and a branch flotilla/<n>-<name> of its own, and the project's tests judge its code. Your checkout is not touched until you apply: 5 shows a workflow's diff, a applies it as one commit, x discards it.",
                project.root.display(),
                project.kind.as_str()
            ),
            app.view().theme.info(),
        ));
        paragraphs.push((String::new(), Style::new()));
    }
    // The demo (scripts/run): nothing configured, a small model served in process.
    if let ConfigSource::EmbeddedDefault(model) = &app.engine().config().source {
        paragraphs.push((
            format!(
                "What to expect: {} is a tiny model, run on your CPU. One-function tasks (\"write a python function is_even(n)\") work some of the time; bigger ones mostly fail. For code worth keeping, point flotilla at a bigger model (README: Your model server).",
                crate::serve::model_id(model)
            ),
            app.view().theme.warn(),
        ));
    }
    let down = app.engine().servers().filter(|s| {
        matches!(
            app.model().health.get(&s.label),
            Some(Health::Unreachable(_))
        )
    });
    for s in down {
        let p = &s.provider;
        paragraphs.push((
            format!("No model server answers at {} ({}).", p.location(), s.label),
            app.view().theme.bad(),
        ));
        paragraphs.push((
            format!(
                "Either {}, or set [providers] in {} (see the README), then check with `flotilla doctor`.",
                p.remedy(),
                app.engine().home().config_file.display()
            ),
            Style::new(),
        ));
    }
    paragraphs.push((
        format!("Configuration: {}", app.engine().config().source),
        app.view().theme.dim(),
    ));
    let mut lines = vec![Line::raw("")];
    for (text, style) in paragraphs {
        for line in super::wrap_words(&text, width.saturating_sub(2)) {
            lines.push(Line::styled(format!("  {line}"), style));
        }
    }
    lines
}
