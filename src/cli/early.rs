//! What `main` does before an engine exists: the hidden sandbox runner, `flotilla serve`, the
//! documentation commands, the commands that only read the history or the repository, and
//! the output helpers they share.

use crate::cli::args::{Cli, Cmd};
use crate::cli::history;
use crate::config::Config;
use crate::home::Home;
use crate::keymap::Keymap;
use crate::sanitize::{SafeWriter, strip};
use crate::tui::theme::Theme;
use std::process::ExitCode;

/// Standard output, with control sequences stripped from whatever came from a model, a server
/// or a test.
pub fn safe_stdout() -> SafeWriter<std::io::Stdout> {
    SafeWriter::new(std::io::stdout())
}

/// Writes generated text to standard output.
pub fn print_out(bytes: &[u8]) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    written(out.write_all(bytes).and_then(|()| out.flush()))
}

/// The exit code after writing a command's output: a closed pipe (`| head`) is not an error.
pub fn written(result: std::io::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("flotilla: cannot write to standard output: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Whether an error is a write to a closed pipe.
pub fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// `flotilla serve`: logs on standard error (it has no dashboard), the address on standard
/// output.
pub fn serve(options: crate::serve::ServeOptions) -> ExitCode {
    // llama.cpp's OpenMP threads wait for each other between the parts of a decode step, and
    // between steps while the next batch is made. GNU OpenMP spins only briefly before it
    // sleeps, and waking costs more than the wait: a 135M model decodes 20-30% slower. Spinning
    // a few milliseconds keeps them awake during generation and still idles at 0% CPU. OpenMP
    // reads the setting when it loads, so the process starts itself again with it.
    #[cfg(unix)]
    if std::env::var_os("GOMP_SPINCOUNT").is_none() {
        use std::os::unix::process::CommandExt;
        if let Ok(me) = std::env::current_exe() {
            let error = std::process::Command::new(me)
                .args(std::env::args_os().skip(1))
                .env("GOMP_SPINCOUNT", crate::serve::GOMP_SPINCOUNT)
                .exec();
            eprintln!(
                "flotilla serve: cannot restart with GOMP_SPINCOUNT set ({error}); going on without"
            );
        }
    }
    let filter = tracing_subscriber::EnvFilter::try_from_env("FLOTILLA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,flotilla=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    #[cfg(feature = "embedded")]
    llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("flotilla serve: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(crate::serve::run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("flotilla serve: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The commands that need no home: `sandbox-exec` (which never returns), `serve`,
/// `completions` and `man`; `None` for the others.
pub fn before_home(cli: &Cli) -> Option<ExitCode> {
    if let Some(Cmd::SandboxExec { spec }) = &cli.command {
        crate::sandbox::exec_main(spec);
    }
    if let Some(Cmd::Serve {
        model,
        host,
        port,
        parallel,
        ctx,
        queue,
        batch,
        threads,
        exit_with_stdin,
        address_file,
        users_lock,
        linger,
    }) = &cli.command
    {
        return Some(serve(crate::serve::ServeOptions {
            model: model.clone(),
            host: host.clone(),
            port: *port,
            parallel: *parallel,
            ctx: *ctx,
            queue: *queue,
            batch: *batch,
            threads: *threads,
            exit_with_stdin: *exit_with_stdin,
            address_file: address_file.clone(),
            users_lock: users_lock.clone(),
            linger: std::time::Duration::from_secs_f64(linger.max(0.0)),
        }));
    }
    // Documentation needs nothing set up.
    match &cli.command {
        Some(Cmd::Completions { shell }) => return Some(print_out(&Cli::completions(*shell))),
        Some(Cmd::Man { dir: None }) => {
            return Some(match Cli::manual() {
                Ok(page) => print_out(&page),
                Err(e) => {
                    eprintln!("flotilla: cannot write the manual: {e}");
                    ExitCode::FAILURE
                }
            });
        }
        Some(Cmd::Man { dir: Some(dir) }) => {
            return Some(
                match std::fs::create_dir_all(dir).and_then(|()| Cli::manuals_to(dir)) {
                    Ok(()) => {
                        println!(
                            "wrote flotilla.1 and a page per command in {}",
                            dir.display()
                        );
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!(
                            "flotilla: cannot write the manual in {}: {e}",
                            dir.display()
                        );
                        ExitCode::FAILURE
                    }
                },
            );
        }
        _ => {}
    }
    None
}

/// The commands that read the history or land a change without an engine: `list`, `show`,
/// `logs`, `diff`, `apply`, `discard`; `None` for the others.
pub fn without_engine(cli: &Cli, home: &Home) -> Option<ExitCode> {
    let reading = match &cli.command {
        Some(Cmd::List { status, json }) => {
            Some(history::list(home, *status, *json, &mut safe_stdout()))
        }
        Some(Cmd::Show { id, json }) => Some(history::show(home, id, *json, &mut safe_stdout())),
        Some(Cmd::Logs { id, follow }) => {
            Some(history::logs(home, id, *follow, &mut safe_stdout()))
        }
        Some(Cmd::Diff { id, json }) => {
            Some(crate::cli::land::diff(home, id, *json, &mut safe_stdout()))
        }
        Some(Cmd::Apply { id, staged, json }) => Some(crate::cli::land::apply(
            home,
            id,
            *staged,
            *json,
            &mut safe_stdout(),
            &mut SafeWriter::new(std::io::stderr()),
        )),
        Some(Cmd::Discard { id, json }) => Some(crate::cli::land::discard(
            home,
            id,
            *json,
            &mut safe_stdout(),
        )),
        _ => None,
    };
    if let Some(result) = reading {
        return Some(match result {
            Ok(code) => ExitCode::from(code as u8),
            // `flotilla list | head -1`: the reader has all it wanted.
            Err(e) if broken_pipe(&e) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("flotilla: {}", strip(&format!("{e:#}")));
                ExitCode::FAILURE
            }
        });
    }
    None
}

/// The configuration in effect: the file (or the environment), and the repository workflows
/// work on when the command works on one; a bad file or repository is said (exit code 2).
pub fn config(cli: &Cli, home: &Home) -> Result<Config, ExitCode> {
    let mut config = match Config::load(&home.config_file) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("flotilla: bad configuration: {e}");
            return Err(ExitCode::from(2));
        }
    };
    // Inside a git repository (or the one --project or config.toml names), workflows work on it.
    let on_project = matches!(
        cli.command,
        None | Some(Cmd::Run { .. } | Cmd::Retry { .. } | Cmd::Doctor { .. } | Cmd::Config { .. })
    );
    if on_project && !cli.no_project {
        let cwd = std::env::current_dir().unwrap_or_default();
        match crate::project::Project::find(cli.project.as_deref(), &config.project_settings, &cwd)
        {
            Ok(project) => config.project = project,
            Err(e) => {
                eprintln!("flotilla: {e}");
                return Err(ExitCode::from(2));
            }
        }
    }
    Ok(config)
}

/// The dashboard's keys (loaded only when it opens) and colours: config.toml's theme and
/// `[colors]`, with `NO_COLOR` over both; a bad file is said (exit code 2).
pub fn dashboard_look(
    cli: &Cli,
    home: &Home,
    config: &Config,
) -> Result<(Option<Keymap>, Theme), ExitCode> {
    let keymap = match &cli.command {
        None => match Keymap::load(&home.keybindings_file) {
            Ok(k) => Some(k),
            Err(e) => {
                eprintln!("flotilla: bad keybindings: {e}");
                return Err(ExitCode::from(2));
            }
        },
        Some(_) => None,
    };
    // The dashboard's colours: config.toml's theme and [colors], and NO_COLOR (no-color.org:
    // set and not empty) over both.
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = match Theme::from_config(config, no_color) {
        Ok(theme) => theme,
        Err(e) => {
            eprintln!(
                "flotilla: bad configuration: {}, {e}",
                home.config_file.display()
            );
            return Err(ExitCode::from(2));
        }
    };
    Ok((keymap, theme))
}
