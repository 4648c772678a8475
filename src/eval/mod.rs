//! `flotilla eval`: runs a task set as workflows in parallel, once as one plain request per task
//! ("one-shot") and once through the pipeline, on the same tiers, then runs each task's
//! reference tests (which the pipeline never sees) on what each mode produced and prints
//! pass@1 side by side.

use crate::config::{Tier, TierConfig};
use crate::engine::Engine;
use crate::event::{Event, EventReceiver, Outcome};
use crate::extract;
use crate::extract::codeblock;
use crate::language::Language;
use crate::pipeline::AFTER_THE_BLOCK;
use crate::pipeline::prompts::{self, fill};
use crate::provider::pool::Pool;
use crate::provider::{ChatRequest, Message};
use crate::sandbox::runner::{self, TestReport};
use crate::workflow::WorkflowId;
use crate::workflow::folder;
use serde::Serialize;
use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

mod table;
pub mod tasks;
use table::print_table;

pub use tasks::{Task, TaskSet};

/// Which modes to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Modes {
    pub oneshot: bool,
    pub pipeline: bool,
}

/// How one task went in one mode.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Verdict {
    /// The reference tests all passed on the code this mode produced.
    pub passed: bool,
    /// Why not, or the workflow's ending.
    pub note: String,
}

/// One task's results.
#[derive(Debug, Clone, Serialize)]
pub struct TaskResult {
    pub id: String,
    pub language: Language,
    /// One request, its code taken as a person would: the first fenced block, else the reply.
    pub oneshot: Option<Verdict>,
    /// The same reply read by flotilla's parser.
    pub oneshot_parsed: Option<Verdict>,
    pub pipeline: Option<Verdict>,
    /// The pipeline's workflow ended "completed".
    pub completed: Option<bool>,
    /// Some candidate of the workflow passes the reference tests: what a perfect choice would
    /// have kept (the headroom of selection over generation).
    pub any_candidate: Option<bool>,
    pub workflow: Option<String>,
}

/// A mode's totals.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ModeSummary {
    pub passed: usize,
    pub tasks: usize,
    pub pass_at_1: f64,
    pub seconds: f64,
    pub tokens_in: u64,
    pub tokens_out: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub set: String,
    pub tasks: Vec<TaskResult>,
    pub oneshot: Option<ModeSummary>,
    pub oneshot_parsed: Option<ModeSummary>,
    pub pipeline: Option<ModeSummary>,
    /// Workflows that ended completed, and how many of those pass their reference tests.
    pub completed: usize,
    pub completed_passing: usize,
    /// Workflows with at least one candidate that passes the reference tests.
    pub any_candidate: usize,
    pub candidates: usize,
    pub test_suites: usize,
    pub model: String,
    /// Pipeline requests answered with the reply the same greedy request got before: the
    /// one-shot reply, when the pipeline's temperature-0 candidate asked what it asked.
    pub greedy_reused: usize,
}

/// What to evaluate.
pub struct Job {
    /// Where the tasks came from, for the report.
    pub set_label: String,
    pub tasks: Vec<Task>,
    pub modes: Modes,
    /// Print the report as JSON rather than a table.
    pub json: bool,
}

/// Runs the set; progress lines go to `progress`, the report to `out` (a table, or JSON).
pub async fn run(
    engine: &Engine,
    events: &mut EventReceiver,
    job: Job,
    out: &mut dyn Write,
    progress: &mut dyn Write,
) -> Report {
    let Job {
        set_label,
        tasks,
        modes,
        json,
    } = job;
    let mut results: Vec<TaskResult> = tasks
        .iter()
        .map(|t| TaskResult {
            id: t.id.clone(),
            language: t.language,
            oneshot: None,
            oneshot_parsed: None,
            pipeline: None,
            completed: None,
            any_candidate: None,
            workflow: None,
        })
        .collect();
    let (provider, tier) = engine.tier(Tier::Fast);
    let pipeline_settings = &engine.config().pipeline;
    let mut report = Report {
        set: set_label,
        tasks: Vec::new(),
        oneshot: None,
        oneshot_parsed: None,
        pipeline: None,
        completed: 0,
        completed_passing: 0,
        any_candidate: 0,
        candidates: pipeline_settings.candidates,
        test_suites: pipeline_settings.test_suites,
        model: format!("{} on {}", tier.model, provider.describe()),
        greedy_reused: 0,
    };
    let _ = writeln!(
        progress,
        "flotilla eval: {} tasks from {}; fast tier {}",
        tasks.len(),
        report.set,
        report.model
    );
    if modes.oneshot {
        let (raw, parsed) = oneshot(engine, &tasks, &mut results, progress).await;
        report.oneshot = Some(raw);
        report.oneshot_parsed = Some(parsed);
    }
    if modes.pipeline {
        let before = provider.remembered_replies();
        report.pipeline = Some(pipeline(engine, events, &tasks, &mut results, progress).await);
        report.greedy_reused = provider.remembered_replies() - before;
        report.completed = results.iter().filter(|r| r.completed == Some(true)).count();
        report.completed_passing = results
            .iter()
            .filter(|r| r.completed == Some(true) && r.pipeline.as_ref().is_some_and(|v| v.passed))
            .count();
        report.any_candidate = results
            .iter()
            .filter(|r| r.any_candidate == Some(true))
            .count();
    }
    report.tasks = results;
    if json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        print_table(&report, out);
    }
    report
}

/// One plain request per task, all sent at once (the provider's slots pace them).
async fn oneshot(
    engine: &Engine,
    tasks: &[Task],
    results: &mut [TaskResult],
    progress: &mut dyn Write,
) -> (ModeSummary, ModeSummary) {
    let started = Instant::now();
    let (provider, tier) = engine.tier(Tier::Fast);
    let total = tasks.len();
    let asks = tasks
        .iter()
        .map(|task| ask_once(engine, provider, task, oneshot_request(tier, task)));
    let mut stream = futures_util::stream::iter(asks).buffered(tasks.len().max(1));
    let mut raw_sum = ModeSummary::default();
    let mut parsed_sum = ModeSummary::default();
    let mut i = 0;
    use futures_util::StreamExt as _;
    while let Some((raw, parsed, (tin, tout))) = stream.next().await {
        let _ = writeln!(
            progress,
            "[one-shot {}/{total}] {}: {}{}",
            i + 1,
            tasks[i].id,
            mark(raw.passed),
            if parsed.passed != raw.passed {
                format!(" (parsed: {})", mark(parsed.passed))
            } else {
                String::new()
            }
        );
        raw_sum.tokens_in += tin;
        raw_sum.tokens_out += tout;
        raw_sum.passed += usize::from(raw.passed);
        parsed_sum.passed += usize::from(parsed.passed);
        results[i].oneshot = Some(raw);
        results[i].oneshot_parsed = Some(parsed);
        i += 1;
    }
    let seconds = started.elapsed().as_secs_f64();
    for s in [&mut raw_sum, &mut parsed_sum] {
        s.tasks = total;
        s.seconds = seconds;
        s.pass_at_1 = ratio(s.passed, total);
    }
    parsed_sum.tokens_in = raw_sum.tokens_in;
    parsed_sum.tokens_out = raw_sum.tokens_out;
    (raw_sum, parsed_sum)
}

/// The one-shot request for a task: the coder's plain prompt, greedy, stopped after the block
/// as the pipeline's temperature-0 candidate is asked, so the two are one request.
fn oneshot_request(tier: &TierConfig, task: &Task) -> ChatRequest {
    let vars = [
        ("language", task.language.as_str()),
        ("fence", task.language.fence()),
        ("conventions", task.language.code_conventions()),
        ("description", task.prompt.as_str()),
        ("names", ""),
        ("context", ""),
    ];
    ChatRequest {
        model: tier.model.clone(),
        messages: vec![
            Message::system(fill(prompts::CODE_PLAIN_SYSTEM, &vars)),
            Message::user(fill(prompts::CODE_PLAIN_USER, &vars)),
        ],
        max_tokens: Some(tier.max_tokens.unwrap_or(2048)),
        temperature: Some(0.0),
        seed: None,
        stop: AFTER_THE_BLOCK.iter().map(|s| (*s).to_owned()).collect(),
        urgent: false,
    }
}

/// A one-shot reply judged twice: its first code block as it is, and the code flotilla's
/// reader takes from it; with the request's tokens in and out.
async fn ask_once(
    engine: &Engine,
    provider: &Pool,
    task: &Task,
    request: ChatRequest,
) -> (Verdict, Verdict, (u64, u64)) {
    let reply = provider.chat(&request, &mut |_| {}).await;
    let usage = reply.as_ref().map(|r| r.usage(&request)).unwrap_or((0, 0));
    let (raw, parsed) = match reply {
        Ok(r) => {
            save_reply(engine, task, &r.text);
            let raw_code = codeblock::first_code(&r.text).map(|b| b.code);
            let parsed_code = extract::code(task.language, &r.text).map(|c| c.text);
            let raw = verdict_for(engine, task, raw_code.as_deref()).await;
            let parsed = match (&parsed_code, &raw_code) {
                (Some(p), Some(r)) if p == r => raw.clone(),
                _ => verdict_for(engine, task, parsed_code.as_deref()).await,
            };
            (raw, parsed)
        }
        Err(e) => {
            let v = Verdict {
                passed: false,
                note: format!("request failed: {e}"),
            };
            (v.clone(), v)
        }
    };
    (raw, parsed, usage)
}

/// Keeps a one-shot reply beside the eval's workflows (`oneshot/<task>.md`), to read later.
fn save_reply(engine: &Engine, task: &Task, reply: &str) {
    let Some(root) = engine.home().workflows_dir.parent() else {
        return;
    };
    let dir = root.join("oneshot");
    let file = crate::sanitize::file_name_part(&task.id, &['-', '_']);
    let written = std::fs::create_dir_all(&dir)
        .and_then(|_| std::fs::write(dir.join(format!("{file}.md")), reply));
    if let Err(e) = written {
        eprintln!("cannot keep the one-shot reply of {}: {e}", task.id);
    }
}

/// Every task as a workflow, started at once (the engine's run slots pace them).
async fn pipeline(
    engine: &Engine,
    events: &mut EventReceiver,
    tasks: &[Task],
    results: &mut [TaskResult],
    progress: &mut dyn Write,
) -> ModeSummary {
    let started = Instant::now();
    let mut live = start_all(engine, tasks, results, progress);
    let total = tasks.len();
    let mut summary = ModeSummary {
        tasks: total,
        ..ModeSummary::default()
    };
    let mut done = 0;
    while !live.is_empty() {
        let Some(event) = events.recv().await else {
            break;
        };
        let Event::Finished { id, outcome, .. } = event else {
            continue;
        };
        let Some(i) = live.remove(&id) else {
            continue;
        };
        let task = &tasks[i];
        let dir = engine.home().workflow_dir(&id);
        let code = std::fs::read_to_string(dir.join(task.language.code_file())).ok();
        let mut verdict = verdict_for(engine, task, code.as_deref()).await;
        let completed = matches!(outcome, Outcome::Completed(_));
        let ending = match &outcome {
            Outcome::Completed(_) => "completed".to_owned(),
            Outcome::Failed(why) => format!("failed: {why}"),
        };
        verdict.note = if verdict.note.is_empty() {
            ending.clone()
        } else {
            format!("{ending}; {}", verdict.note)
        };
        let (tokens_in, tokens_out) = tokens_of(&dir);
        summary.tokens_in += tokens_in;
        summary.tokens_out += tokens_out;
        done += 1;
        let _ = writeln!(
            progress,
            "[pipeline {done}/{total}] {}: {} ({})",
            task.id,
            mark(verdict.passed),
            crate::sanitize::strip(&ending)
                .chars()
                .take(100)
                .collect::<String>()
        );
        summary.passed += usize::from(verdict.passed);
        results[i].any_candidate = Some(verdict.passed || any_candidate(engine, task, &dir).await);
        results[i].completed = Some(completed);
        results[i].pipeline = Some(verdict);
    }
    summary.seconds = started.elapsed().as_secs_f64();
    summary.pass_at_1 = ratio(summary.passed, total);
    summary
}

/// A workflow for each task, by id; a task whose workflow could not start fails at once.
fn start_all(
    engine: &Engine,
    tasks: &[Task],
    results: &mut [TaskResult],
    progress: &mut dyn Write,
) -> HashMap<WorkflowId, usize> {
    let mut live = HashMap::new();
    for (i, task) in tasks.iter().enumerate() {
        match engine.start(task.prompt.clone()) {
            Ok(wf) => {
                results[i].workflow = Some(wf.id.to_string());
                live.insert(wf.id, i);
            }
            Err(e) => {
                let _ = writeln!(progress, "[pipeline] {}: {e}", task.id);
                results[i].pipeline = Some(Verdict {
                    passed: false,
                    note: e,
                });
            }
        }
    }
    live
}

/// The tokens a workflow used, in and out, as its `result.json` says (none when unreadable).
fn tokens_of(dir: &std::path::Path) -> (u64, u64) {
    let json = std::fs::read_to_string(dir.join(folder::RESULT))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok());
    let Some(tokens) = json.as_ref().and_then(|j| j["tokens"].as_object()) else {
        return (0, 0);
    };
    tokens.values().fold((0, 0), |(i, o), t| {
        (
            i + t["in"].as_u64().unwrap_or(0),
            o + t["out"].as_u64().unwrap_or(0),
        )
    })
}

/// Whether any candidate in a workflow's `candidates/` passes the reference tests.
async fn any_candidate(engine: &Engine, task: &Task, dir: &std::path::Path) -> bool {
    for file in crate::workflow::folder::candidate_files(dir, task.language.code_file()) {
        let Ok(code) = std::fs::read_to_string(&file) else {
            return false;
        };
        if verdict_for(engine, task, Some(&code)).await.passed {
            return true;
        }
    }
    false
}

/// Runs a task's reference tests on `code` in the sandbox.
async fn verdict_for(engine: &Engine, task: &Task, code: Option<&str>) -> Verdict {
    let Some(code) = code else {
        return Verdict {
            passed: false,
            note: "no code".into(),
        };
    };
    match reference(engine, task, code).await {
        Ok(r) if r.all_passed() => Verdict {
            passed: true,
            note: String::new(),
        },
        Ok(r) => Verdict {
            passed: false,
            note: r.describe(&engine.config().pipeline.limits),
        },
        Err(e) => Verdict {
            passed: false,
            note: format!("cannot run the reference tests: {e}"),
        },
    }
}

/// The reference tests of `task` against `code`.
pub async fn reference(engine: &Engine, task: &Task, code: &str) -> std::io::Result<TestReport> {
    let mut limits = engine.config().pipeline.limits;
    // HumanEval's checks are quick; a solution stuck in a loop fails sooner.
    limits.timeout = limits.timeout.min(Duration::from_secs(30));
    runner::run(
        task.language,
        code,
        &task.tests,
        engine.tools(),
        &limits,
        &CancellationToken::new(),
        &mut |_| {},
    )
    .await
}

fn mark(passed: bool) -> &'static str {
    if passed { "pass" } else { "fail" }
}

fn ratio(n: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        n as f64 / total as f64
    }
}
