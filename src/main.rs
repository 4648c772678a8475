use clap::Parser;
use flotilla::cli::args::{Cli, Cmd};
use flotilla::cli::early::{self, safe_stdout, written};
use flotilla::engine::Engine;
use flotilla::home::Home;
use flotilla::{event, logging};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(code) = early::before_home(&cli) {
        return code;
    }
    flotilla::sandbox::protect_self();
    flotilla::sandbox::use_this_executable();
    let mut home = Home::resolve(cli.home.as_deref());
    if let Some(file) = &cli.config {
        // A file named on the command line must be there; config.toml in the home need not.
        if let Err(e) = std::fs::metadata(file) {
            eprintln!("flotilla: --config {}: {e}", file.display());
            return ExitCode::from(2);
        }
        home.config_file = file.clone();
    }
    // Reading the history needs neither the config nor the model servers.
    if let Some(code) = early::without_engine(&cli, &home) {
        return code;
    }
    let mut config = match early::config(&cli, &home) {
        Ok(config) => config,
        Err(code) => return code,
    };
    if let Some(Cmd::Config { json }) = &cli.command {
        return written(flotilla::cli::config::print(
            &home,
            &config,
            *json,
            &mut safe_stdout(),
        ));
    }
    let (keymap, theme) = match early::dashboard_look(&cli, &home, &config) {
        Ok(look) => look,
        Err(code) => return code,
    };
    let eval_job = match flotilla::cli::eval::prepare(cli.command.as_ref(), &mut config, &home) {
        Some(Ok(job)) => Some(job),
        Some(Err(e)) => {
            eprintln!("flotilla: {e}");
            return ExitCode::from(2);
        }
        None => None,
    };
    let home = match &eval_job {
        Some(prepared) => Home::at(&prepared.root),
        None => home,
    };
    run_with_engine(cli, config, home, (keymap, theme), eval_job)
}

/// The commands that need an engine, and the dashboard: logging to the home's files, a
/// runtime, the engine, then `cli::dispatch`.
fn run_with_engine(
    cli: Cli,
    config: flotilla::config::Config,
    home: Home,
    look: (
        Option<flotilla::keymap::Keymap>,
        flotilla::tui::theme::Theme,
    ),
    eval_job: Option<flotilla::cli::eval::Prepared>,
) -> ExitCode {
    let _log_guard = logging::init(&home.logs_dir);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("flotilla: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async move {
        let (tx, mut rx) = event::channel();
        let engine = match Engine::new(config, home, tx) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("flotilla: {e}");
                return 2;
            }
        };
        flotilla::cli::dispatch::with_engine(cli.command, engine, &mut rx, look, eval_job).await
    });
    // Workflows still running after a quit are abandoned, not awaited.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    ExitCode::from(code as u8)
}
