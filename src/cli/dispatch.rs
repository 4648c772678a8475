//! The commands that run with an engine, once `main` has made it: each goes to its module
//! (`run`, `doctor`, `models`, `eval`), and no command at all opens the dashboard.

use crate::app::App;
use crate::cli::args::Cmd;
use crate::cli::early::safe_stdout;
use crate::cli::eval::Prepared;
use crate::cli::{doctor, history, models, run};
use crate::engine::Engine;
use crate::event::EventReceiver;
use crate::keymap::Keymap;
use crate::sanitize::{SafeWriter, strip};
use crate::tui::theme::Theme;
use tokio_util::sync::CancellationToken;

/// Runs `command` on `engine`; the process's exit code. `dashboard_look` is the dashboard's
/// keys (loaded when no command is given) and colours.
pub async fn with_engine(
    command: Option<Cmd>,
    engine: Engine,
    rx: &mut EventReceiver,
    dashboard_look: (Option<Keymap>, Theme),
    eval: Option<Prepared>,
) -> i32 {
    let mut stdout = safe_stdout();
    // Headless, servers are watched only where a tier has several (to probe them back).
    let watching = CancellationToken::new();
    if !matches!(
        command,
        None | Some(Cmd::Doctor { .. } | Cmd::Models { .. })
    ) {
        engine.watch_pools(watching.clone());
    }
    let _stop_watching = watching.drop_guard();
    match command {
        Some(Cmd::Run {
            description,
            json: false,
        }) => {
            run::run(&engine, rx, description.join(" "), &mut stdout)
                .await
                .0
        }
        Some(Cmd::Run {
            description,
            json: true,
        }) => {
            let mut progress = SafeWriter::new(std::io::stderr());
            let (code, id) = run::run(&engine, rx, description.join(" "), &mut progress).await;
            let home = engine.home().clone();
            match id.map(|id| history::show(&home, id.as_str(), true, &mut stdout)) {
                Some(Err(e)) => {
                    eprintln!("flotilla: cannot read the workflow back: {e:#}");
                    code.max(1)
                }
                _ => code,
            }
        }
        Some(Cmd::Name { description }) => {
            run::name(
                &engine,
                &description.join(" "),
                &mut stdout,
                &mut SafeWriter::new(std::io::stderr()),
            )
            .await
        }
        Some(Cmd::Doctor { json }) => doctor::doctor(&engine, json, &mut stdout).await,
        Some(Cmd::Models { json }) => models::models(&engine, json, &mut stdout).await,
        Some(Cmd::Retry { id }) => run::retry(&engine, rx, &id, &mut stdout).await,
        Some(Cmd::Delete { id }) => run::delete(&engine, &id, &mut stdout),
        // Handled first thing in `main`.
        // Handled before the engine starts.
        Some(
            Cmd::SandboxExec { .. } | Cmd::Diff { .. } | Cmd::Apply { .. } | Cmd::Discard { .. },
        ) => 2,
        Some(Cmd::Eval { .. }) => match eval {
            Some(prepared) => eval_and_report(&engine, rx, prepared, &mut stdout).await,
            None => 2,
        },
        Some(
            Cmd::List { .. }
            | Cmd::Show { .. }
            | Cmd::Logs { .. }
            | Cmd::Serve { .. }
            | Cmd::Completions { .. }
            | Cmd::Man { .. }
            | Cmd::Config { .. },
        ) => 0,
        None => dashboard(engine, rx, dashboard_look).await,
    }
}

/// `flotilla eval`: runs the job, prints the report and writes `report.json` beside its
/// workflows.
async fn eval_and_report(
    engine: &Engine,
    rx: &mut EventReceiver,
    Prepared { job, root }: Prepared,
    stdout: &mut SafeWriter<std::io::Stdout>,
) -> i32 {
    let report = crate::eval::run(
        engine,
        rx,
        job,
        stdout,
        &mut SafeWriter::new(std::io::stderr()),
    )
    .await;
    let path = root.join("report.json");
    match serde_json::to_vec_pretty(&report)
        .map_err(std::io::Error::other)
        .and_then(|bytes| std::fs::write(&path, bytes))
    {
        Ok(()) => {
            eprintln!(
                "report: {} (workflows: {})",
                path.display(),
                root.join("workflows").display()
            );
            0
        }
        Err(e) => {
            eprintln!("flotilla: cannot write {}: {e}", path.display());
            1
        }
    }
}

/// The dashboard, until it quits; then the live workflows are cancelled and recorded.
async fn dashboard(
    engine: Engine,
    rx: &mut EventReceiver,
    (keymap, theme): (Option<Keymap>, Theme),
) -> i32 {
    let keymap = keymap.unwrap_or_else(Keymap::defaults);
    let stop = CancellationToken::new();
    engine.watch_health(stop.clone());
    engine.watch_history(stop.clone());
    let mut app = App::new(engine, keymap).with_theme(theme);
    let result = crate::tui::run(&mut app, rx).await;
    stop.cancel();
    // Live workflows end as "cancelled at exit", their tests killed, in the history.
    let left = app
        .engine()
        .shutdown(std::time::Duration::from_secs(10))
        .await;
    if left > 0 {
        // The terminal is the user's again: say it rather than only log it.
        eprintln!(
            "flotilla: {left} workflows did not record their ending in time; the next flotilla shows them as interrupted"
        );
    }
    match result {
        Ok(None) => 0,
        Ok(Some(signal)) => crate::signals::exit_code(signal),
        Err(e) => {
            tracing::error!("dashboard failed: {e:#}");
            eprintln!("flotilla: {}", strip(&format!("{e:#}")));
            1
        }
    }
}
