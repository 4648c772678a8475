//! The mouse: a click selects a table row, gives a pane focus or picks a result tab; the wheel
//! scrolls the pane under the pointer (the table's selection, the log, the result view).

use super::layout::layout;
use super::{App, Mode};
use crate::event::ArtifactKind;
use crate::keymap::{Action, Focus};
use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

/// Lines one notch of the wheel scrolls.
const WHEEL_LINES: usize = 3;

impl App {
    pub(super) fn handle_mouse(&mut self, mouse: MouseEvent) {
        if self.view.mode != Mode::Normal {
            return;
        }
        let areas = layout(Rect::new(0, 0, self.view.size.0, self.view.size.1));
        let at = Position::new(mouse.column, mouse.row);
        let pane = [
            (areas.table, Focus::Table),
            (areas.log, Focus::Log),
            (areas.result, Focus::Result),
            (areas.input, Focus::Input),
        ]
        .into_iter()
        .find(|(area, _)| area.contains(at));
        let Some((area, focus)) = pane else { return };
        match mouse.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                self.set_focus(focus);
                match focus {
                    Focus::Table => self.click_row(area, at.y),
                    Focus::Result if at.y == area.y => {
                        if let Some(tab) = tab_at(area, at.x) {
                            self.view.result_view.show(tab);
                        }
                    }
                    _ => {}
                }
            }
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let down = mouse.kind == MouseEventKind::ScrollDown;
                match focus {
                    Focus::Table => self.move_selection(if down { 1 } else { -1 }),
                    Focus::Log | Focus::Result => {
                        // The pane under the pointer scrolls, wherever the focus is.
                        let keep = self.view.focus;
                        self.set_focus(focus);
                        let step = if down {
                            Action::ScrollDown
                        } else {
                            Action::ScrollUp
                        };
                        for _ in 0..WHEEL_LINES {
                            self.dispatch(step);
                        }
                        self.set_focus(keep);
                    }
                    Focus::Input => {}
                }
            }
            _ => {}
        }
    }

    /// Selects the table row drawn at line `y` of the table's `area`.
    fn click_row(&mut self, area: Rect, y: u16) {
        // The border and the column titles come first.
        let Some(line) = y.checked_sub(area.y + 2) else {
            return;
        };
        let shown = self.visible();
        let rows = area.height.saturating_sub(3) as usize;
        let index = self.table_offset(&shown, rows) + line as usize;
        if (line as usize) < rows
            && let Some(id) = shown
                .get(index)
                .and_then(|&i| self.model.store.at(i))
                .map(|w| w.id.clone())
        {
            self.select(Some(id));
        }
    }
}

/// The result tab whose title is at column `x` of the result view's top border.
fn tab_at(area: Rect, x: u16) -> Option<ArtifactKind> {
    // The title starts after the corner and a space: "1 Plan │ 2 Code │ …".
    let mut start = area.x + 2;
    for kind in ArtifactKind::ALL {
        let width = kind.tab_label().chars().count() as u16;
        if (start..start + width).contains(&x) {
            return Some(kind);
        }
        start += width + 3;
    }
    None
}
