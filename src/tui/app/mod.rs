//! The dashboard's state and how it changes: keys become actions through the keymap, actions and
//! background events update the state, and `ui` draws it. Nothing here draws.

use crate::engine::Engine;
use crate::event::Health;
use crate::keymap::{Action, Focus, Keymap, Section};
use crate::logbuf::LogBuffer;
use crate::store::Store;
use crate::tui::command::{self, Command, Hint};
use crate::workflow::{Workflow, WorkflowId};
use ratatui_textarea::TextArea;
use std::collections::{BTreeMap, HashMap};
use std::time::SystemTime;

mod control;
pub mod effect;
mod events;
mod keys;
pub mod layout;
mod logview;
pub mod mouse;
mod panes;
mod result;
pub use logview::LogView;
pub use result::{Artifact, ResultView, Results};

/// How much of a past workflow's log is read when it is selected.
const LOG_TAIL_BYTES: u64 = 1 << 20;

/// A pop-up over the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    /// Every key and command.
    Help,
    /// One workflow's details.
    Details(WorkflowId),
    /// "Workflows are still live: quit?"
    ConfirmQuit,
    /// "Delete this workflow and its folder?"
    ConfirmDelete(WorkflowId),
    /// "Delete these N finished workflows and their folders?" (`/clear`)
    ConfirmClear(Vec<WorkflowId>),
    /// "This workflow failed: apply its change anyway?"
    ConfirmApply { id: WorkflowId, staged: bool },
    /// "Remove this workflow's worktree and branch?"
    ConfirmDiscard(WorkflowId),
}

impl Overlay {
    /// The section of `keybindings.toml` whose keys work while it is open.
    fn section(&self) -> Section {
        match self {
            Self::Help => Section::Help,
            Self::Details(_) => Section::Details,
            Self::ConfirmQuit
            | Self::ConfirmDelete(_)
            | Self::ConfirmClear(_)
            | Self::ConfirmApply { .. }
            | Self::ConfirmDiscard(_) => Section::Confirm,
        }
    }
}

/// What has the keyboard: the panes (the focus says which), the filter line being typed, or a
/// pop-up over everything. One value, so there is no precedence to get wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Normal,
    Filter,
    Overlay(Overlay),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
}

/// The one-line message under the panes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub level: Level,
}

/// What the dashboard knows: the workflows, their logs and results, the servers' health and
/// load. Changed only by [`App::update`]; read by the screen through [`App::model`].
pub struct Model {
    pub store: Store,
    pub logs: HashMap<WorkflowId, LogBuffer>,
    pub health: BTreeMap<String, Health>,
    /// Each server's requests in flight and slots, once it has had a request.
    pub load: BTreeMap<String, (usize, usize)>,
    /// Plan, code, tests, test output and diff per workflow.
    pub results: Results,
}

/// How the dashboard is looked at: the selection, the focus and mode, the input box, scroll
/// positions, the size, the clock and the colours. Read by the screen through [`App::view`].
pub struct View {
    pub selected: Option<WorkflowId>,
    /// The pane with focus, while the mode is normal.
    pub focus: Focus,
    pub mode: Mode,
    pub notice: Option<Notice>,
    pub input: TextArea<'static>,
    /// Where the log pane is scrolled to.
    pub log_view: LogView,
    /// The result pane's tab and scroll.
    pub result_view: ResultView,
    /// Terminal size, for page sizes.
    pub size: (u16, u16),
    /// The clock the screen shows times against.
    pub now: SystemTime,
    /// Counts animation steps (tenths of a second), for spinners.
    pub tick: u64,
    /// First line shown of the help overlay, which scrolls when the terminal is short.
    pub help_scroll: usize,
    /// The table's filter: a status, or text to find in ids, names, tasks and progress.
    pub filter: String,
    /// The colours, from `config.toml` (and `NO_COLOR`, which `main` applies).
    pub theme: crate::tui::theme::Theme,
}

/// One way in: what the terminal, the engine and finished effects tell the dashboard.
#[derive(Debug)]
pub enum Msg {
    /// A key, a paste, a mouse event or a resize.
    Term(crossterm::event::Event),
    /// A workflow's or a server's news.
    Engine(crate::event::Event),
    /// An effect carried out.
    Done(effect::Done),
    /// The clock before a frame: the time shown and the spinners' step.
    Clock { now: SystemTime, tick: u64 },
}

/// The dashboard: its state changes only through [`App::update`], and everything it wants done
/// outside itself leaves through [`App::take_effects`].
pub struct App {
    engine: Engine,
    keymap: Keymap,
    model: Model,
    view: View,
    should_quit: bool,
    /// Work and terminal output asked for, for the loop to carry out.
    effects: Vec<effect::Effect>,
}

impl App {
    pub fn new(engine: Engine, keymap: Keymap) -> Self {
        let health = engine
            .servers()
            .map(|s| (s.label.clone(), Health::Unknown))
            .collect();
        let history = engine.take_history();
        // config.toml's theme; `main` puts NO_COLOR over it, and a bad [colors] stops it there.
        let theme = crate::tui::theme::Theme::from_config(engine.config(), false)
            .unwrap_or_else(|_| crate::tui::theme::Theme::dark());
        let mut app = Self {
            engine,
            keymap,
            model: Model {
                store: Store::default(),
                logs: HashMap::new(),
                health,
                load: BTreeMap::new(),
                results: Results::default(),
            },
            view: View {
                selected: None,
                focus: Focus::Input,
                mode: Mode::Normal,
                notice: None,
                input: TextArea::default(),
                log_view: LogView::default(),
                result_view: ResultView::default(),
                size: (80, 24),
                now: SystemTime::now(),
                tick: 0,
                help_scroll: 0,
                filter: String::new(),
                theme,
            },
            should_quit: false,
            effects: Vec::new(),
        };
        for workflow in history {
            app.model.store.insert(workflow);
        }
        app
    }

    /// The same dashboard in other colours (`NO_COLOR`, a checked `[colors]`).
    pub fn with_theme(mut self, theme: crate::tui::theme::Theme) -> Self {
        self.view.theme = theme;
        self
    }

    /// The one door in: every change of the dashboard's state comes through here.
    pub fn update(&mut self, msg: Msg) {
        match msg {
            Msg::Term(event) => self.handle_terminal_event(event),
            Msg::Engine(event) => self.apply(event),
            Msg::Done(done) => self.done(done),
            Msg::Clock { now, tick } => {
                self.view.now = now;
                self.view.tick = tick;
            }
        }
    }

    /// The one way out: the work and the terminal output asked for since the last call.
    pub fn take_effects(&mut self) -> Vec<effect::Effect> {
        std::mem::take(&mut self.effects)
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    pub fn view(&self) -> &View {
        &self.view
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn keymap(&self) -> &Keymap {
        &self.keymap
    }

    /// True once the user has quit (the loop then ends).
    pub fn should_quit(&self) -> bool {
        self.should_quit
    }

    pub fn selected_workflow(&self) -> Option<&Workflow> {
        self.view
            .selected
            .as_ref()
            .and_then(|id| self.model.store.get(id))
    }

    pub fn selected_log(&self) -> Option<&LogBuffer> {
        self.view
            .selected
            .as_ref()
            .and_then(|id| self.model.logs.get(id))
    }

    /// True while something on screen moves by itself (spinners, running clocks).
    pub fn is_animating(&self) -> bool {
        self.model.store.live().next().is_some()
    }

    pub fn input_text(&self) -> String {
        self.view.input.lines().join(" ")
    }

    /// Asks for work off the loop's thread; its answer comes back as [`Msg::Done`].
    fn ask(&mut self, job: effect::Job) {
        self.effects.push(effect::Effect::Job(job));
    }

    fn set_focus(&mut self, focus: Focus) {
        self.view.focus = focus;
    }

    pub(super) fn info(&mut self, text: impl Into<String>) {
        self.view.notice = Some(Notice {
            text: text.into(),
            level: Level::Info,
        });
    }

    fn warn(&mut self, text: impl Into<String>) {
        self.view.notice = Some(Notice {
            text: text.into(),
            level: Level::Warn,
        });
    }

    fn submit(&mut self, background_key: bool) {
        let text = self.input_text();
        match command::parse(&text) {
            Ok(cmd) => {
                if self.run_command(cmd, background_key) {
                    self.view.input = TextArea::default();
                }
            }
            Err(Hint(hint)) => self.warn(hint),
        }
    }

    /// Runs a command; false when it failed and the typed text should stay.
    fn run_command(&mut self, cmd: Command, background_key: bool) -> bool {
        match cmd {
            Command::Generate {
                description,
                background,
            } => {
                self.start(description, background || background_key);
                true
            }
            Command::ListWorkflows => {
                self.set_focus(Focus::Table);
                if self.view.selected.is_none() {
                    self.view.selected = self.model.store.at(0).map(|w| w.id.clone());
                }
                true
            }
            Command::ShowWorkflow(query) => match self.resolve(&query) {
                Some(id) => {
                    self.select(Some(id.clone()));
                    self.open(Overlay::Details(id));
                    true
                }
                None => false,
            },
            Command::Cancel(query) => match self.resolve(&query) {
                Some(id) => {
                    self.cancel(&id);
                    true
                }
                None => false,
            },
            Command::Retry(query) => match self.resolve(&query) {
                Some(id) => {
                    self.retry(&id);
                    true
                }
                None => false,
            },
            Command::Delete(query) => match self.resolve(&query) {
                Some(id) => {
                    self.ask_delete(&id);
                    true
                }
                None => false,
            },
            Command::Apply { query, staged } => match self.resolve(&query) {
                Some(id) => {
                    self.ask_apply(&id, staged);
                    true
                }
                None => false,
            },
            Command::Discard(query) => match self.resolve(&query) {
                Some(id) => {
                    self.ask_discard(&id);
                    true
                }
                None => false,
            },
            Command::Clear => {
                self.ask_clear();
                true
            }
            Command::Parallel(n) => {
                self.engine.set_parallel(n);
                self.info(format!("{n} run slots"));
                true
            }
            Command::Help => {
                self.dispatch(Action::Help);
                true
            }
            Command::Quit => {
                self.request_quit();
                true
            }
        }
    }

    pub(super) fn resolve(&mut self, query: &str) -> Option<WorkflowId> {
        match crate::workflow::find(query, self.model.store.as_slice()) {
            Ok(w) => Some(w.id.clone()),
            Err(e) => {
                self.warn(e.to_string());
                None
            }
        }
    }

    /// Asks for a workflow to be started: the history records it off this thread (it may wait
    /// on another process's write), then [`App::started`] shows it.
    fn start(&mut self, description: String, background: bool) {
        self.ask(effect::Job::Start {
            description,
            background,
            retry_of: None,
        });
    }

    /// A workflow the history recorded and the engine started: a foreground one (or a retry)
    /// takes the selection and the log follows it. When the history could not record it,
    /// nothing started: the notice says why, and the task comes back to an empty input box.
    fn started(
        &mut self,
        description: String,
        background: bool,
        retry_of: Option<WorkflowId>,
        result: Result<Box<Workflow>, String>,
    ) {
        let workflow = match result {
            Ok(w) => *w,
            Err(e) => {
                self.warn(e);
                if self.input_text().is_empty() {
                    self.view.input.insert_str(description);
                }
                return;
            }
        };
        let id = workflow.id.clone();
        self.model.store.insert(workflow);
        self.model.logs.entry(id.clone()).or_default();
        if !background || self.view.selected.is_none() {
            self.select(Some(id.clone()));
        }
        match retry_of {
            Some(old) => self.info(format!("Started workflow {id}, retrying {old}")),
            None => self.info(format!("Started workflow {id}")),
        }
    }

    fn cancel(&mut self, id: &WorkflowId) {
        let label = self
            .model
            .store
            .get(id)
            .map(|w| w.label().to_owned())
            .unwrap_or_default();
        if self.engine.cancel(id) {
            self.info(format!("Cancelling [{label}] {id}"));
        } else {
            self.warn(format!("[{label}] {id} has already finished"));
        }
    }

    fn request_quit(&mut self) {
        if self.model.store.live().next().is_some() {
            self.open(Overlay::ConfirmQuit);
        } else {
            self.should_quit = true;
        }
    }

    /// Quits; the caller then shuts the engine down, which cancels live workflows as
    /// "cancelled at exit".
    fn quit_now(&mut self) {
        self.close();
        self.should_quit = true;
    }

    pub(super) fn select(&mut self, id: Option<WorkflowId>) {
        if id != self.view.selected {
            // A finished workflow's log and results are on disk: memory holds only the live
            // ones' and the selected one's, however long the history.
            if let Some(old) = self.view.selected.take()
                && self
                    .model
                    .store
                    .get(&old)
                    .is_some_and(|w| !w.status().is_live())
            {
                self.model.logs.remove(&old);
                self.model.results.forget(&old);
            }
            self.view.selected = id;
            self.view.log_view.follow();
            self.view.result_view.scroll = 0;
            self.load_from_disk();
        }
    }

    /// Moves the selection among the rows the filter lets through.
    fn move_selection(&mut self, delta: isize) {
        let visible = self.visible();
        let Some(last) = visible.len().checked_sub(1) else {
            return;
        };
        let here = self
            .view
            .selected
            .as_ref()
            .and_then(|id| self.model.store.position(id))
            .and_then(|i| visible.iter().position(|v| *v == i));
        let next = match here {
            Some(i) => i.saturating_add_signed(delta).min(last),
            None if delta < 0 => last,
            None => 0,
        };
        self.select(self.model.store.at(visible[next]).map(|w| w.id.clone()));
    }

    /// Lines the log pane shows at once.
    pub fn log_height(&self) -> usize {
        layout::log_body_height(self.view.size).max(1)
    }

    /// The first line the log pane shows.
    pub fn log_top(&self) -> usize {
        let len = self.selected_log().map_or(0, LogBuffer::len);
        self.view.log_view.top(len, self.log_height())
    }
}
