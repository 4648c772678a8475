//! The log pane's own state and keys: where it is scrolled to, or that it follows the tail.

use crate::keymap::Action;

/// The log pane's position: following the tail until a key scrolls it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogView {
    /// The first shown line, or `None` while it follows the tail.
    scroll: Option<usize>,
}

impl LogView {
    /// Whether new lines move the view (it shows the tail).
    pub fn follows(&self) -> bool {
        self.scroll.is_none()
    }

    /// Back to following the tail (another workflow was selected).
    pub fn follow(&mut self) {
        self.scroll = None;
    }

    /// The first line shown of a log of `len` lines in a pane `height` lines high.
    pub fn top(&self, len: usize, height: usize) -> usize {
        let tail = len.saturating_sub(height);
        self.scroll.map_or(tail, |top| top.min(tail))
    }

    /// The pane's keys: the scrolling ones. False for any other action.
    pub fn act(&mut self, action: Action, len: usize, height: usize) -> bool {
        let page = height.saturating_sub(1).max(1) as isize;
        match action {
            Action::ScrollUp => self.scroll_by(-1, len, height),
            Action::ScrollDown => self.scroll_by(1, len, height),
            Action::PageUp => self.scroll_by(-page, len, height),
            Action::PageDown => self.scroll_by(page, len, height),
            Action::ScrollTop => self.scroll = Some(0),
            Action::ScrollBottom => self.scroll = None,
            _ => return false,
        }
        true
    }

    fn scroll_by(&mut self, delta: isize, len: usize, height: usize) {
        if self.scroll.is_none() && delta > 0 {
            return;
        }
        // Scrolling stops following the tail; only ScrollBottom (End) follows it again.
        let tail = len.saturating_sub(height);
        let top = self.top(len, height).saturating_add_signed(delta);
        self.scroll = Some(top.min(tail));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrolling_pauses_the_tail_and_end_follows_it_again() {
        let mut view = LogView::default();
        assert_eq!(view.top(100, 10), 90);
        // Down while following changes nothing.
        assert!(view.act(Action::ScrollDown, 100, 10));
        assert!(view.follows());
        assert!(view.act(Action::PageUp, 100, 10));
        assert_eq!(view.top(100, 10), 81);
        // New lines do not move a paused view.
        assert_eq!(view.top(150, 10), 81);
        // Paging down to the end keeps it paused.
        view.act(Action::PageDown, 150, 10);
        view.act(Action::PageDown, 150, 10);
        assert_eq!(view.top(150, 10), 99);
        assert!(!view.follows());
        view.act(Action::ScrollTop, 150, 10);
        assert_eq!(view.top(150, 10), 0);
        view.act(Action::ScrollBottom, 150, 10);
        assert!(view.follows());
        assert!(!view.act(Action::Retry, 150, 10));
    }
}
