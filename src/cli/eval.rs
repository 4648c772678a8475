//! `flotilla eval`'s set-up before the engine starts: the tasks chosen, the overrides of the
//! pipeline's settings, greedy replies remembered, and a home of its own for the run.

use crate::cli::args::Cmd;
use crate::config::Config;
use crate::eval::{Job, Modes, TaskSet};
use crate::home::Home;
use std::path::PathBuf;

/// An eval ready to run, and the folder its workflows go to (its home).
pub struct Prepared {
    pub job: Job,
    pub root: PathBuf,
}

/// For `flotilla eval`: the job, with `config` changed for it; `None` for any other command;
/// an error says what is wrong with the arguments (exit code 2).
pub fn prepare(
    command: Option<&Cmd>,
    config: &mut Config,
    home: &Home,
) -> Option<Result<Prepared, String>> {
    let Some(Cmd::Eval {
        set,
        only,
        limit,
        candidates,
        test_suites,
        mode,
        json,
    }) = command
    else {
        return None;
    };
    Some((|| {
        for (value, slot) in [
            (candidates, &mut config.pipeline.candidates),
            (test_suites, &mut config.pipeline.test_suites),
        ] {
            match value {
                Some(n) if !(1..=16).contains(n) => {
                    return Err("--candidates and --test-suites take 1 to 16".to_owned());
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
        let task_set = TaskSet::from_arg(set, &cache);
        let mut tasks = task_set.load().map_err(|e| e.to_string())?;
        if let Some(only) = only {
            tasks.retain(|t| t.id.contains(only.as_str()));
        }
        if let Some(n) = limit {
            tasks.truncate(*n);
        }
        if tasks.is_empty() {
            return Err("no task matches".to_owned());
        }
        let modes = Modes {
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
                crate::workflow::unix_secs(std::time::SystemTime::now()) as u64
            ));
        Ok(Prepared {
            job: Job {
                set_label: task_set.label(),
                tasks,
                modes,
                json: *json,
            },
            root,
        })
    })())
}
