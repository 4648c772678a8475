//! Pop-ups: the help overlay, a workflow's details, and the quit confirmation.

use crate::app::App;
use crate::keymap::{Action, Section};
use crate::tui::command::USAGE;
use crate::workflow::WorkflowId;
use crate::workflow::view::{self, FieldKind};
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

fn popup(app: &App, frame: &mut Frame, title: &str, lines: Vec<Line<'static>>, width: u16) {
    scrolled_popup(app, frame, title, lines, width, 0);
}

/// A pop-up showing `lines` from `scroll` on; it says when more lie below or above.
fn scrolled_popup(
    app: &App,
    frame: &mut Frame,
    title: &str,
    lines: Vec<Line<'static>>,
    width: u16,
    scroll: usize,
) {
    let height = lines.len() as u16 + 2;
    let area = centered(frame.area(), width, height);
    let visible = area.height.saturating_sub(2) as usize;
    let scroll = scroll.min(lines.len().saturating_sub(visible));
    let more_below = scroll + visible < lines.len();
    let lines: Vec<Line<'static>> = lines.into_iter().skip(scroll).collect();
    frame.render_widget(Clear, area);
    let mut block = Block::bordered()
        .border_style(app.view().theme.border(true))
        .title(Span::styled(format!(" {title} "), app.view().theme.title()));
    if more_below || scroll > 0 {
        let hint = match (scroll > 0, more_below) {
            (true, true) => " ↑↓ more ",
            (false, true) => " ↓ more ",
            _ => " ↑ more ",
        };
        block = block.title_bottom(Line::styled(hint, app.view().theme.warn()).right_aligned());
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        area,
    );
}

/// A help row: `label` in a column of `column` characters, `text` after it, wrapped under
/// itself (a hanging indent) within `width`; a label too long for its column gets a line of
/// its own.
fn hanging(label: Span<'static>, column: usize, text: &str, width: usize) -> Vec<Line<'static>> {
    let pad = " ".repeat(column);
    let mut out = Vec::new();
    let mut first = Some(label.clone());
    if label.width() > column {
        out.push(Line::from(label));
        first = None;
    }
    for chunk in super::wrap_words(text, width.saturating_sub(column).max(10)) {
        let lead = match first.take() {
            Some(label) => {
                let fill = " ".repeat(column - label.width());
                vec![label, Span::raw(fill)]
            }
            None => vec![Span::raw(pad.clone())],
        };
        let mut spans = lead;
        spans.push(Span::raw(chunk));
        out.push(Line::from(spans));
    }
    out
}

pub fn help(app: &App, frame: &mut Frame) {
    const WIDTH: u16 = 84;
    let inner = WIDTH.min(frame.area().width).saturating_sub(2) as usize;
    let mut lines = Vec::new();
    for action in Action::ALL {
        // Each key once, with the focuses it works in unless it works everywhere.
        let mut keys: Vec<(String, Vec<&str>)> = Vec::new();
        for section in Section::ALL {
            for key in app.keymap().keys(section, action) {
                let key = key.to_string();
                match keys.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, sections)) => sections.push(section.as_str()),
                    None => keys.push((key, vec![section.as_str()])),
                }
            }
        }
        if keys.is_empty() {
            continue;
        }
        // Keys that work in the same focuses share one "(focus)" note.
        let mut groups: Vec<(Vec<String>, Vec<&str>)> = Vec::new();
        for (key, sections) in keys {
            match groups.last_mut() {
                Some((group, s)) if *s == sections => group.push(key),
                _ => groups.push((vec![key], sections)),
            }
        }
        let keys: Vec<String> = groups
            .into_iter()
            .map(|(group, sections)| {
                if sections.contains(&"global") {
                    group.join(", ")
                } else {
                    format!("{} ({})", group.join(", "), sections.join(", "))
                }
            })
            .collect();
        lines.extend(hanging(
            Span::styled(format!("  {} ", keys.join(", ")), app.view().theme.key()),
            39,
            action.describe(),
            inner,
        ));
    }
    lines.push(Line::styled("commands", app.view().theme.dim()));
    for (usage, what) in USAGE {
        lines.extend(hanging(
            Span::styled(format!("  {usage} "), app.view().theme.key()),
            44,
            what,
            inner,
        ));
    }
    let note = format!(
        "(section): only there · keys come from keybindings.toml · {} closes",
        app.keymap().label(Section::Help, Action::Close)
    );
    for line in super::wrap_words(&note, inner) {
        lines.push(Line::styled(line, app.view().theme.dim()));
    }
    scrolled_popup(
        app,
        frame,
        "Keys and commands",
        lines,
        WIDTH,
        app.view().help_scroll,
    );
}

pub fn details(app: &App, id: &WorkflowId, frame: &mut Frame) {
    let Some(wf) = app.model().store.get(id) else {
        return;
    };
    let folder = app.engine().home().workflow_dir(&wf.id);
    let mut lines: Vec<Line> = view::fields(wf, &folder, app.view().now)
        .into_iter()
        .map(|f| {
            let style = match f.kind {
                FieldKind::Name => app.view().theme.title(),
                FieldKind::Status => app.view().theme.status(wf.status()),
                FieldKind::Error => app.view().theme.bad(),
                FieldKind::Plain => ratatui::style::Style::new(),
            };
            Line::from(vec![
                Span::styled(format!("{:<12}", f.label), app.view().theme.dim()),
                Span::styled(f.value, style),
            ])
        })
        .collect();
    lines.push(Line::styled(
        format!(
            "{} closes",
            app.keymap().label(Section::Details, Action::Close)
        ),
        app.view().theme.dim(),
    ));
    popup(app, frame, "Workflow", lines, 90);
}

pub fn confirm_quit(app: &App, frame: &mut Frame) {
    let live = app.model().store.live().count();
    // Workflows may finish while the question is open.
    let (said, asked) = match live {
        0 => ("Every workflow has finished.".to_owned(), "Quit?"),
        1 => (
            "1 workflow is still live.".to_owned(),
            "Quit and cancel it?",
        ),
        n => (
            format!("{n} workflows are still live."),
            "Quit and cancel them?",
        ),
    };
    let lines = vec![
        Line::raw(said),
        Line::raw(asked),
        answers(app, "quit", "stay"),
    ];
    popup(app, frame, "Quit flotilla?", lines, 44);
}

pub fn confirm_clear(app: &App, ids: &[WorkflowId], frame: &mut Frame) {
    let n = ids.len();
    let lines = vec![
        Line::raw(format!(
            "Delete {n} finished workflow{} and {}?",
            if n == 1 { "" } else { "s" },
            if n == 1 {
                "its folder"
            } else {
                "their folders"
            }
        )),
        Line::raw(format!(
            "They are under {}",
            app.engine().home().workflows_dir.display()
        )),
        answers(app, "delete", "keep"),
    ];
    popup(app, frame, "Clear finished workflows?", lines, 90);
}

pub fn confirm_delete(app: &App, id: &WorkflowId, frame: &mut Frame) {
    let label = app
        .model()
        .store
        .get(id)
        .map(|w| w.label().to_owned())
        .unwrap_or_default();
    let lines = vec![
        Line::raw(format!("Delete {label} ({id})?")),
        Line::raw(format!(
            "Its folder goes too: {}",
            app.engine().home().workflow_dir(id).display()
        )),
        answers(app, "delete", "keep"),
    ];
    popup(app, frame, "Delete workflow?", lines, 90);
}

/// "Apply the change of a failed workflow?"
pub fn confirm_apply(app: &App, id: &WorkflowId, staged: bool, frame: &mut Frame) {
    let w = app.model().store.get(id);
    let label = w.map(|w| w.label().to_owned()).unwrap_or_default();
    let why = w.and_then(|w| w.error()).unwrap_or_default();
    let how = if staged { "stage" } else { "commit" };
    let lines = vec![
        Line::raw(format!("{label} ({id}) failed: {why}")),
        Line::raw(format!(
            "Apply the best code it tested anyway ({how} it on your current branch)?"
        )),
        answers(app, "apply", "keep it on its branch"),
    ];
    popup(app, frame, "Apply a failed workflow?", lines, 90);
}

/// "Remove the workflow's worktree and branch?"
pub fn confirm_discard(app: &App, id: &WorkflowId, frame: &mut Frame) {
    let w = app.model().store.get(id);
    let label = w.map(|w| w.label().to_owned()).unwrap_or_default();
    let branch = w
        .and_then(|w| w.change.as_ref())
        .map(|c| c.branch.clone())
        .unwrap_or_default();
    let lines = vec![
        Line::raw(format!("Discard {label} ({id})?")),
        Line::raw(format!("Its worktree and its branch {branch} are removed.")),
        answers(app, "discard", "keep"),
    ];
    popup(app, frame, "Discard the change?", lines, 90);
}

/// A question's answers with the keys `keybindings.toml` gives them: `y / enter quit   n / esc stay`.
fn answers(app: &App, yes: &str, no: &str) -> Line<'static> {
    Line::from(vec![
        Span::styled(
            app.keymap().label(Section::Confirm, Action::Confirm),
            app.view().theme.key(),
        ),
        Span::raw(format!(" {yes}   ")),
        Span::styled(
            app.keymap().label(Section::Confirm, Action::Close),
            app.view().theme.key(),
        ),
        Span::raw(format!(" {no}")),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: &Line) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn help_rows_wrap_under_their_description() {
        let text_of = |lines: Vec<Line<'static>>| lines.iter().map(text).collect::<Vec<_>>();
        let rows = text_of(hanging(
            Span::raw("  q "),
            8,
            "quit flotilla, asking first when workflows are still running",
            30,
        ));
        assert_eq!(
            rows,
            [
                "  q     quit flotilla, asking",
                "        first when workflows",
                "        are still running",
            ]
        );
        assert!(rows.iter().all(|r| r.chars().count() <= 30));
        // A label wider than its column: on a line of its own, the text under the column.
        let rows = text_of(hanging(
            Span::raw("  alt-enter, ctrl-g "),
            8,
            "start it",
            30,
        ));
        assert_eq!(rows, ["  alt-enter, ctrl-g ", "        start it"]);
    }
}
