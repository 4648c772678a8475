//! The dashboard drawn on ratatui's TestBackend: every state, the log pane following and not
//! following, the overlays and a hint. Snapshots live in tests/snapshots/.

use crossterm::event::Event as TermEvent;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use flotilla::app::effect::Effect;
use flotilla::app::{App, Msg};
use flotilla::config::Config;
use flotilla::engine::Engine;
use flotilla::event::{self, ArtifactKind, Event, Health, Outcome};
use flotilla::home::Home;
use flotilla::keymap::{Action, Focus, Keymap};
use flotilla::language::Language;
use flotilla::workflow::NameSource;
use flotilla::workflow::{Failure, Workflow, WorkflowId, WorkflowResult, WorkflowStatus};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const W: u16 = 110;
const H: u16 = 30;
const T0: u64 = 1_732_123_456;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(T0 + secs)
}

/// Paths as a user would see them (for stable snapshots), with the history in a temp folder.
fn home() -> Home {
    let mut home = Home::at(Path::new("/flotilla-home"));
    let dir = tempfile::tempdir()
        .map(|d| d.keep())
        .unwrap_or_else(|e| panic!("{e}"));
    home.db_file = dir.join("flotilla.db");
    home
}

const CONFIG: &str = "[providers.local]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:8080/v1\"\n[tiers.fast]\nprovider = \"local\"\nmodel = \"smollm2\"\n";

fn app() -> App {
    app_with(CONFIG)
}

/// The dashboard with `config` as its config.toml.
fn app_with(config: &str) -> App {
    let env = |_: &str| Err(std::env::VarError::NotPresent);
    let config = Config::parse(Path::new("/flotilla-home/config.toml"), config, &env)
        .unwrap_or_else(|e| panic!("{e}"));
    let (tx, _rx) = event::channel();
    let engine = Engine::new(config, home(), tx).unwrap_or_else(|e| panic!("{e}"));
    app_on(engine, Keymap::defaults())
}

/// The dashboard on `engine` with `keymap`, sized W × H, its clock at T0 + 60 s.
fn app_on(engine: Engine, keymap: Keymap) -> App {
    let mut app = App::new(engine, keymap);
    app.update(Msg::Term(TermEvent::Resize(W, H)));
    clock(&mut app, at(60));
    app
}

/// The dashboard with its default config and `keybindings` as the user's keybindings.toml.
fn app_keyed(keybindings: &str) -> App {
    let keymap = Keymap::with_user(Path::new("keybindings.toml"), keybindings)
        .unwrap_or_else(|e| panic!("{e}"));
    let env = |_: &str| Err(std::env::VarError::NotPresent);
    let config = Config::parse(Path::new("/flotilla-home/config.toml"), CONFIG, &env)
        .unwrap_or_else(|e| panic!("{e}"));
    let (tx, _rx) = event::channel();
    let engine = Engine::new(config, home(), tx).unwrap_or_else(|e| panic!("{e}"));
    app_on(engine, keymap)
}

fn clock(app: &mut App, now: SystemTime) {
    app.update(Msg::Clock { now, tick: 0 });
}

/// An event from the engine, as the terminal loop hands it over.
fn news(app: &mut App, event: Event) {
    app.update(Msg::Engine(event));
}

fn press(app: &mut App, key: KeyEvent) {
    app.update(Msg::Term(TermEvent::Key(key)));
}

/// Presses the first key the keymap gives `action` where the focus is.
fn act(app: &mut App, action: Action) {
    let keys = app.keymap().keys_in(app.view().focus, action);
    let Some(key) = keys.first() else {
        panic!("no key for {action:?} in {:?}", app.view().focus)
    };
    press(app, KeyEvent::new(key.code, key.modifiers));
}

/// Selects a workflow as a user would: `/wf <id>` in the input box, then Esc on its details;
/// the focus comes back to where it was.
fn select(app: &mut App, id: &WorkflowId) {
    let focus = app.view().focus;
    if focus != Focus::Input {
        act(app, Action::FocusInput);
    }
    for c in format!("/wf {id}").chars() {
        key(app, KeyCode::Char(c));
    }
    key(app, KeyCode::Enter);
    assert_eq!(app.view().selected.as_ref(), Some(id), "/wf {id}");
    key(app, KeyCode::Esc);
    while app.view().focus != focus {
        act(app, Action::FocusNext);
    }
}

/// Adds a workflow created `started` seconds after T0 and brings it to `status` through events.
fn add(
    app: &mut App,
    seq: u64,
    started: u64,
    name: Option<&str>,
    status: WorkflowStatus,
    progress: &str,
) -> WorkflowId {
    let id = WorkflowId::new(seq, at(started));
    // A new row, as another process's workflows arrive (the history's watcher).
    news(
        app,
        Event::Others(vec![Workflow::new(
            id.clone(),
            format!("task number {seq}"),
            at(started),
        )]),
    );
    if let Some(name) = name {
        news(
            app,
            Event::Named {
                id: id.clone(),
                name: name.into(),
                source: NameSource::Model,
            },
        );
    }
    match status {
        WorkflowStatus::Completed => news(
            app,
            Event::Finished {
                id: id.clone(),
                outcome: Outcome::Completed(WorkflowResult {
                    dir: PathBuf::from("/flotilla-home/workflows/x"),
                    files: vec![
                        "plan.md".into(),
                        "solution.py".into(),
                        "test_solution.py".into(),
                    ],
                    main_file: Some("solution.py".into()),
                    language: Some(Language::Python),
                    attempts: 1,
                    tests_passed: 3,
                    tests_failed: 0,
                }),
                at: at(started + 45),
            },
        ),
        WorkflowStatus::Failed => news(
            app,
            Event::Finished {
                id: id.clone(),
                outcome: Outcome::Failed(Failure::Other(progress.into())),
                at: at(started + 12),
            },
        ),
        _ => news(
            app,
            Event::Status {
                id: id.clone(),
                status,
                progress: progress.into(),
            },
        ),
    }
    id
}

fn draw(app: &App) -> Terminal<TestBackend> {
    draw_sized(app, W, H)
}

fn draw_sized(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap_or_else(|e| panic!("{e}"));
    terminal
        .draw(|f| flotilla::ui::render(app, f))
        .unwrap_or_else(|e| panic!("{e}"));
    terminal
}

fn screen(app: &App) -> String {
    draw(app).backend().to_string()
}

fn log_lines(app: &mut App, id: &WorkflowId, n: usize) {
    for i in 0..n {
        news(
            app,
            Event::Log {
                id: id.clone(),
                text: format!("line {i}\n"),
            },
        );
    }
}

fn key(app: &mut App, code: KeyCode) {
    press(app, KeyEvent::new(code, KeyModifiers::NONE));
}

#[test]
fn dashboard_shows_all_five_states() {
    let mut app = app();
    add(&mut app, 1, 0, None, WorkflowStatus::Queued, "");
    add(
        &mut app,
        2,
        5,
        None,
        WorkflowStatus::Naming,
        "Generating workflow name...",
    );
    let running = add(
        &mut app,
        3,
        10,
        Some("email-validator"),
        WorkflowStatus::Running,
        "Generating code...",
    );
    add(
        &mut app,
        4,
        2,
        Some("json-parser"),
        WorkflowStatus::Completed,
        "",
    );
    add(
        &mut app,
        5,
        3,
        Some("image-resizer"),
        WorkflowStatus::Failed,
        "cannot connect to http://127.0.0.1:8080/v1",
    );
    add(
        &mut app,
        6,
        20,
        Some("rest-client"),
        WorkflowStatus::Queued,
        "Waiting for a run slot...",
    );
    news(
        &mut app,
        Event::Health {
            provider: "local".into(),
            health: Health::Reachable(vec!["smollm2".into()]),
        },
    );
    select(&mut app, &running.clone());
    news(
        &mut app,
        Event::Log {
            id: running,
            text: "→ [email-validator] Starting workflow...\n```python\ndef validate(".into(),
        },
    );
    let text = screen(&app);
    // Each row shows its own status and progress (the header's counts name every status
    // whatever the rows say, so the rows are read by their ids).
    for (id, status, progress) in [
        ("wf_1_", "queued", ""),
        ("wf_2_", "naming", "Generating workflow name..."),
        ("wf_3_", "running", "Generating code..."),
        ("wf_4_", "completed", "Completed in 45.0s"),
        ("wf_5_", "failed", "Failed: cannot connect"),
        ("wf_6_", "queued", "Waiting for a run slot..."),
    ] {
        let row = text
            .lines()
            .find(|l| l.contains(id))
            .unwrap_or_else(|| panic!("no row for {id}\n{text}"));
        assert!(
            row.contains(&format!(" {status} ")) && row.contains(progress),
            "row {id} should say {status:?} and {progress:?}: {row}"
        );
    }
    assert!(
        text.contains(
            "email-validator (wf_3_1732123466) · running · Generating code... · started 50s ago"
        ),
        "{text}"
    );
    insta::assert_snapshot!("all_states", text);
}

/// The colour of each status's word in the table, in `WorkflowStatus::ALL`'s order.
fn status_colors(buffer: &ratatui::buffer::Buffer) -> Vec<ratatui::style::Color> {
    WorkflowStatus::ALL
        .iter()
        .map(|status| {
            let word = status.as_str();
            let pos = (0..H).find_map(|y| {
                let line: String = (0..W).map(|x| buffer[(x, y)].symbol().to_owned()).collect();
                // The table's status column, not the header's counts.
                (y > 1)
                    .then(|| line.find(&format!(" {word} ")))
                    .flatten()
                    .map(|x| (line[..x].chars().count() as u16 + 1, y))
            });
            let (x, y) = pos.unwrap_or_else(|| panic!("{word} not on screen"));
            buffer[(x, y)].fg
        })
        .collect()
}

/// One workflow in each status, the running one selected with its code shown.
fn every_status(app: &mut App) {
    let statuses = [
        (WorkflowStatus::Queued, "Waiting..."),
        (WorkflowStatus::Naming, "Generating workflow name..."),
        (WorkflowStatus::Running, "Generating code..."),
        (WorkflowStatus::Completed, ""),
        (WorkflowStatus::Failed, "boom"),
    ];
    for (i, (status, progress)) in statuses.iter().enumerate() {
        let id = add(
            app,
            i as u64 + 1,
            0,
            Some(&format!("task-{i}")),
            *status,
            progress,
        );
        if *status == WorkflowStatus::Running {
            select(app, &id.clone());
            news(
                app,
                Event::artifact(
                    id,
                    ArtifactKind::Code,
                    "def add(a, b):\n    return a + b\n",
                    Some(Language::Python),
                ),
            );
        }
    }
}

#[test]
fn each_status_has_its_own_color() {
    let mut app = app();
    every_status(&mut app);
    let colors = status_colors(draw(&app).backend().buffer());
    // Every pair differs, not only neighbours.
    for (i, a) in colors.iter().enumerate() {
        for b in &colors[i + 1..] {
            assert_ne!(a, b, "two statuses share a colour: {colors:?}");
        }
    }
}

#[test]
fn log_pane_follows_the_tail_until_scrolled_up() {
    let mut app = app();
    let id = add(
        &mut app,
        1,
        0,
        Some("csv-sum"),
        WorkflowStatus::Running,
        "Generating code...",
    );
    select(&mut app, &id.clone());
    log_lines(&mut app, &id, 100);
    let following = screen(&app);
    assert!(
        following.contains("line 99") && !following.contains("line 50 "),
        "{following}"
    );
    insta::assert_snapshot!("log_following", following);

    act(&mut app, Action::PageUp);
    let paused = screen(&app);
    assert!(!paused.contains("line 99"), "{paused}");
    assert!(paused.contains("paused · end to follow"), "{paused}");
    log_lines(&mut app, &id, 5);
    assert_eq!(
        screen(&app),
        paused.clone(),
        "new lines don't move a paused log"
    );
    insta::assert_snapshot!("log_paused", paused);

    act(&mut app, Action::PageDown);
    assert!(
        !app.view().log_view.follows(),
        "paging down does not resume following"
    );
    // End and Home are the input box's own keys: the log pane takes them when it has focus.
    while app.view().focus != Focus::Log {
        act(&mut app, Action::FocusNext);
    }
    act(&mut app, Action::ScrollBottom);
    let resumed = screen(&app);
    assert!(
        resumed.contains("line 4") && !resumed.contains("paused"),
        "{resumed}"
    );
    act(&mut app, Action::ScrollTop);
    assert!(screen(&app).contains("line 0"));
}

#[test]
fn help_overlay_lists_every_binding() {
    let mut app = app();
    key(&mut app, KeyCode::F(1));
    let first = screen(&app);
    assert!(
        first.contains("↓ more"),
        "a short terminal scrolls the help\n{first}"
    );
    insta::assert_snapshot!("help", first);
    // Everything is reachable by scrolling.
    let mut text = first.clone();
    for _ in 0..40 {
        key(&mut app, KeyCode::Down);
        text.push_str(&screen(&app));
    }
    for (_, action, _) in app.keymap().all().collect::<Vec<_>>() {
        assert!(
            text.contains(action.describe()),
            "help lacks {action:?}\n{text}"
        );
    }
    assert!(text.contains("alt-enter, ctrl-g"), "{text}");
    assert!(
        text.contains("/generate [--background|-b] <description>"),
        "{text}"
    );
    assert!(text.contains("↑ more"), "scrolled to the end: {text}");
    key(&mut app, KeyCode::Esc);
    assert!(!screen(&app).contains("Keys and commands"));
}

#[test]
fn bad_command_shows_a_hint_and_keeps_the_text() {
    let mut app = app();
    for c in "/frobnicate".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Enter);
    let text = screen(&app);
    assert!(text.contains("unknown command /frobnicate"), "{text}");
    assert!(text.contains("│/frobnicate"), "{text}");
    insta::assert_snapshot!("bad_command", text);
}

#[test]
fn details_overlay_shows_the_seed_fields() {
    let mut app = app();
    let id = add(
        &mut app,
        1,
        15,
        Some("email-validator"),
        WorkflowStatus::Running,
        "Generating code...",
    );
    select(&mut app, &id);
    act(&mut app, Action::FocusNext);
    key(&mut app, KeyCode::Enter);
    let text = screen(&app);
    for s in [
        "Workflow:   email-validator (wf_1_1732123471)",
        "Status:     running",
        "Progress:   Generating code...",
        "Started:    45s ago",
        "/flotilla-home/workflows/wf_1_1732123471",
    ] {
        assert!(text.contains(s), "missing {s:?}\n{text}");
    }
    insta::assert_snapshot!("details", text);
}

#[test]
fn unreachable_server_is_explained_on_an_empty_dashboard() {
    let mut app = app();
    news(
        &mut app,
        Event::Health {
            provider: "local".into(),
            health: Health::Unreachable("cannot connect".into()),
        },
    );
    let text = screen(&app);
    assert!(text.contains("local ✗ unreachable"), "{text}");
    assert!(
        text.contains("No model server answers at http://127.0.0.1:8080/v1"),
        "{text}"
    );
    insta::assert_snapshot!("unreachable", text);
}

#[test]
fn footer_shows_the_keys_of_the_focus() {
    let mut app = app();
    let input = screen(&app);
    assert!(
        input.contains("enter start") && input.contains("alt-enter/ctrl-g background"),
        "{input}"
    );
    act(&mut app, Action::FocusNext);
    let table = screen(&app);
    assert!(
        table.contains("j/↓ next") && table.contains("c cancel"),
        "{table}"
    );
    act(&mut app, Action::FocusNext);
    let log = screen(&app);
    assert!(log.contains("end follow"), "{log}");
}

#[test]
fn hundreds_of_workflows_keep_the_selection_on_screen() {
    let mut app = app();
    let mut last = None;
    for i in 1..=300 {
        last = Some(add(
            &mut app,
            i,
            0,
            Some(&format!("task-{i}")),
            WorkflowStatus::Running,
            "Generating code...",
        ));
    }
    select(&mut app, last.as_ref().unwrap_or_else(|| panic!("no rows")));
    let text = screen(&app);
    assert!(
        text.contains("task-300") && !text.contains("task-1 "),
        "{text}"
    );
    // The rows out of view are counted on the table's edge.
    let shown = text.lines().filter(|l| l.contains(" wf_")).count();
    assert!(text.contains(&format!("↑ {} above", 300 - shown)), "{text}");
    let row = app.model().store.at(0).map(|w| w.id.clone());
    select(&mut app, row.as_ref().unwrap_or_else(|| panic!("no row 0")));
    let text = screen(&app);
    assert!(
        text.contains(&format!("↓ {} more below", 300 - shown)),
        "{text}"
    );
    assert!(!text.contains("above"), "{text}");
}

#[test]
fn the_table_follows_new_rows_while_the_selection_is_near_the_end() {
    let mut app = app();
    for i in 1..=40 {
        add(
            &mut app,
            i,
            0,
            Some(&format!("task-{i}")),
            WorkflowStatus::Running,
            "x",
        );
    }
    // The selection on the last row; a new workflow arrives (another process, or ctrl-g).
    let row = app.model().store.at(39).map(|w| w.id.clone());
    select(
        &mut app,
        row.as_ref().unwrap_or_else(|| panic!("no row 39")),
    );
    add(
        &mut app,
        41,
        0,
        Some("task-41"),
        WorkflowStatus::Queued,
        "x",
    );
    let text = screen(&app);
    assert!(
        text.contains("task-41 "),
        "the new row is on screen: {text}"
    );
    assert!(text.contains("task-40 "), "so is the selected one: {text}");
    assert_eq!(
        app.view().selected.as_ref().map(|id| id.seq()),
        Some(40),
        "the selection stays"
    );
    // Far from the end, the table stays where the selection is.
    let row = app.model().store.at(0).map(|w| w.id.clone());
    select(&mut app, row.as_ref().unwrap_or_else(|| panic!("no row 0")));
    add(
        &mut app,
        42,
        0,
        Some("task-42"),
        WorkflowStatus::Queued,
        "x",
    );
    let text = screen(&app);
    assert!(!text.contains("task-42 ") && text.contains("↓"), "{text}");
}

#[test]
fn result_view_switches_between_plan_code_tests_and_output() {
    let mut app = app();
    let id = add(
        &mut app,
        1,
        0,
        Some("adder"),
        WorkflowStatus::Running,
        "Running tests (1/3)",
    );
    select(&mut app, &id.clone());
    let artifact = |kind, text: &str, language| Event::artifact(id.clone(), kind, text, language);
    news(
        &mut app,
        artifact(
            ArtifactKind::Plan,
            "Language: python\nFunctions:\n- add(a, b)\n",
            None,
        ),
    );
    news(
        &mut app,
        artifact(
            ArtifactKind::Code,
            "def add(a, b):\n    return a + b\n",
            Some(Language::Python),
        ),
    );
    news(
        &mut app,
        artifact(
            ArtifactKind::Tests,
            "from solution import *\n\ndef test_add():\n    assert add(2, 3) == 5\n",
            Some(Language::Python),
        ),
    );
    news(
        &mut app,
        artifact(
            ArtifactKind::TestOutput,
            "attempt 1/3: pytest — all 1 passed\n\n1 passed in 0.01s\n",
            None,
        ),
    );

    let code = screen(&app);
    assert!(
        code.contains("return a + b"),
        "code is the first tab shown\n{code}"
    );
    insta::assert_snapshot!("result_code", code);

    act(&mut app, Action::FocusNext);
    key(&mut app, KeyCode::Char('1'));
    assert!(screen(&app).contains("- add(a, b)"));
    key(&mut app, KeyCode::Char('3'));
    assert!(screen(&app).contains("def test_add():"));
    key(&mut app, KeyCode::Char(']'));
    let output = screen(&app);
    assert!(output.contains("1 passed in 0.01s"), "{output}");
    key(&mut app, KeyCode::Char(']'));
    assert!(screen(&app).contains("- add(a, b)"), "tabs wrap around");

    // The result view takes focus with Tab and scrolls on its own.
    act(&mut app, Action::FocusNext);
    act(&mut app, Action::FocusNext);
    assert_eq!(app.view().focus, Focus::Result);
    key(&mut app, KeyCode::Char('2'));
    let before = app.view().result_view.scroll;
    key(&mut app, KeyCode::Char('j'));
    assert_eq!(
        app.view().result_view.scroll,
        before,
        "a short file does not scroll past its end"
    );

    // The code is highlighted: the keyword and the name differ in colour.
    let terminal = draw(&app);
    let buffer = terminal.backend().buffer();
    let (x, y) = (0..H)
        .find_map(|y| {
            let line: String = (0..W).map(|x| buffer[(x, y)].symbol().to_owned()).collect();
            line.find("def add")
                .map(|x| (line[..x].chars().count() as u16, y))
        })
        .unwrap_or_else(|| panic!("no code on screen"));
    assert_ne!(buffer[(x, y)].fg, buffer[(x + 4, y)].fg);
}

#[test]
fn open_editor_asks_for_the_main_file() {
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let env = |_: &str| Err(std::env::VarError::NotPresent);
    let config = Config::parse(Path::new("c.toml"), "", &env).unwrap_or_else(|e| panic!("{e}"));
    let (tx, _rx) = event::channel();
    let engine = Engine::new(config, Home::at(home.path()), tx).unwrap_or_else(|e| panic!("{e}"));
    let mut app = app_on(engine, Keymap::defaults());
    let id = add(&mut app, 1, 0, Some("adder"), WorkflowStatus::Completed, "");
    select(&mut app, &id.clone());
    act(&mut app, Action::FocusNext);
    act(&mut app, Action::OpenEditor);
    assert!(
        !app.take_effects()
            .iter()
            .any(|e| matches!(e, Effect::Edit(_))),
        "no code yet"
    );
    news(
        &mut app,
        Event::artifact(
            id.clone(),
            ArtifactKind::Code,
            "x = 1\n",
            Some(Language::Python),
        ),
    );
    let file = home
        .path()
        .join("workflows")
        .join(id.as_str())
        .join("solution.py");
    std::fs::create_dir_all(file.parent().unwrap_or(home.path())).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&file, "x = 1\n").unwrap_or_else(|e| panic!("{e}"));
    key(&mut app, KeyCode::Char('e'));
    assert_eq!(app.take_effects(), [Effect::Edit(file)]);
}

#[test]
fn an_older_version_of_an_artifact_never_replaces_a_newer_one() {
    let mut app = app();
    let id = add(
        &mut app,
        1,
        0,
        Some("adder"),
        WorkflowStatus::Running,
        "Fixing code (2/3)...",
    );
    select(&mut app, &id.clone());
    let first = Event::artifact(
        id.clone(),
        ArtifactKind::Code,
        "old = 1\n",
        Some(Language::Python),
    );
    let second = Event::artifact(
        id.clone(),
        ArtifactKind::Code,
        "new = 2\n",
        Some(Language::Python),
    );
    // Prepared on other threads, they may arrive out of order.
    news(&mut app, second);
    news(&mut app, first);
    let text = screen(&app);
    assert!(
        text.contains("new = 2") && !text.contains("old = 1"),
        "{text}"
    );
}

#[test]
fn filter_and_delete_confirmation_are_drawn() {
    let mut app = app();
    add(
        &mut app,
        1,
        0,
        Some("csv-sum"),
        WorkflowStatus::Completed,
        "",
    );
    let second = add(
        &mut app,
        2,
        5,
        Some("json-parser"),
        WorkflowStatus::Failed,
        "boom",
    );
    act(&mut app, Action::FocusNext);
    key(&mut app, KeyCode::Char('/'));
    for c in "json".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    let text = screen(&app);
    assert!(text.contains("filter: json▏ (1 of 2)"), "{text}");
    assert!(
        text.contains("json-parser") && !text.contains("csv-sum"),
        "{text}"
    );
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.view().selected.as_ref(), Some(&second));
    key(&mut app, KeyCode::Char('d'));
    let text = screen(&app);
    assert!(
        text.contains("Delete json-parser (wf_2_1732123461)?"),
        "{text}"
    );
    insta::assert_snapshot!("delete_confirm", text);
    key(&mut app, KeyCode::Esc);
    assert!(app.overlay().is_none());
    key(&mut app, KeyCode::Esc);
    assert!(screen(&app).contains("csv-sum"), "Esc clears the filter");
}

#[test]
fn questions_and_pop_ups_take_their_keys_from_keybindings_toml() {
    let mut app = app_keyed("[confirm]\nconfirm = \"o\"\nclose = \"x\"\n[help]\nclose = \"z\"\n");
    add(
        &mut app,
        1,
        0,
        Some("csv-sum"),
        WorkflowStatus::Completed,
        "",
    );
    act(&mut app, Action::FocusNext);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Char('d'));
    let text = screen(&app);
    assert!(text.contains("o delete   x keep"), "{text}");
    // "y" is no longer an answer: any other key keeps the workflow.
    key(&mut app, KeyCode::Char('y'));
    assert!(app.overlay().is_none());
    assert_eq!(app.model().store.len(), 1, "kept");
    // The help pop-up closes with its own key ([global] esc still works everywhere), and
    // "q", which [help] no longer names, does nothing there.
    key(&mut app, KeyCode::Char('?'));
    assert_eq!(app.overlay(), Some(&flotilla::app::Overlay::Help));
    key(&mut app, KeyCode::Char('q'));
    assert_eq!(app.overlay(), Some(&flotilla::app::Overlay::Help));
    for _ in 0..10 {
        key(&mut app, KeyCode::PageDown);
    }
    let text = screen(&app);
    assert!(text.contains("z closes"), "{text}");
    key(&mut app, KeyCode::Char('z'));
    assert!(app.overlay().is_none());
}

/// The dark theme (the default), the light one, `NO_COLOR`, and a role recoloured in
/// `[colors]`: the status colours of each are a snapshot; with `NO_COLOR` no cell has a colour.
#[test]
fn themes_no_color_and_recoloured_roles() {
    use flotilla::tui::theme::Theme;
    use ratatui::style::{Color, Modifier};
    let names = |colors: &[Color]| -> String {
        WorkflowStatus::ALL
            .iter()
            .zip(colors)
            .map(|(s, c)| format!("{}={c}", s.as_str()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut report = Vec::new();
    let mut code_colors = Vec::new();
    for (label, config) in [
        ("dark", CONFIG.to_owned()),
        ("light", format!("theme = \"light\"\n{CONFIG}")),
        (
            "dark, [colors] running = \"#d78700\"",
            format!("{CONFIG}[colors]\nrunning = \"#d78700\"\n"),
        ),
    ] {
        let mut app = app_with(&config);
        every_status(&mut app);
        let terminal = draw(&app);
        let buffer = terminal.backend().buffer();
        let colors = status_colors(buffer);
        for (i, a) in colors.iter().enumerate() {
            for b in &colors[i + 1..] {
                assert_ne!(a, b, "{label}: two statuses share a colour: {colors:?}");
            }
        }
        report.push(format!("{label}: {}", names(&colors)));
        // The code in the result view: `def` in the theme's syntax colours.
        let (x, y) = (0..H)
            .find_map(|y| {
                let line: String = (0..W).map(|x| buffer[(x, y)].symbol().to_owned()).collect();
                line.find("def add")
                    .map(|x| (line[..x].chars().count() as u16, y))
            })
            .unwrap_or_else(|| panic!("{label}: no code on screen"));
        code_colors.push(buffer[(x, y)].fg);
    }
    assert_ne!(code_colors[0], code_colors[1], "the code follows the theme");

    // NO_COLOR: the terminal's own colours everywhere; the selection is still marked.
    let app = app();
    let no_color =
        Theme::from_config(app.engine().config(), true).unwrap_or_else(|e| panic!("{e}"));
    let mut app = app.with_theme(no_color);
    every_status(&mut app);
    let terminal = draw(&app);
    let buffer = terminal.backend().buffer();
    for y in 0..H {
        for x in 0..W {
            let cell = &buffer[(x, y)];
            assert_eq!(
                (cell.fg, cell.bg),
                (Color::Reset, Color::Reset),
                "NO_COLOR, cell ({x}, {y}) {:?}",
                cell.symbol()
            );
        }
    }
    let selected = (0..H).any(|y| {
        let line: String = (0..W).map(|x| buffer[(x, y)].symbol().to_owned()).collect();
        line.contains("task-2") && buffer[(2, y)].modifier.contains(Modifier::REVERSED)
    });
    assert!(selected, "the selected row is reversed");
    report.push(format!("NO_COLOR: {}", names(&status_colors(buffer))));
    insta::assert_snapshot!("theme_status_colors", report.join("\n"));

    // A role or a colour that does not exist is named with its line.
    let config = flotilla::config::Config::parse(
        Path::new("c.toml"),
        &format!("{CONFIG}[colors]\nrunning = \"ultraviolet\"\n"),
        &|_: &str| Err(std::env::VarError::NotPresent),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let err = Theme::from_config(&config, false).expect_err("a bad colour");
    assert!(
        err.starts_with("line 8: \"ultraviolet\" is not a colour"),
        "{err}"
    );
}

/// At 80 × 24 a 32-column name gives way to the progress (cut with "…"), and the header keeps
/// the server's label whole.
#[test]
fn at_80_columns_the_progress_and_the_server_label_stay_readable() {
    let mut app = app();
    app.update(Msg::Term(TermEvent::Resize(80, 24)));
    add(
        &mut app,
        1,
        0,
        Some("celsius-to-fahrenheit-converter-n"),
        WorkflowStatus::Failed,
        "tests failed after 3 attempts: 1 of 1 failing",
    );
    news(
        &mut app,
        Event::Health {
            provider: "local".into(),
            health: Health::Reachable(vec!["smollm2".into()]),
        },
    );
    let text = draw_sized(&app, 80, 24).backend().to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("local ● up"), "{}", lines[0]);
    let row = lines
        .iter()
        .find(|l| l.contains("wf_1_"))
        .unwrap_or_else(|| panic!("no row:\n{text}"));
    assert!(row.contains("Failed: tests failed after"), "{row}");
    assert!(row.contains(" celsius-to-f… "), "{row}");
    insta::assert_snapshot!("narrow_80x24", text);
}

/// The input box edits as a shell line does: ctrl-u clears to the start (undo moves to ctrl-z),
/// ctrl-w takes a word back, and ctrl-m never starts a second line; the first two are
/// keybindings.toml's `clear_input` and `undo_input`.
#[test]
fn ctrl_u_clears_the_input_line_as_in_a_shell() {
    let mut app = app();
    let ctrl = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
    for c in "parse a csv file".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    press(&mut app, ctrl('w'));
    assert_eq!(app.input_text(), "parse a csv ");
    press(&mut app, ctrl('m'));
    assert_eq!(app.view().input.lines().len(), 1);
    press(&mut app, ctrl('u'));
    assert_eq!(app.input_text(), "");
    press(&mut app, ctrl('z'));
    assert_eq!(app.input_text(), "parse a csv ");

    // Both are the keymap's: rebound, the new keys do it (and ctrl-u no longer undoes).
    let mut app = app_keyed("[input]\nclear_input = \"ctrl-x\"\nundo_input = \"ctrl-y\"\n");
    for c in "parse a csv ".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    press(&mut app, ctrl('u'));
    assert_eq!(app.input_text(), "parse a csv ");
    press(&mut app, ctrl('x'));
    assert_eq!(app.input_text(), "");
    press(&mut app, ctrl('y'));
    assert_eq!(app.input_text(), "parse a csv ");
}

/// The demo (nothing configured, the small model served in process) tells a first-time user
/// what to expect of so small a model; a configured dashboard does not.
#[test]
fn the_demo_says_what_to_expect_of_its_small_model() {
    let env = |_: &str| Err(std::env::VarError::NotPresent);
    let mut config = Config::from_env(&env);
    config.serve_embedded(PathBuf::from(
        "/flotilla-home/models/SmolLM2-135M-Instruct.Q4_1.gguf",
    ));
    let (tx, _rx) = event::channel();
    let engine = Engine::new(config, home(), tx).unwrap_or_else(|e| panic!("{e}"));
    let demo = app_on(engine, Keymap::defaults());
    assert_eq!(
        demo.engine().servers().count(),
        1,
        "the embedded engine is the demo's one server"
    );
    let text = screen(&demo);
    // The log pane's lines (beside the result view), and its words whatever their wrapping.
    let pane: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("││"))
        .filter_map(|l| l.split('│').nth(1))
        .collect();
    let words: Vec<&str> = pane.iter().flat_map(|l| l.split_whitespace()).collect();
    let words = words.join(" ");
    assert!(
        words.contains("What to expect: SmolLM2-135M-Instruct.Q4_1 is a tiny model"),
        "{text}"
    );
    // Wrapped lines keep the paragraph's indent.
    assert!(
        pane.iter()
            .all(|line| line.trim().is_empty() || line.starts_with("  ")),
        "{text}"
    );
    assert!(!screen(&app()).contains("What to expect"));
}

/// Enter never writes the history on the dashboard's thread: the start is an effect the loop
/// carries out. A start the history refused gives the task back to the empty input box.
#[test]
fn a_start_is_an_effect_and_a_refused_one_gives_the_task_back() {
    use flotilla::app::effect::{Done, Job};
    let mut app = app();
    for c in "parse a csv file".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Enter);
    assert!(
        app.model().store.is_empty(),
        "nothing recorded on the key's thread"
    );
    assert_eq!(app.input_text(), "");
    assert_eq!(
        app.take_effects(),
        [Effect::Job(Job::Start {
            description: "parse a csv file".into(),
            background: false,
            retry_of: None,
        })]
    );
    app.update(Msg::Done(Done::Started {
        description: "parse a csv file".into(),
        background: false,
        retry_of: None,
        result: Err("cannot record the new workflow: database or disk is full".into()),
    }));
    assert!(app.model().store.is_empty());
    assert_eq!(app.input_text(), "parse a csv file");
    let notice = app.view().notice.as_ref().map(|n| n.text.as_str());
    assert!(
        notice.is_some_and(|n| n.contains("disk is full")),
        "{notice:?}"
    );
}
