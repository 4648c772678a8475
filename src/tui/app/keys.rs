//! Keys in, state changes out: the terminal's events, the input mode that decides which
//! section of `keybindings.toml` reads a key, pop-ups' answers, and the actions no pane takes.

use super::effect;
use super::{App, Mode, Overlay};
use crate::keymap::{Action, Focus, Section};
use crossterm::event::{Event as TermEvent, KeyEvent, KeyEventKind};

impl App {
    /// A terminal event: keys, pastes, resizes.
    pub(super) fn handle_terminal_event(&mut self, event: TermEvent) {
        match event {
            TermEvent::Key(key) if key.kind != KeyEventKind::Release => self.handle_key(key),
            TermEvent::Paste(text) => {
                self.set_focus(Focus::Input);
                let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
                self.view.input.insert_str(flat);
            }
            TermEvent::Resize(w, h) => self.view.size = (w, h),
            TermEvent::Mouse(mouse) => self.handle_mouse(mouse),
            _ => {}
        }
    }

    fn handle_key(&mut self, key: KeyEvent) {
        match self.view.mode.clone() {
            Mode::Overlay(overlay) => {
                let action = self.keymap.action_in(overlay.section(), &key);
                self.overlay_action(overlay, action);
            }
            Mode::Filter => {
                let action = self.keymap.action_in(Section::Filter, &key);
                self.filter_key(action, key);
            }
            Mode::Normal => match self.keymap.action(self.view.focus, &key) {
                Some(action) => self.dispatch(action),
                None if self.view.focus == Focus::Input => self.edit_input(key),
                None => {}
            },
        }
    }

    /// A key the keymap leaves to the input box: the textarea's emacs keys, but never its own
    /// meaning of a key the keymap's [input] section could give (ctrl-u is undo to the
    /// textarea: the keymap has `clear_input` and `undo_input`), and no second line (ctrl-m).
    fn edit_input(&mut self, key: KeyEvent) {
        use crossterm::event::{KeyCode, KeyModifiers};
        let ctrl = key.modifiers == KeyModifiers::CONTROL;
        match key.code {
            KeyCode::Char('u' | 'z' | 'm') if ctrl => {}
            _ => {
                self.view.input.input(key);
            }
        }
    }

    /// The pop-up open over the dashboard, if any.
    pub fn overlay(&self) -> Option<&Overlay> {
        match &self.view.mode {
            Mode::Overlay(o) => Some(o),
            Mode::Normal | Mode::Filter => None,
        }
    }

    pub(super) fn open(&mut self, overlay: Overlay) {
        self.view.mode = Mode::Overlay(overlay);
    }

    pub(super) fn close(&mut self) {
        self.view.mode = Mode::Normal;
    }

    /// A key's action while a pop-up is open, from its section of `keybindings.toml`.
    fn overlay_action(&mut self, overlay: Overlay, action: Option<Action>) {
        match (overlay, action) {
            (Overlay::ConfirmDelete(id), Some(Action::Confirm)) => {
                self.close();
                self.delete_now(&id);
            }
            (Overlay::ConfirmClear(ids), Some(Action::Confirm)) => {
                self.close();
                self.clear_now(&ids);
            }
            (Overlay::ConfirmApply { id, staged }, Some(Action::Confirm)) => {
                self.close();
                self.ask(effect::Job::Apply { id, staged });
            }
            (Overlay::ConfirmDiscard(id), Some(Action::Confirm)) => {
                self.close();
                self.ask(effect::Job::Discard(id));
            }
            // Any other key keeps what was to be deleted, applied or discarded.
            (
                Overlay::ConfirmDelete(_)
                | Overlay::ConfirmClear(_)
                | Overlay::ConfirmApply { .. }
                | Overlay::ConfirmDiscard(_),
                _,
            ) => self.close(),
            (Overlay::ConfirmQuit, Some(Action::Confirm | Action::Quit)) => self.quit_now(),
            (Overlay::ConfirmQuit, Some(Action::Close)) => self.close(),
            (Overlay::ConfirmQuit, _) => {}
            (Overlay::Help, Some(Action::ScrollDown)) => {
                self.view.help_scroll = self.view.help_scroll.saturating_add(1);
            }
            (Overlay::Help, Some(Action::PageDown)) => {
                self.view.help_scroll = self.view.help_scroll.saturating_add(10);
            }
            (Overlay::Help, Some(Action::ScrollUp)) => {
                self.view.help_scroll = self.view.help_scroll.saturating_sub(1);
            }
            (Overlay::Help, Some(Action::PageUp)) => {
                self.view.help_scroll = self.view.help_scroll.saturating_sub(10);
            }
            (Overlay::Help | Overlay::Details(_), Some(Action::Quit)) => {
                self.dispatch(Action::Quit)
            }
            (Overlay::Details(_), Some(action @ (Action::SelectNext | Action::SelectPrev))) => {
                self.dispatch(action);
                match self.view.selected.clone() {
                    Some(id) => self.open(Overlay::Details(id)),
                    None => self.close(),
                }
            }
            (
                Overlay::Help | Overlay::Details(_),
                Some(Action::Close | Action::Help | Action::ShowDetails),
            ) => self.close(),
            (Overlay::Help | Overlay::Details(_), _) => {}
        }
    }

    pub(super) fn dispatch(&mut self, action: Action) {
        if self.pane_action(action) {
            return;
        }
        match action {
            Action::Quit => self.request_quit(),
            Action::Submit => self.submit(false),
            Action::SubmitBackground => self.submit(true),
            Action::SelectNext => self.move_selection(1),
            Action::SelectPrev => self.move_selection(-1),
            Action::FocusNext => self.set_focus(cycle(self.view.focus, 1)),
            Action::FocusPrev => self.set_focus(cycle(self.view.focus, -1)),
            Action::FocusInput => self.set_focus(Focus::Input),
            // The panes' own (`pane_action`).
            Action::ScrollUp
            | Action::ScrollDown
            | Action::PageUp
            | Action::PageDown
            | Action::ScrollTop
            | Action::ScrollBottom
            | Action::ShowPlan
            | Action::ShowCode
            | Action::ShowTests
            | Action::ShowOutput
            | Action::ShowDiff
            | Action::ResultNext
            | Action::ResultPrev => {}
            Action::OpenEditor => self.open_editor(),
            Action::Retry
            | Action::Delete
            | Action::Apply
            | Action::Discard
            | Action::ShowDetails
            | Action::Cancel => self.on_selected(action),
            Action::CopyPath => self.copy_path(),
            Action::Filter => self.start_filter(),
            Action::Help => {
                self.view.help_scroll = 0;
                self.open(Overlay::Help);
            }
            // Only a question asks for it (see `overlay_action`).
            Action::Confirm => {}
            Action::ClearInput if self.view.focus == Focus::Input => {
                self.view.input.delete_line_by_head();
            }
            Action::UndoInput if self.view.focus == Focus::Input => {
                self.view.input.undo();
            }
            Action::ClearInput | Action::UndoInput => {}
            Action::Close => {
                if !self.view.filter.is_empty() {
                    self.view.filter.clear();
                } else if self.view.focus != Focus::Input {
                    self.set_focus(Focus::Input);
                }
            }
        }
    }
    /// An action on the selected workflow; without one, a notice says so.
    fn on_selected(&mut self, action: Action) {
        let Some(id) = self.view.selected.clone() else {
            self.warn("no workflow selected");
            return;
        };
        match action {
            Action::Retry => self.retry(&id),
            Action::Delete => self.ask_delete(&id),
            Action::Apply => self.ask_apply(&id, false),
            Action::Discard => self.ask_discard(&id),
            Action::ShowDetails => self.open(Overlay::Details(id)),
            Action::Cancel => self.cancel(&id),
            _ => {}
        }
    }
}

/// The pane `step` places on from `focus` in Tab's order: input, table, log, result.
fn cycle(focus: Focus, step: isize) -> Focus {
    const ORDER: [Focus; 4] = [Focus::Input, Focus::Table, Focus::Log, Focus::Result];
    let at = ORDER.iter().position(|f| *f == focus).unwrap_or(0) as isize;
    ORDER[(at + step).rem_euclid(ORDER.len() as isize) as usize]
}
