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
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;
use toml::Spanned;

/// The default bindings, shipped with the binary.
pub const DEFAULT_KEYBINDINGS: &str = include_str!("../keybindings.toml");

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
}

impl Action {
    /// Every action, in the order the help overlay lists them.
    pub const ALL: [Action; 18] = [
        Action::Submit,
        Action::SubmitBackground,
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
        }
    }
}

/// Which part of the dashboard has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Focus {
    Input,
    Table,
    Log,
}

impl Focus {
    fn section(self) -> Section {
        match self {
            Self::Input => Section::Input,
            Self::Table => Section::Table,
            Self::Log => Section::Log,
        }
    }
}

/// A section of `keybindings.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Global,
    Input,
    Table,
    Log,
}

impl Section {
    pub const ALL: [Section; 4] = [Self::Global, Self::Input, Self::Table, Self::Log];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::Input => "input",
            Self::Table => "table",
            Self::Log => "log",
        }
    }
}

/// A key with its modifiers, normalized so that `?` and `shift-?` are the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

impl Key {
    pub fn from_event(event: &KeyEvent) -> Self {
        Self::normalized(event.code, event.modifiers)
    }

    fn normalized(code: KeyCode, modifiers: KeyModifiers) -> Self {
        let mut modifiers =
            modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match code {
            // The character already carries shift.
            KeyCode::Char(c) => {
                modifiers.remove(KeyModifiers::SHIFT);
                KeyCode::Char(if modifiers.contains(KeyModifiers::CONTROL) {
                    c.to_ascii_lowercase()
                } else {
                    c
                })
            }
            KeyCode::BackTab => {
                modifiers.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            KeyCode::Tab if modifiers.contains(KeyModifiers::SHIFT) => {
                modifiers.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Self { code, modifiers }
    }

    /// Parses `ctrl-c`, `alt-enter`, `shift-tab`, `pageup`, `?`, `f5`…
    pub fn parse(text: &str) -> Result<Self, String> {
        let lower = text.trim();
        if lower.is_empty() {
            return Err("an empty key".into());
        }
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = lower;
        while let Some((head, tail)) = rest.split_once(['-', '+']).filter(|(_, t)| !t.is_empty()) {
            match head.to_ascii_lowercase().as_str() {
                "ctrl" | "control" => modifiers |= KeyModifiers::CONTROL,
                "alt" | "meta" => modifiers |= KeyModifiers::ALT,
                "shift" => modifiers |= KeyModifiers::SHIFT,
                _ => break,
            }
            rest = tail;
        }
        let name = rest.to_ascii_lowercase();
        let code = match name.as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "insert" | "ins" => KeyCode::Insert,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" | "pgup" => KeyCode::PageUp,
            "pagedown" | "pgdn" => KeyCode::PageDown,
            "minus" => KeyCode::Char('-'),
            f if f.len() > 1
                && f.starts_with('f')
                && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
            {
                KeyCode::F(f[1..].parse().unwrap_or(1))
            }
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if !c.is_control() => KeyCode::Char(c),
                    _ => return Err(format!("{text:?} is not a key")),
                }
            }
        };
        Ok(Self::normalized(code, modifiers))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Delete => f.write_str("delete"),
            KeyCode::Insert => f.write_str("insert"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            other => write!(f, "{other:?}"),
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
        let key = Key::from_event(event);
        self.lookup
            .get(&(focus.section(), key))
            .or_else(|| self.lookup.get(&(Section::Global, key)))
            .copied()
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
                    "unknown section [{}]: expected one of [global], [input], [table], [log]",
                    section_name.get_ref()
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
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn defaults_parse_and_cover_the_documented_keys() {
        parse_file(Path::new("keybindings.toml"), DEFAULT_KEYBINDINGS)
            .map_err(|e| e.to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        let k = Keymap::defaults();
        let none = KeyModifiers::NONE;
        assert_eq!(
            k.action(Focus::Input, &key(KeyCode::Enter, none)),
            Some(Action::Submit)
        );
        assert_eq!(
            k.action(Focus::Input, &key(KeyCode::Enter, KeyModifiers::ALT)),
            Some(Action::SubmitBackground)
        );
        assert_eq!(
            k.action(
                Focus::Input,
                &key(KeyCode::Char('g'), KeyModifiers::CONTROL)
            ),
            Some(Action::SubmitBackground)
        );
        assert_eq!(
            k.action(Focus::Input, &key(KeyCode::Down, none)),
            Some(Action::SelectNext)
        );
        assert_eq!(
            k.action(Focus::Log, &key(KeyCode::Up, none)),
            Some(Action::SelectPrev)
        );
        assert_eq!(
            k.action(Focus::Table, &key(KeyCode::Char('j'), none)),
            Some(Action::SelectNext)
        );
        // Typing j or q in the input box types them.
        assert_eq!(k.action(Focus::Input, &key(KeyCode::Char('j'), none)), None);
        assert_eq!(k.action(Focus::Input, &key(KeyCode::Char('q'), none)), None);
        assert_eq!(
            k.action(Focus::Input, &key(KeyCode::Char('?'), KeyModifiers::SHIFT)),
            None
        );
        assert_eq!(
            k.action(Focus::Table, &key(KeyCode::Char('?'), KeyModifiers::SHIFT)),
            Some(Action::Help)
        );
        assert_eq!(
            k.action(Focus::Input, &key(KeyCode::Tab, none)),
            Some(Action::FocusNext)
        );
        assert_eq!(
            k.action(Focus::Log, &key(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Action::FocusPrev)
        );
        assert_eq!(
            k.action(Focus::Table, &key(KeyCode::Char('c'), none)),
            Some(Action::Cancel)
        );
        assert_eq!(
            k.action(
                Focus::Input,
                &key(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit)
        );
        assert_eq!(
            k.action(Focus::Log, &key(KeyCode::End, none)),
            Some(Action::ScrollBottom)
        );
        assert_eq!(
            k.action(Focus::Input, &key(KeyCode::PageUp, none)),
            Some(Action::PageUp)
        );
        assert_eq!(
            k.action(Focus::Table, &key(KeyCode::Enter, none)),
            Some(Action::ShowDetails)
        );
    }

    #[test]
    fn user_file_overrides_only_what_it_names() {
        let user = "[input]\nsubmit_background = \"ctrl-b\"\n[global]\nhelp = \"f2\"\n";
        let k = Keymap::with_user(Path::new("u.toml"), user)
            .map_err(|e| e.to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        let ctrl = KeyModifiers::CONTROL;
        assert_eq!(
            k.action(Focus::Input, &key(KeyCode::Char('b'), ctrl)),
            Some(Action::SubmitBackground)
        );
        assert_eq!(k.action(Focus::Input, &key(KeyCode::Char('g'), ctrl)), None);
        assert_eq!(
            k.action(Focus::Input, &key(KeyCode::Enter, KeyModifiers::NONE)),
            Some(Action::Submit)
        );
        assert_eq!(
            k.action(Focus::Log, &key(KeyCode::F(2), KeyModifiers::NONE)),
            Some(Action::Help)
        );
        assert_eq!(
            k.action(Focus::Log, &key(KeyCode::F(1), KeyModifiers::NONE)),
            None
        );
        assert_eq!(
            k.action(Focus::Table, &key(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some(Action::Quit)
        );
    }

    #[test]
    fn a_key_taken_by_another_action_moves() {
        let user = "[table]\nshow_details = \"c\"\n";
        let k = Keymap::with_user(Path::new("u.toml"), user)
            .map_err(|e| e.to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            k.action(Focus::Table, &key(KeyCode::Char('c'), KeyModifiers::NONE)),
            Some(Action::ShowDetails)
        );
        assert!(k.keys(Section::Table, Action::Cancel).is_empty());
    }

    #[test]
    fn unknown_action_names_file_line_and_value() {
        let user = "[table]\nquit = \"q\"\nexplode = \"x\"\n";
        let e = Keymap::with_user(Path::new("/home/u/keybindings.toml"), user).err();
        let e = e.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            e.starts_with("/home/u/keybindings.toml, line 3: unknown action \"explode\""),
            "{e}"
        );
    }

    #[test]
    fn bad_key_names_file_line_and_value() {
        let user = "[global]\n\nquit = [\"ctrl-c\", \"ctrl-nope\"]\n";
        let e = Keymap::with_user(Path::new("k.toml"), user).err();
        let e = e.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            e.starts_with("k.toml, line 3: \"ctrl-nope\" is not a key"),
            "{e}"
        );
    }

    #[test]
    fn unknown_section_and_bad_toml_are_reported() {
        let e = Keymap::with_user(Path::new("k.toml"), "[tabel]\nquit = \"q\"\n").err();
        assert_eq!(e.as_ref().and_then(|e| e.line), Some(1));
        let e = Keymap::with_user(Path::new("k.toml"), "[global]\nquit = \n").err();
        assert_eq!(e.as_ref().and_then(|e| e.line), Some(2));
    }

    #[test]
    fn keys_parse_and_print() {
        for (text, shown) in [
            ("ctrl-c", "ctrl-c"),
            ("alt-enter", "alt-enter"),
            ("shift-tab", "shift-tab"),
            ("PageUp", "pgup"),
            ("?", "?"),
            ("f5", "f5"),
            ("space", "space"),
            ("ctrl+G", "ctrl-g"),
        ] {
            let k = Key::parse(text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(k.to_string(), shown);
        }
        assert!(Key::parse("f13").is_err());
        assert!(Key::parse("hyper-x").is_err());
        assert!(Key::parse("").is_err());
    }
}
