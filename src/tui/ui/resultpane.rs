//! The selected workflow's result view: Plan, Code, Tests and Test output, one tab at a time.

use crate::app::App;
use crate::event::ArtifactKind;
use crate::keymap::{Action, Focus, Section};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let mut tabs = vec![Span::raw(" ")];
    // The diff is a tab only for a workflow on a repository.
    let on_repo = app.selected_workflow().is_some_and(|w| w.change.is_some());
    let kinds = ArtifactKind::ALL
        .iter()
        .filter(|k| on_repo || **k != ArtifactKind::Diff);
    for (i, kind) in kinds.enumerate() {
        if i > 0 {
            tabs.push(Span::styled(" │ ", app.view().theme.dim()));
        }
        let style = if *kind == app.view().result_view.tab {
            app.view().theme.key()
        } else {
            app.view().theme.dim()
        };
        tabs.push(Span::styled(kind.tab_label(), style));
    }
    tabs.push(Span::raw(" "));
    let mut block = Block::bordered()
        .border_style(app.view().theme.border(app.view().focus == Focus::Result))
        .title(Line::from(tabs));
    let keys = |action| {
        app.keymap()
            .keys(Section::Result, action)
            .first()
            .map(ToString::to_string)
    };
    if let Some(edit) = keys(Action::OpenEditor) {
        block = block.title_bottom(
            Line::styled(
                format!(" {edit} opens the code in $EDITOR "),
                app.view().theme.dim(),
            )
            .right_aligned(),
        );
    }
    let height = area.height.saturating_sub(2) as usize;
    let artifact = app
        .view()
        .selected
        .as_ref()
        .and_then(|id| app.model().results.get(id, app.view().result_view.tab));
    let lines: Vec<Line> = match artifact {
        Some(a) => a.lines(
            app.view().result_view.scroll,
            height,
            app.view().theme.syntax,
        ),
        None => {
            let what = match app.selected_workflow() {
                None => {
                    "Select a workflow to see its plan, code, tests and test output.".to_owned()
                }
                Some(w)
                    if w.change.is_none() && app.view().result_view.tab == ArtifactKind::Diff =>
                {
                    "No diff: this workflow did not work on a repository.".to_owned()
                }
                Some(_) => format!(
                    "No {} yet.",
                    app.view().result_view.tab.title().to_lowercase()
                ),
            };
            vec![Line::styled(what, app.view().theme.dim())]
        }
    };
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
