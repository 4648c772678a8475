use super::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

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
