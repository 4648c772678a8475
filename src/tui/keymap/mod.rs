//! Keys → actions, from `keybindings.toml`: the default file at the repo root is embedded, and a
//! user's file overrides only the actions it names.
//!
//! ```
//! use flotilla::keymap::{Action, Focus, Keymap};
//! use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
//!
//! let user = "[table]\ncancel = \"x\"\n";
//! let keymap = Keymap::with_user(std::path::Path::new("keybindings.toml"), user).unwrap();
//! let x = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE);
//! let c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::NONE);
//! assert_eq!(keymap.action(Focus::Table, &x), Some(Action::Cancel));
//! assert_eq!(keymap.action(Focus::Table, &c), None);
//! // Everything the user did not name keeps its default.
//! let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
//! assert_eq!(keymap.action(Focus::Table, &q), Some(Action::Quit));
//! ```

use crate::config::{ConfigError, line_of};

mod key;
use crossterm::event::KeyEvent;
pub use key::Key;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use toml::Spanned;

/// The default bindings, shipped with the binary.
pub const DEFAULT_KEYBINDINGS: &str = include_str!("../../../keybindings.toml");

/// Everything a key can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Quit flotilla, asking first while workflows are live.
    Quit,
    /// Start the typed description as a foreground workflow (it takes the selection).
    Submit,
    /// Start the typed description in the background (the selection stays).
    SubmitBackground,
    /// Select the next workflow in the table.
    SelectNext,
    /// Select the previous workflow in the table.
    SelectPrev,
    /// Move focus: input → table → log.
    FocusNext,
    /// Move focus backwards: log → table → input.
    FocusPrev,
    /// Put focus on the input box.
    FocusInput,
    /// Scroll the log up one line (stops following).
    ScrollUp,
    /// Scroll the log down one line.
    ScrollDown,
    /// Scroll the log up one page (stops following).
    PageUp,
    /// Scroll the log down one page.
    PageDown,
    /// Jump to the log's first line (stops following).
    ScrollTop,
    /// Jump to the log's end and follow it again.
    ScrollBottom,
    /// Show the selected workflow's details.
    ShowDetails,
    /// Cancel the selected workflow.
    Cancel,
    /// Show every key and command.
    Help,
    /// Close an overlay, or go back to the input box.
    Close,
    /// Show the plan in the result view.
    ShowPlan,
    /// Show the code in the result view.
    ShowCode,
    /// Show the tests in the result view.
    ShowTests,
    /// Show the last test output in the result view.
    ShowOutput,
    /// Show the change to the repository in the result view.
    ShowDiff,
    /// Apply the selected workflow's change to your current branch (asks first for a failed one).
    Apply,
    /// Remove the selected workflow's worktree and branch (asks first).
    Discard,
    /// Show the result view's next tab.
    ResultNext,
    /// Show the result view's previous tab.
    ResultPrev,
    /// Open the selected workflow's main file in $EDITOR.
    OpenEditor,
    /// Start the selected workflow again, as a new workflow linked to it.
    Retry,
    /// Delete the selected finished workflow and its folder (asks first).
    Delete,
    /// Copy the selected workflow's folder path (or show it, without a clipboard).
    CopyPath,
    /// Filter the table by status or text.
    Filter,
    /// Say yes to a question (delete, clear, quit).
    Confirm,
    /// Clear the input box up to the cursor (the shell's ctrl-u).
    ClearInput,
    /// Undo the last change to the input box.
    UndoInput,
}

impl Action {
    /// Every action, in the order the help overlay lists them.
    pub const ALL: [Action; 35] = [
        Action::Submit,
        Action::SubmitBackground,
        Action::ClearInput,
        Action::UndoInput,
        Action::SelectNext,
        Action::SelectPrev,
        Action::FocusNext,
        Action::FocusPrev,
        Action::FocusInput,
        Action::ShowDetails,
        Action::Cancel,
        Action::ScrollUp,
        Action::ScrollDown,
        Action::PageUp,
        Action::PageDown,
        Action::ScrollTop,
        Action::ScrollBottom,
        Action::ShowPlan,
        Action::ShowCode,
        Action::ShowTests,
        Action::ShowOutput,
        Action::ShowDiff,
        Action::ResultNext,
        Action::ResultPrev,
        Action::OpenEditor,
        Action::Retry,
        Action::Delete,
        Action::Apply,
        Action::Discard,
        Action::CopyPath,
        Action::Filter,
        Action::Confirm,
        Action::Help,
        Action::Close,
        Action::Quit,
    ];

    /// A word or two for the footer.
    pub fn short(self) -> &'static str {
        match self {
            Self::Submit => "start",
            Self::SubmitBackground => "background",
            Self::SelectNext => "next",
            Self::SelectPrev => "prev",
            Self::FocusNext => "pane",
            Self::ShowDetails => "details",
            Self::Cancel => "cancel",
            Self::ScrollUp => "up",
            Self::ScrollDown => "down",
            Self::PageUp => "page up",
            Self::ScrollBottom => "follow",
            Self::ResultNext => "tab",
            Self::OpenEditor => "edit",
            Self::Retry => "retry",
            Self::Delete => "delete",
            Self::ShowDiff => "diff",
            Self::Apply => "apply",
            Self::Discard => "discard",
            Self::Filter => "filter",
            Self::CopyPath => "copy path",
            other => other.describe(),
        }
    }

    /// What the action does, for the help overlay.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Quit => "quit",
            Self::Submit => "start workflow",
            Self::SubmitBackground => "start in background",
            Self::SelectNext => "next workflow",
            Self::SelectPrev => "previous workflow",
            Self::FocusNext => "next pane",
            Self::FocusPrev => "previous pane",
            Self::FocusInput => "type",
            Self::ScrollUp => "scroll up",
            Self::ScrollDown => "scroll down",
            Self::PageUp => "page up",
            Self::PageDown => "page down",
            Self::ScrollTop => "log start",
            Self::ScrollBottom => "log end, follow",
            Self::ShowDetails => "details",
            Self::Cancel => "cancel workflow",
            Self::Help => "help",
            Self::Close => "close",
            Self::ShowPlan => "result: plan",
            Self::ShowCode => "result: code",
            Self::ShowTests => "result: tests",
            Self::ShowOutput => "result: test output",
            Self::ShowDiff => "result: diff",
            Self::Apply => "apply the change to your branch",
            Self::Discard => "discard worktree and branch",
            Self::ResultNext => "result: next tab",
            Self::ResultPrev => "result: previous tab",
            Self::OpenEditor => "open code in $EDITOR",
            Self::Retry => "retry workflow",
            Self::Delete => "delete workflow",
            Self::CopyPath => "copy folder path",
            Self::Filter => "filter the table",
            Self::Confirm => "yes",
            Self::ClearInput => "clear to the line's start",
            Self::UndoInput => "undo typing",
        }
    }
}

/// Which part of the dashboard has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Focus {
    Input,
    Table,
    Log,
    /// The result view: plan, code, tests, test output.
    Result,
}

impl Focus {
    fn section(self) -> Section {
        match self {
            Self::Input => Section::Input,
            Self::Table => Section::Table,
            Self::Log => Section::Log,
            Self::Result => Section::Result,
        }
    }
}

/// A section of `keybindings.toml`: a pane with focus, or a pop-up or the filter line while
/// it is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Global,
    Input,
    Table,
    Log,
    Result,
    /// A question: delete, clear or quit.
    Confirm,
    Help,
    Details,
    /// Typing a filter for the table.
    Filter,
}

impl Section {
    pub const ALL: [Section; 9] = [
        Self::Global,
        Self::Input,
        Self::Table,
        Self::Log,
        Self::Result,
        Self::Confirm,
        Self::Help,
        Self::Details,
        Self::Filter,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::Input => "input",
            Self::Table => "table",
            Self::Log => "log",
            Self::Result => "result",
            Self::Confirm => "confirm",
            Self::Help => "help",
            Self::Details => "details",
            Self::Filter => "filter",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum KeySpec {
    One(String),
    Many(Vec<String>),
}

type RawFile = BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, Spanned<KeySpec>>>;

/// The bindings of every section, in file order per section.
#[derive(Debug, Clone, Default)]
pub struct Keymap {
    bindings: BTreeMap<Section, BTreeMap<Action, Vec<Key>>>,
    lookup: HashMap<(Section, Key), Action>,
}

impl Keymap {
    /// The embedded defaults.
    pub fn defaults() -> Self {
        let mut keymap = Self::default();
        // The embedded file is checked by a test; a broken one must not stop the app.
        if let Ok(parsed) = parse_file(
            Path::new("keybindings.toml (built in)"),
            DEFAULT_KEYBINDINGS,
        ) {
            keymap.merge(parsed);
        }
        keymap
    }

    /// The defaults with a user file's text merged over them.
    pub fn with_user(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let mut keymap = Self::defaults();
        keymap.merge(parse_file(path, text)?);
        Ok(keymap)
    }

    /// The defaults, with `path` merged over them if it exists.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::with_user(path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::defaults()),
            Err(e) => Err(ConfigError {
                path: path.to_owned(),
                line: None,
                message: format!("cannot read: {e}"),
            }),
        }
    }

    fn merge(&mut self, parsed: Vec<(Section, Action, Vec<Key>)>) {
        for (section, action, keys) in parsed {
            let actions = self.bindings.entry(section).or_default();
            // A key moves to the action that now names it.
            for list in actions.values_mut() {
                list.retain(|k| !keys.contains(k));
            }
            actions.insert(action, keys);
        }
        self.lookup = self
            .bindings
            .iter()
            .flat_map(|(section, actions)| {
                actions.iter().flat_map(move |(action, keys)| {
                    keys.iter().map(move |k| ((*section, *k), *action))
                })
            })
            .collect();
    }

    /// The action a key asks for in a focus: the focus's own binding, else a global one.
    pub fn action(&self, focus: Focus, event: &KeyEvent) -> Option<Action> {
        self.action_in(focus.section(), event)
    }

    /// The action a key asks for in a section: its own binding, else a global one.
    pub fn action_in(&self, section: Section, event: &KeyEvent) -> Option<Action> {
        let key = Key::from_event(event);
        self.lookup
            .get(&(section, key))
            .or_else(|| self.lookup.get(&(Section::Global, key)))
            .copied()
    }

    /// The keys of `action` in `section` (its own, else the global ones), as the pop-ups name
    /// them: `y / enter`.
    pub fn label(&self, section: Section, action: Action) -> String {
        let own = self.keys(section, action);
        let keys = if own.is_empty() {
            self.keys(Section::Global, action)
        } else {
            own
        };
        keys.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" / ")
    }

    /// The keys bound to `action` in `section`.
    pub fn keys(&self, section: Section, action: Action) -> &[Key] {
        self.bindings
            .get(&section)
            .and_then(|a| a.get(&action))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The keys for `action` that work in `focus`, the focus's own first.
    pub fn keys_in(&self, focus: Focus, action: Action) -> Vec<Key> {
        let own = self.keys(focus.section(), action);
        let global = self.keys(Section::Global, action);
        own.iter()
            .chain(
                global
                    .iter()
                    .filter(|k| !self.lookup.contains_key(&(focus.section(), **k))),
            )
            .copied()
            .collect()
    }

    /// Every binding, section by section, for the help overlay.
    pub fn all(&self) -> impl Iterator<Item = (Section, Action, &[Key])> {
        self.bindings.iter().flat_map(|(section, actions)| {
            actions
                .iter()
                .filter(|(_, keys)| !keys.is_empty())
                .map(move |(a, k)| (*section, *a, k.as_slice()))
        })
    }
}

fn parse_file(path: &Path, text: &str) -> Result<Vec<(Section, Action, Vec<Key>)>, ConfigError> {
    let err = |span: std::ops::Range<usize>, message: String| ConfigError {
        path: path.to_owned(),
        line: Some(line_of(text, span.start)),
        message,
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| ConfigError {
        path: path.to_owned(),
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim().to_owned(),
    })?;
    let mut out = Vec::new();
    for (section_name, actions) in raw {
        let section: Section = Section::deserialize(serde::de::value::StrDeserializer::<
            serde::de::value::Error,
        >::new(section_name.get_ref()))
        .map_err(|_| {
            err(
                section_name.span(),
                format!(
                    "unknown section [{}]: expected one of {}",
                    section_name.get_ref(),
                    Section::ALL
                        .iter()
                        .map(|s| format!("[{}]", s.as_str()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        for (action_name, spec) in actions {
            let action = Action::deserialize(serde::de::value::StrDeserializer::<
                serde::de::value::Error,
            >::new(action_name.get_ref()))
            .map_err(|_| {
                err(
                    action_name.span(),
                    format!(
                        "unknown action {:?}: expected one of {}",
                        action_name.get_ref(),
                        action_names()
                    ),
                )
            })?;
            let span = spec.span();
            let names = match spec.into_inner() {
                KeySpec::One(k) => vec![k],
                KeySpec::Many(ks) => ks,
            };
            let keys = names
                .iter()
                .map(|k| Key::parse(k))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|bad| err(span.clone(), format!("{bad} for action {}: expected a key such as \"q\", \"ctrl-c\", \"alt-enter\" or \"pageup\"", action_name.get_ref())))?;
            out.push((section, action, keys));
        }
    }
    Ok(out)
}

fn action_names() -> String {
    Action::ALL
        .iter()
        .filter_map(|a| serde_json::to_value(a).ok())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests;
