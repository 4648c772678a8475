use clap::Parser;
use flotilla::app::App;
use flotilla::cli::args::{Cli, Cmd};
use flotilla::cli::{doctor, history, models, run};
use flotilla::config::Config;
use flotilla::engine::Engine;
use flotilla::home::Home;
use flotilla::keymap::Keymap;
use flotilla::sanitize::{SafeWriter, strip};
use flotilla::tui::theme::Theme;
use flotilla::{eval, event, logging, tui};
use std::path::PathBuf;
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

/// Standard output, with control sequences stripped from whatever came from a model, a server
/// or a test.
fn safe_stdout() -> SafeWriter<std::io::Stdout> {
    SafeWriter::new(std::io::stdout())
}

/// Writes generated text to standard output.
fn print_out(bytes: &[u8]) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    written(out.write_all(bytes).and_then(|()| out.flush()))
}

/// The exit code after writing a command's output: a closed pipe (`| head`) is not an error.
fn written(result: std::io::Result<()>) -> ExitCode {
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
fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// `flotilla serve`: logs on standard error (it has no dashboard), the address on standard
/// output.
fn serve(options: flotilla::serve::ServeOptions) -> ExitCode {
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
                .env("GOMP_SPINCOUNT", flotilla::serve::GOMP_SPINCOUNT)
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
    match runtime.block_on(flotilla::serve::run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("flotilla serve: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Cmd::SandboxExec { spec }) = &cli.command {
        flotilla::sandbox::exec_main(spec);
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
        return serve(flotilla::serve::ServeOptions {
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
        });
    }
    // Documentation needs nothing set up.
    match &cli.command {
        Some(Cmd::Completions { shell }) => return print_out(&Cli::completions(*shell)),
        Some(Cmd::Man { dir: None }) => {
            return match Cli::manual() {
                Ok(page) => print_out(&page),
                Err(e) => {
                    eprintln!("flotilla: cannot write the manual: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(Cmd::Man { dir: Some(dir) }) => {
            return match std::fs::create_dir_all(dir).and_then(|()| Cli::manuals_to(dir)) {
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
            };
        }
        _ => {}
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
    let reading = match &cli.command {
        Some(Cmd::List { status, json }) => {
            Some(history::list(&home, *status, *json, &mut safe_stdout()))
        }
        Some(Cmd::Show { id, json }) => Some(history::show(&home, id, *json, &mut safe_stdout())),
        Some(Cmd::Logs { id, follow }) => {
            Some(history::logs(&home, id, *follow, &mut safe_stdout()))
        }
        Some(Cmd::Diff { id, json }) => Some(flotilla::cli::land::diff(
            &home,
            id,
            *json,
            &mut safe_stdout(),
        )),
        Some(Cmd::Apply { id, staged, json }) => Some(flotilla::cli::land::apply(
            &home,
            id,
            *staged,
            *json,
            &mut safe_stdout(),
            &mut SafeWriter::new(std::io::stderr()),
        )),
        Some(Cmd::Discard { id, json }) => Some(flotilla::cli::land::discard(
            &home,
            id,
            *json,
            &mut safe_stdout(),
        )),
        _ => None,
    };
    if let Some(result) = reading {
        return match result {
            Ok(code) => ExitCode::from(code as u8),
            // `flotilla list | head -1`: the reader has all it wanted.
            Err(e) if broken_pipe(&e) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("flotilla: {}", strip(&format!("{e:#}")));
                ExitCode::FAILURE
            }
        };
    }
    let mut config = match Config::load(&home.config_file) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("flotilla: bad configuration: {e}");
            return ExitCode::from(2);
        }
    };
    // Inside a git repository (or the one --project or config.toml names), workflows work on it.
    let on_project = matches!(
        cli.command,
        None | Some(Cmd::Run { .. } | Cmd::Retry { .. } | Cmd::Doctor { .. } | Cmd::Config { .. })
    );
    if on_project && !cli.no_project {
        let cwd = std::env::current_dir().unwrap_or_default();
        match flotilla::project::Project::find(
            cli.project.as_deref(),
            &config.project_settings,
            &cwd,
        ) {
            Ok(project) => config.project = project,
            Err(e) => {
                eprintln!("flotilla: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if let Some(Cmd::Config { json }) = &cli.command {
        return written(flotilla::cli::config::print(
            &home,
            &config,
            *json,
            &mut safe_stdout(),
        ));
    }
    let keymap = match &cli.command {
        None => match Keymap::load(&home.keybindings_file) {
            Ok(k) => Some(k),
            Err(e) => {
                eprintln!("flotilla: bad keybindings: {e}");
                return ExitCode::from(2);
            }
        },
        Some(_) => None,
    };
    // The dashboard's colours: config.toml's theme and [colors], and NO_COLOR (no-color.org:
    // set and not empty) over both.
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = match Theme::from_config(&config, no_color) {
        Ok(theme) => theme,
        Err(e) => {
            eprintln!(
                "flotilla: bad configuration: {}, {e}",
                home.config_file.display()
            );
            return ExitCode::from(2);
        }
    };
    let mut eval_job = None;
    if let Some(Cmd::Eval {
        set,
        only,
        limit,
        candidates,
        test_suites,
        mode,
        json,
    }) = &cli.command
    {
        for (value, slot) in [
            (candidates, &mut config.pipeline.candidates),
            (test_suites, &mut config.pipeline.test_suites),
        ] {
            match value {
                Some(n) if !(1..=16).contains(n) => {
                    eprintln!("flotilla: --candidates and --test-suites take 1 to 16");
                    return ExitCode::from(2);
                }
                Some(n) => *slot = *n,
                None => {}
            }
        }
        // The one-shot request and the pipeline's temperature-0 candidate are the same
        // request: answered once, so the pipeline is compared with the one-shot reply itself.
        for settings in config.providers.values_mut() {
            settings.remember_greedy = true;
        }
        let cache = std::env::var_os("FLOTILLA_CACHE")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/flotilla")))
            .unwrap_or_else(|| PathBuf::from(".cache/flotilla"));
        let task_set = eval::TaskSet::from_arg(set, &cache);
        let mut tasks = match task_set.load() {
            Ok(t) => t,
            Err(e) => {
                eprintln!("flotilla: {e}");
                return ExitCode::from(2);
            }
        };
        if let Some(only) = only {
            tasks.retain(|t| t.id.contains(only.as_str()));
        }
        if let Some(n) = limit {
            tasks.truncate(*n);
        }
        if tasks.is_empty() {
            eprintln!("flotilla: no task matches");
            return ExitCode::from(2);
        }
        let modes = eval::Modes {
            oneshot: mode.as_deref() != Some("pipeline"),
            pipeline: mode.as_deref() != Some("one-shot"),
        };
        // Eval workflows get a home of their own, so they don't crowd the history.
        let root = home
            .workflows_dir
            .parent()
            .map(|p| p.join("evals"))
            .unwrap_or_else(|| PathBuf::from("evals"))
            .join(format!(
                "eval-{}",
                flotilla::workflow::unix_secs(std::time::SystemTime::now()) as u64
            ));
        eval_job = Some((task_set.label(), tasks, modes, *json, root));
    }
    let home = match &eval_job {
        Some((.., root)) => Home::at(root),
        None => home,
    };
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
        let mut stdout = safe_stdout();
        // Headless, servers are watched only where a tier has several (to probe them back).
        let watching = CancellationToken::new();
        if !matches!(cli.command, None | Some(Cmd::Doctor { .. } | Cmd::Models { .. })) {
            engine.watch_pools(watching.clone());
        }
        let _stop_watching = watching.drop_guard();
        match cli.command {
            Some(Cmd::Run {
                description,
                json: false,
            }) => {
                run::run(&engine, &mut rx, description.join(" "), &mut stdout)
                    .await
                    .0
            }
            Some(Cmd::Run {
                description,
                json: true,
            }) => {
                let mut progress = SafeWriter::new(std::io::stderr());
                let (code, id) =
                    run::run(&engine, &mut rx, description.join(" "), &mut progress).await;
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
            Some(Cmd::Retry { id }) => run::retry(&engine, &mut rx, &id, &mut stdout).await,
            Some(Cmd::Delete { id }) => run::delete(&engine, &id, &mut stdout),
            // Handled first thing in `main`.
            // Handled before the engine starts.
            Some(Cmd::SandboxExec { .. } | Cmd::Diff { .. } | Cmd::Apply { .. } | Cmd::Discard { .. }) => 2,
            Some(Cmd::Eval { .. }) => {
                let Some((label, tasks, modes, json, root)) = eval_job else {
                    return 2;
                };
                let job = eval::Job {
                    set_label: label,
                    tasks,
                    modes,
                    json,
                };
                let report = eval::run(
                    &engine,
                    &mut rx,
                    job,
                    &mut stdout,
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
            Some(
                Cmd::List { .. }
                | Cmd::Show { .. }
                | Cmd::Logs { .. }
                | Cmd::Serve { .. }
                | Cmd::Completions { .. }
                | Cmd::Man { .. }
                | Cmd::Config { .. },
            ) => 0,
            None => {
                let stop = CancellationToken::new();
                engine.watch_health(stop.clone());
                engine.watch_history(stop.clone());
                let mut app = App::new(engine, keymap.unwrap_or_else(Keymap::defaults));
                app.theme = theme;
                let result = tui::run(&mut app, &mut rx).await;
                stop.cancel();
                // Live workflows end as "cancelled at exit", their tests killed, in the history.
                let left = app
                    .engine
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
                    Ok(Some(signal)) => flotilla::signals::exit_code(signal),
                    Err(e) => {
                        tracing::error!("dashboard failed: {e:#}");
                        eprintln!("flotilla: {}", strip(&format!("{e:#}")));
                        1
                    }
                }
            }
        }
    });
    // Workflows still running after a quit are abandoned, not awaited.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    ExitCode::from(code as u8)
}
