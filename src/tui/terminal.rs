//! The terminal loop: terminal input and background events in, one drawn frame out, at a bounded
//! rate and only when something changed, so an idle dashboard sleeps.

use crate::app::effect::{self, Done, Effect, Job};
use crate::app::{App, Msg};
use crate::event::EventReceiver;
use crate::ui;
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event as TermEvent, EventStream,
};
use crossterm::execute;
use futures_util::StreamExt;
use ratatui::DefaultTerminal;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// Shortest time between two frames drawn for background events (30 fps).
const FRAME: Duration = Duration::from_millis(33);
/// Spinner speed while workflows are live.
const ANIMATION: Duration = Duration::from_millis(100);
/// How often idle clocks ("started 45s ago") are refreshed.
const CLOCK: Duration = Duration::from_secs(1);
/// Most events applied before a frame is drawn, so a flood of streamed text can't starve keys.
const EVENT_BATCH: usize = 4096;

/// Takes over the terminal, runs the dashboard until the user quits, and gives it back. Ends
/// with the number of the signal (SIGTERM, SIGHUP) that stopped it, if one did.
pub async fn run(app: &mut App, events: &mut EventReceiver) -> anyhow::Result<Option<i32>> {
    let before = std::sync::Arc::new(std::panic::take_hook());
    let mut terminal = ratatui::init();
    own_panics(&before);
    // Pasted text arrives whole instead of as keys (a newline would otherwise submit).
    let _ = execute!(std::io::stdout(), EnableBracketedPaste);
    let mouse = app.engine().config().mouse;
    if mouse {
        let _ = execute!(std::io::stdout(), EnableMouseCapture);
    }
    let result = event_loop(&mut terminal, app, events).await;
    if mouse {
        let _ = execute!(std::io::stdout(), DisableMouseCapture);
    }
    let _ = execute!(std::io::stdout(), DisableBracketedPaste);
    ratatui::restore();
    let _ = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| before(info)));
    result
}

type Hook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync>;

/// While the dashboard owns the terminal, a panic on another thread (a blocking job, a
/// workflow's task: each ends that one piece of work, and the dashboard says so) goes to the
/// log and never to the screen; one on the loop's own thread ends the dashboard, so the
/// terminal is given back first and the panic printed as usual. Replaces the hook
/// `ratatui::init` installs, which restores the terminal on any thread's panic.
fn own_panics(before: &std::sync::Arc<Hook>) {
    let loop_thread = std::thread::current().id();
    let before = std::sync::Arc::clone(before);
    let _ = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == loop_thread {
            ratatui::restore();
            before(info);
        } else {
            let backtrace = std::backtrace::Backtrace::force_capture();
            tracing::error!("a thread panicked: {info}\n{backtrace}");
        }
    }));
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    events: &mut EventReceiver,
) -> anyhow::Result<Option<i32>> {
    let mut input = EventStream::new();
    let mut signals = crate::signals::StopSignals::new(false);
    let size = terminal.size()?;
    app.update(Msg::Term(TermEvent::Resize(size.width, size.height)));
    let mut batch = Vec::with_capacity(256);
    let mut frames = Frames::new();
    let mut events_open = true;
    let mut work = Work::default();
    // What the terminal is asked for besides the screen, written after the next frame.
    let mut outputs = Vec::new();
    loop {
        if app.should_quit() {
            return Ok(None);
        }
        if frames.due() {
            frames.draw(terminal, app)?;
            terminal_outputs(std::mem::take(&mut outputs));
        }
        let wake = wake_at(app, frames.dirty, frames.last_draw);
        tokio::select! {
            biased;
            term = input.next() => match term {
                Some(Ok(event)) => {
                    app.update(Msg::Term(event));
                    frames.changed(true);
                }
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(None),
            },
            Some(done) = work.next(), if work.busy() => {
                for done in done {
                    app.update(Msg::Done(done));
                }
                frames.changed(true);
            },
            n = signals.recv() => return Ok(Some(n)),
            n = events.recv_many(&mut batch, EVENT_BATCH), if events_open => {
                if n == 0 {
                    events_open = false;
                }
                for event in batch.drain(..) {
                    app.update(Msg::Engine(event));
                }
                frames.changed(false);
            },
            _ = tokio::time::sleep_until(wake) => frames.changed(false),
        }
        // Everything the dashboard asked for leaves here, in one place.
        for effect in app.take_effects() {
            match effect {
                Effect::Job(job) => work.start(app.engine(), job),
                Effect::Edit(path) => {
                    // The editor needs the terminal and stdin to itself.
                    drop(input);
                    let outcome = edit(terminal, &path, app.engine().config().mouse).await;
                    let outcome = outcome.map_err(|e| e.to_string());
                    app.update(Msg::Done(Done::Edited { path, outcome }));
                    input = EventStream::new();
                    frames.changed(true);
                }
                output => outputs.push(output),
            }
        }
        work.start_next_batch(app.engine());
    }
}

/// When the screen is drawn: once something changed, at once after input (urgent), else at
/// most once a frame, so a burst of events is one frame.
struct Frames {
    dirty: bool,
    urgent: bool,
    last_draw: Instant,
    started: Instant,
}

impl Frames {
    fn new() -> Self {
        Self {
            dirty: true,
            urgent: true,
            last_draw: Instant::now(),
            started: Instant::now(),
        }
    }

    /// Something changed; `urgent` when it was the user's doing.
    fn changed(&mut self, urgent: bool) {
        self.dirty = true;
        self.urgent |= urgent;
    }

    fn due(&self) -> bool {
        self.dirty && (self.urgent || self.last_draw.elapsed() >= FRAME)
    }

    /// The clock set, then one frame.
    fn draw(&mut self, terminal: &mut DefaultTerminal, app: &mut App) -> anyhow::Result<()> {
        app.update(Msg::Clock {
            now: SystemTime::now(),
            // Spinners follow the clock, not the number of frames drawn.
            tick: (self.started.elapsed().as_millis() / ANIMATION.as_millis()) as u64,
        });
        draw(terminal, app)?;
        self.last_draw = Instant::now();
        self.dirty = false;
        self.urgent = false;
        Ok(())
    }
}

/// The jobs running off the loop's thread. Workflow starts run one batch at a time, each in
/// the order asked, so ids follow typing order; the rest run as soon as they are asked for.
#[derive(Default)]
struct Work {
    jobs: tokio::task::JoinSet<Done>,
    starts: Vec<Job>,
    starting: tokio::task::JoinSet<Vec<Done>>,
}

impl Work {
    fn busy(&self) -> bool {
        !self.jobs.is_empty() || !self.starting.is_empty()
    }

    /// Disk, database, clipboard and notify_command work never runs on the loop's thread.
    fn start(&mut self, engine: &crate::engine::Engine, job: Job) {
        if job.is_ordered() {
            self.starts.push(job);
            return;
        }
        let engine = engine.clone();
        self.jobs
            .spawn_blocking(move || effect::perform(&engine, job));
    }

    fn start_next_batch(&mut self, engine: &crate::engine::Engine) {
        if self.starting.is_empty() && !self.starts.is_empty() {
            let (engine, batch) = (engine.clone(), std::mem::take(&mut self.starts));
            self.starting.spawn_blocking(move || {
                let perform = |job| effect::perform(&engine, job);
                batch.into_iter().map(perform).collect::<Vec<_>>()
            });
        }
    }

    /// The next answers: one job's, or a batch of starts'; a job that panicked answers why.
    async fn next(&mut self) -> Option<Vec<Done>> {
        let lost = |e: tokio::task::JoinError| vec![Done::Lost(e.to_string())];
        tokio::select! {
            Some(done) = self.jobs.join_next(), if !self.jobs.is_empty() => {
                Some(done.map(|d| vec![d]).unwrap_or_else(lost))
            },
            Some(done) = self.starting.join_next(), if !self.starting.is_empty() => {
                Some(done.unwrap_or_else(lost))
            },
            else => None,
        }
    }
}

/// What the last frame asked the terminal for besides the screen: desktop notifications
/// (OSC 9), a copy to the clipboard (OSC 52) and a bell (one however many were asked for).
fn terminal_outputs(outputs: Vec<Effect>) {
    use std::io::Write;
    let mut out = std::io::stdout();
    let mut bell = false;
    for output in outputs {
        match output {
            Effect::Desktop(text) => {
                // OSC 9: iTerm2, kitty, WezTerm, Windows Terminal, foot… show it as a desktop
                // notification. The text is the workflow's, stripped of control characters.
                let clean: String = crate::sanitize::strip(&text)
                    .chars()
                    .filter(|c| !c.is_control())
                    .collect();
                let _ = write!(out, "\x1b]9;{clean}\x1b\\").and_then(|()| out.flush());
            }
            Effect::Osc52(text) => {
                let _ = execute!(
                    out,
                    crossterm::clipboard::CopyToClipboard::to_clipboard_from(text)
                );
            }
            Effect::Bell => bell = true,
            Effect::Job(_) | Effect::Edit(_) => {}
        }
    }
    if bell {
        let _ = out.write_all(b"\x07").and_then(|_| out.flush());
    }
}

/// When the loop must wake with nothing arriving: the next frame, the next step of an
/// animation, the next second of the selected workflow's clock, or (nothing moves) an hour.
fn wake_at(app: &App, dirty: bool, last_draw: Instant) -> Instant {
    if dirty {
        last_draw + FRAME
    } else if app.is_animating() {
        last_draw + ANIMATION
    } else if app.view().selected.is_some() {
        last_draw + CLOCK
    } else {
        // Nothing moves on screen: sleep until input or an event arrives.
        last_draw + Duration::from_secs(3600)
    }
}

/// Gives the terminal to $EDITOR on `path`, waits for it, and takes the terminal back.
async fn edit(
    terminal: &mut DefaultTerminal,
    path: &std::path::Path,
    mouse: bool,
) -> std::io::Result<std::process::ExitStatus> {
    let _ = execute!(
        std::io::stdout(),
        DisableBracketedPaste,
        DisableMouseCapture
    );
    ratatui::restore();
    let mut command = App::editor_command(path);
    let status = tokio::task::spawn_blocking(move || command.status())
        .await
        .map_err(std::io::Error::other)
        .and_then(|s| s);
    // A fresh terminal has empty buffers, so the next frame is drawn whole; the screen is
    // cleared by hand because `Terminal::clear` would query the cursor position.
    // `ratatui::init` puts its own panic hook over ours: ours goes back over it.
    let ours = std::panic::take_hook();
    *terminal = ratatui::init();
    let _ = std::panic::take_hook();
    std::panic::set_hook(ours);
    execute!(
        std::io::stdout(),
        EnableBracketedPaste,
        crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
    )?;
    if mouse {
        execute!(std::io::stdout(), EnableMouseCapture)?;
    }
    status
}

fn draw(terminal: &mut DefaultTerminal, app: &App) -> anyhow::Result<()> {
    use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
    let _ = execute!(std::io::stdout(), BeginSynchronizedUpdate);
    let result = terminal.draw(|frame| ui::render(app, frame));
    let _ = execute!(std::io::stdout(), EndSynchronizedUpdate);
    result?;
    Ok(())
}
