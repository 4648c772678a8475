//! Drives the app as the terminal loop does, without a terminal: keys in, events drained from
//! the channel, conditions waited on with a deadline.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use flotilla::app::effect::Effect;
use flotilla::app::{App, Msg};
use flotilla::config::Config;
use flotilla::engine::Engine;
use flotilla::event::{self, EventReceiver};
use flotilla::home::Home;
use flotilla::keymap::Keymap;
use std::time::Duration;
use tempfile::TempDir;

/// A config with one provider serving every tier.
pub fn config(kind: &str, base_url: &str, extra: &str) -> String {
    format!(
        r#"max_parallel = 4
naming_timeout = 10
{extra}

[providers.local]
kind = "{kind}"
base_url = "{base_url}"
max_concurrent = 4
max_retries = 2

[tiers.veryfast]
provider = "local"
model = "smollm2"
[tiers.fast]
provider = "local"
model = "smollm2"
[tiers.overseer]
provider = "local"
model = "smollm2"
"#
    )
}

/// A fresh home whose config points every tier at `server`.
pub fn home_for(server: &super::mock::MockServer) -> TempDir {
    let home = tempfile::tempdir().expect("temp home");
    let kind = if server.wire == super::mock::Wire::OpenAi {
        "openai"
    } else {
        "ollama"
    };
    std::fs::write(
        home.path().join("config.toml"),
        config(kind, &server.base_url(), ""),
    )
    .expect("write config");
    home
}

pub struct TestApp {
    pub app: App,
    pub rx: EventReceiver,
    pub home: TempDir,
}

impl TestApp {
    pub fn new(config_text: &str) -> Self {
        let home = tempfile::tempdir().expect("temp home");
        std::fs::write(home.path().join("config.toml"), config_text).expect("write config");
        Self::open(home)
    }

    /// A dashboard working on the git repository at `repo`, as when started inside it.
    pub fn on_repo(config_text: &str, repo: &std::path::Path) -> Self {
        let home = tempfile::tempdir().expect("temp home");
        std::fs::write(home.path().join("config.toml"), config_text).expect("write config");
        Self::open_on(home, Some(repo))
    }

    /// A dashboard on `home`, with whatever history it holds.
    fn open(home: TempDir) -> Self {
        Self::open_on(home, None)
    }

    fn open_on(home: TempDir, repo: Option<&std::path::Path>) -> Self {
        let paths = Home::at(home.path());
        let mut config = Config::load(&paths.config_file).unwrap_or_else(|e| panic!("{e}"));
        if let Some(repo) = repo {
            config.project =
                flotilla::project::Project::find(Some(repo), &config.project_settings, repo)
                    .unwrap_or_else(|e| panic!("{e}"));
        }
        let (tx, rx) = event::channel();
        let engine = Engine::new(config, paths, tx).unwrap_or_else(|e| panic!("{e}"));
        let mut app = App::new(engine, Keymap::defaults());
        app.update(Msg::Term(crossterm::event::Event::Resize(120, 40)));
        Self { app, rx, home }
    }

    /// A new dashboard on the same home, as after a restart: the old one is dropped first (its
    /// engine and home lock with it), and the new one has the workflows in its history.
    pub fn reopen(self) -> Self {
        let Self { app, rx, home } = self;
        let repo = app
            .engine()
            .config()
            .project
            .as_ref()
            .map(|p| p.root.clone());
        drop(app);
        drop(rx);
        Self::open_on(home, repo.as_deref())
    }

    /// Presses a key, then carries out what it asked for as the terminal loop would (here on
    /// this thread, at once).
    pub fn key(&mut self, code: KeyCode, modifiers: KeyModifiers) {
        let key = crossterm::event::Event::Key(KeyEvent::new(code, modifiers));
        self.app.update(Msg::Term(key));
        // The jobs asked for; there is no terminal here for the rest (bells, OSC 52, $EDITOR).
        for effect in self.app.take_effects() {
            if let Effect::Job(job) = effect {
                let done = flotilla::app::effect::perform(self.app.engine(), job);
                self.app.update(Msg::Done(done));
            }
        }
    }

    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c), KeyModifiers::NONE);
        }
    }

    /// Types a line and presses Enter.
    pub fn submit(&mut self, text: &str) {
        self.type_text(text);
        self.key(KeyCode::Enter, KeyModifiers::NONE);
    }

    /// Applies events as they arrive until `done` holds, failing after `deadline`.
    pub async fn wait_until(
        &mut self,
        what: &str,
        deadline: Duration,
        done: impl Fn(&App) -> bool,
    ) {
        let wait = async {
            while !done(&self.app) {
                let Some(event) = self.rx.recv().await else {
                    panic!("event channel closed while waiting for {what}")
                };
                self.app.update(Msg::Engine(event));
                while let Ok(event) = self.rx.try_recv() {
                    self.app.update(Msg::Engine(event));
                }
            }
        };
        if tokio::time::timeout(deadline, wait).await.is_err() {
            let states: Vec<String> = self
                .app
                .model()
                .store
                .iter()
                .map(|w| {
                    format!(
                        "{} {:?} {} {:?} {:?}",
                        w.id,
                        w.name,
                        w.status(),
                        w.progress,
                        w.error()
                    )
                })
                .collect();
            panic!("timed out after {deadline:?} waiting for {what}; workflows: {states:#?}");
        }
    }

    /// Waits until no workflow is live.
    pub async fn wait_all_finished(&mut self, deadline: Duration) {
        self.wait_until("every workflow to finish", deadline, |app| {
            !app.model().store.is_empty() && app.model().store.live().next().is_none()
        })
        .await;
    }

    /// The workflow in row `index` (a copy), failing the test when there is none.
    /// The dashboard as drawn on a 120 × 36 screen, as text.
    pub fn screen(&self) -> String {
        let backend = ratatui::backend::TestBackend::new(120, 36);
        let mut terminal = ratatui::Terminal::new(backend).expect("terminal");
        terminal
            .draw(|f| flotilla::ui::render(&self.app, f))
            .expect("draw");
        terminal.backend().to_string()
    }

    pub fn workflow(&self, index: usize) -> flotilla::workflow::Workflow {
        self.app
            .model()
            .store
            .at(index)
            .cloned()
            .unwrap_or_else(|| panic!("no workflow in row {index}"))
    }

    /// A workflow's log as the dashboard has it, or, for an ended workflow nobody is looking at
    /// (whose memory the dashboard gave back), as its `log.txt` has it.
    pub fn log_text(&self, index: usize) -> String {
        let Some(wf) = self.app.model().store.at(index) else {
            return String::new();
        };
        match self.app.model().logs.get(&wf.id) {
            Some(l) => l.lines(0, usize::MAX).collect::<Vec<_>>().join("\n"),
            None => std::fs::read_to_string(
                self.app
                    .engine()
                    .home()
                    .workflow_dir(&wf.id)
                    .join("log.txt"),
            )
            .unwrap_or_default(),
        }
    }
}

/// Starts `flotilla run <description>` on `home` and returns once it is planning (its output
/// said "Consulting overseer..."); the rest of its output is drained in the background.
pub async fn start_headless_run(home: &std::path::Path, description: &str) -> std::process::Child {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flotilla"))
        // Outside any repository: flotilla would work on the one it starts in.
        .current_dir(std::env::temp_dir())
        .arg("--home")
        .arg(home)
        .args(["run", description])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start flotilla run");
    let stdout = child.stdout.take().expect("stdout");
    let reached = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
        let mut seen = Vec::new();
        for line in lines.by_ref() {
            let planning = line.contains("Consulting overseer...");
            seen.push(line);
            if planning {
                // Keep draining so the run never blocks on a full pipe.
                std::thread::spawn(move || lines.for_each(drop));
                return Ok(seen);
            }
        }
        Err(seen)
    });
    match tokio::time::timeout(Duration::from_secs(30), reached).await {
        Ok(Ok(Ok(seen))) => assert!(
            seen.iter().any(|l| l.contains("Starting workflow...")),
            "{seen:?}"
        ),
        other => panic!("flotilla run did not reach its plan: {other:?}"),
    }
    child
}

/// The `flotilla` binary with `args` on `home`, none of the server variables of the test's own
/// environment passed on.
pub fn run_flotilla(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_flotilla"))
        // Outside any repository: flotilla would work on the one it starts in.
        .current_dir(std::env::temp_dir())
        .args(args)
        .env("FLOTILLA_HOME", home)
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OLLAMA_HOST")
        .output()
        .unwrap_or_else(|e| panic!("cannot run flotilla: {e}"))
}
