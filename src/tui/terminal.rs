//! The terminal loop: terminal input and background events in, one drawn frame out, at a bounded
//! rate and only when something changed, so an idle dashboard sleeps.

use crate::app::App;
use crate::event::EventReceiver;
use crate::ui;
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    EventStream,
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
    let mut terminal = ratatui::init();
    // Pasted text arrives whole instead of as keys (a newline would otherwise submit).
    let _ = execute!(std::io::stdout(), EnableBracketedPaste);
    let mouse = app.engine.config().mouse;
    if mouse {
        let _ = execute!(std::io::stdout(), EnableMouseCapture);
    }
    let result = event_loop(&mut terminal, app, events).await;
    if mouse {
        let _ = execute!(std::io::stdout(), DisableMouseCapture);
    }
    let _ = execute!(std::io::stdout(), DisableBracketedPaste);
    ratatui::restore();
    result
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    events: &mut EventReceiver,
) -> anyhow::Result<Option<i32>> {
    let mut input = EventStream::new();
    let mut signals = crate::signals::StopSignals::new(false);
    let size = terminal.size()?;
    app.size = (size.width, size.height);
    let mut batch = Vec::with_capacity(256);
    let mut dirty = true;
    let mut urgent = true;
    let mut last_draw = Instant::now();
    let mut events_open = true;
    let started = Instant::now();
    let mut effects = tokio::task::JoinSet::new();
    // Starts run one batch at a time, each in the order asked, so ids follow typing order.
    let mut starts = Vec::new();
    let mut starting: tokio::task::JoinSet<Vec<crate::app::effect::Done>> =
        tokio::task::JoinSet::new();
    loop {
        if app.should_quit {
            return Ok(None);
        }
        if dirty && (urgent || last_draw.elapsed() >= FRAME) {
            app.now = SystemTime::now();
            // Spinners follow the clock, not the number of frames drawn.
            app.tick = (started.elapsed().as_millis() / ANIMATION.as_millis()) as u64;
            draw(terminal, app)?;
            terminal_outputs(app);
            last_draw = Instant::now();
            dirty = false;
            urgent = false;
        }
        let wake = wake_at(app, dirty, last_draw);
        tokio::select! {
            biased;
            term = input.next() => match term {
                Some(Ok(event)) => {
                    app.handle_terminal_event(event);
                    dirty = true;
                    urgent = true;
                    if let Some(path) = app.pending_editor.take() {
                        // The editor needs the terminal and stdin to itself.
                        drop(input);
                        let outcome = edit(terminal, &path, app.engine.config().mouse).await;
                        app.editor_finished(&path, outcome);
                        input = EventStream::new();
                    }
                }
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(None),
            },
            Some(done) = effects.join_next(), if !effects.is_empty() => {
                match done {
                    Ok(done) => app.done(done),
                    Err(e) => app.warn(format!("a background job failed: {e}")),
                }
                dirty = true;
                urgent = true;
            },
            Some(done) = starting.join_next(), if !starting.is_empty() => {
                match done {
                    Ok(batch) => batch.into_iter().for_each(|done| app.done(done)),
                    Err(e) => app.warn(format!("starting workflows failed: {e}")),
                }
                dirty = true;
                urgent = true;
            },
            n = signals.recv() => return Ok(Some(n)),
            n = events.recv_many(&mut batch, EVENT_BATCH), if events_open => {
                if n == 0 {
                    events_open = false;
                }
                for event in batch.drain(..) {
                    app.apply(event);
                }
                dirty = true;
            },
            _ = tokio::time::sleep_until(wake) => dirty = true,
        }
        run_effects(app, &mut effects, &mut starts, &mut starting);
    }
}

/// What the last frame asked the terminal for besides the screen: desktop notifications
/// (OSC 9), a copy to the clipboard (OSC 52) and a bell.
fn terminal_outputs(app: &mut App) {
    for text in app.desktop.drain(..) {
        // OSC 9: iTerm2, kitty, WezTerm, Windows Terminal, foot… show it as a desktop
        // notification. The text is the workflow's, stripped of control characters.
        use std::io::Write;
        let clean: String = crate::sanitize::strip(&text)
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        let mut out = std::io::stdout();
        let _ = write!(out, "\x1b]9;{clean}\x1b\\").and_then(|()| out.flush());
    }
    if let Some(text) = app.osc52.take() {
        let _ = execute!(
            std::io::stdout(),
            crossterm::clipboard::CopyToClipboard::to_clipboard_from(text)
        );
    }
    if app.bells > 0 {
        // One bell for however many workflows ended since the last frame.
        use std::io::Write;
        app.bells = 0;
        let mut out = std::io::stdout();
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
    } else if app.selected.is_some() {
        last_draw + CLOCK
    } else {
        // Nothing moves on screen: sleep until input or an event arrives.
        last_draw + Duration::from_secs(3600)
    }
}

/// Starts the work asked for by keys or events off this thread; workflow starts run one
/// batch at a time, each in the order asked, so ids follow typing order.
fn run_effects(
    app: &mut App,
    effects: &mut tokio::task::JoinSet<crate::app::effect::Done>,
    starts: &mut Vec<crate::app::effect::Effect>,
    starting: &mut tokio::task::JoinSet<Vec<crate::app::effect::Done>>,
) {
    // Disk, database, clipboard and notify_command work asked for by keys or by events
    // never runs on this thread.
    for effect in std::mem::take(&mut app.effects) {
        if effect.is_ordered() {
            starts.push(effect);
            continue;
        }
        let engine = app.engine.clone();
        effects.spawn_blocking(move || crate::app::effect::perform(&engine, effect));
    }
    if starting.is_empty() && !starts.is_empty() {
        let (engine, batch) = (app.engine.clone(), std::mem::take(starts));
        starting.spawn_blocking(move || {
            let perform = |effect| crate::app::effect::perform(&engine, effect);
            batch.into_iter().map(perform).collect::<Vec<_>>()
        });
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
    *terminal = ratatui::init();
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
