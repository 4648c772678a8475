//! A workflow's body once it has a run slot. The overseer plans; the fast tier writes several
//! code candidates and, separately and from the description and plan only, several test suites,
//! all requested at once. Replies are read by a parser (`extract`), so prose, stray fences and
//! junk never reach a file, and unusable replies are asked again (bounded). Every candidate runs
//! against every suite in the sandbox and the code is chosen by dual agreement (`select`). The
//! fix loop starts from the best candidate and keeps a fix only when it scores higher; from the
//! second failure on the overseer first judges whether the code or the tests are wrong.

use crate::config::{Config, Tier, TierConfig};
use crate::event::Event;
use crate::extract;
use crate::pipeline::plan::Plan;
use crate::pipeline::worklog::WorkLog;
use crate::provider::pool::Pool as ServerPool;
use crate::sandbox::runner::Toolchain;
use crate::workflow::record::SharedRecord;
use crate::workflow::{Failure, WorkflowId, WorkflowResult};
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

/// What a workflow's stages need from whatever runs them: the settings, the servers of each
/// tier, the test toolchain, and the way out for events. The engine implements it; the
/// pipeline never sees the engine.
pub trait Host: Send + Sync {
    fn config(&self) -> &Config;
    fn tools(&self) -> &Toolchain;
    /// The provider and settings of a tier.
    fn tier(&self, tier: Tier) -> (&ServerPool, &TierConfig);
    /// Records an event in the history, then sends it to the dashboard.
    fn emit(&self, event: Event);
    /// Sends an event that is not history (an artifact).
    fn send(&self, event: Event);
}

mod confirm;
mod evaluate;
mod generate;
mod imports;
pub mod plan;
mod pool;
pub mod prompts;
mod repo;
pub use repo::OnRepo;
pub mod select;
mod stages;
pub mod worklog;

pub use pool::{Candidate, Pool, TestSuite};
pub use stages::AFTER_THE_BLOCK;

/// One step of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Plan,
    Code,
    Tests,
    Run,
    Fix,
    Review,
    RewriteTests,
}

impl Stage {
    /// The key its time is added up under in `result.json`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Plan => "plan",
            Self::Code => "code",
            Self::Tests | Self::RewriteTests => "tests",
            Self::Run => "run",
            Self::Fix => "fix",
            Self::Review => "review",
        }
    }

    /// What the progress column says while it runs; `attempt` is (this, most).
    pub fn progress(self, attempt: Option<(u32, u32)>) -> String {
        let of = attempt
            .map(|(n, max)| format!(" ({n}/{max})"))
            .unwrap_or_default();
        match self {
            Self::Plan => "Consulting overseer...".into(),
            Self::Code => "Generating code...".into(),
            Self::Tests => "Generating tests...".into(),
            Self::Run => format!("Running tests{of}"),
            Self::Fix => format!("Fixing code{of}..."),
            Self::Review => format!("Reviewing failures{of}..."),
            Self::RewriteTests => format!("Rewriting tests{of}..."),
        }
    }
}

/// What the stages share while one workflow runs.
pub struct StageContext<'a> {
    pub host: &'a dyn Host,
    pub id: &'a WorkflowId,
    pub description: &'a str,
    pub dir: PathBuf,
    pub log: &'a WorkLog,
    pub record: &'a SharedRecord,
    pub cancel: &'a CancellationToken,
    /// What the progress line shows while the workflow's requests wait for a server.
    pub waits: Waits,
    /// On a repository: its worktree and branch, made by the engine.
    pub repo: Option<&'a OnRepo>,
    /// On a repository: where the code goes, once the plan has said.
    pub placed: std::sync::OnceLock<repo::Placed>,
}

/// A workflow's requests and the provider queues they wait in: the progress line says
/// "Waiting for local: 2 ahead" only while none of them is being served.
#[derive(Debug, Default)]
pub struct Waits {
    state: std::sync::Mutex<WaitState>,
}

#[derive(Debug, Default)]
struct WaitState {
    /// Requests holding a server slot.
    served: usize,
    /// The stage the progress line showed before a wait replaced it.
    stage: String,
    waiting_shown: bool,
}

impl Waits {
    fn lock(&self) -> std::sync::MutexGuard<'_, WaitState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The stage's progress line, remembered to show again after a wait; false when a wait
    /// is on the line now (it stays there until a request is served).
    pub fn stage(&self, progress: &str) -> bool {
        let mut s = self.lock();
        s.stage = progress.to_owned();
        !s.waiting_shown
    }

    /// A request of this workflow waits with `ahead` before it: the line to show, if any.
    pub fn waiting(&self, provider: &str, ahead: usize) -> Option<String> {
        let mut s = self.lock();
        if s.served > 0 {
            return None;
        }
        s.waiting_shown = true;
        Some(format!("Waiting for {provider}: {ahead} ahead"))
    }

    /// A request got its slot: the stage's line to show again, if a wait had replaced it.
    pub fn served(&self) -> Option<String> {
        let mut s = self.lock();
        s.served += 1;
        std::mem::take(&mut s.waiting_shown).then(|| s.stage.clone())
    }

    /// A request that was served ended.
    pub fn done(&self) {
        let mut s = self.lock();
        s.served = s.served.saturating_sub(1);
    }
}

/// Which side the overseer blames for failing tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Code,
    Tests,
}

/// Reads the overseer's judgement loosely: whichever of CODE or TESTS it names first.
pub fn parse_verdict(reply: &str) -> Verdict {
    let upper = reply.to_ascii_uppercase();
    match (upper.find("TEST"), upper.find("CODE")) {
        (Some(t), Some(c)) if t < c => Verdict::Tests,
        (Some(_), None) => Verdict::Tests,
        _ => Verdict::Code,
    }
}

/// The start and end of long test output, where the errors and the summary are.
pub fn trim_output(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let half = max / 2;
    let mut head_end = half;
    while !text.is_char_boundary(head_end) {
        head_end -= 1;
    }
    let mut tail_start = text.len() - half;
    while !text.is_char_boundary(tail_start) {
        tail_start += 1;
    }
    format!(
        "{}\n[… {} bytes cut …]\n{}",
        &text[..head_end],
        tail_start - head_end,
        &text[tail_start..]
    )
}

const OUTPUT_FOR_PROMPTS: usize = 3000;
/// Extra requests for a reply that held no usable code, or for a suite that is unusable.
pub const MAX_REASKS: u32 = 2;
/// Calls every candidate is probed with, at most.
pub const MAX_PROBES: usize = 32;

/// Runs every stage; on success the result names the folder and the files written. On failure
/// the best code found is still kept in the folder.
pub async fn run(cx: &StageContext<'_>) -> Result<WorkflowResult, Failure> {
    let settings = &cx.host.config().pipeline;
    let plan = cx.plan(settings).await?;
    cx.record.lock().language = Some(plan.language);
    let wanted = extract::wanted_names(cx.description, &plan.functions);
    cx.place(&plan, &wanted)?;
    let mut pool = Pool::default();
    if !settings.run_tests {
        cx.log.line("tests are switched off (run_tests = false)");
        cx.write_candidates(&plan, &wanted, &mut pool, 1).await?;
        let board = select::Board::default();
        cx.keep(&plan, &pool, 0, &board)?;
        cx.commit(
            &pool,
            0,
            &board,
            "Completed: tests are switched off (run_tests = false).",
        )?;
        return Ok(cx.result(&plan, 0, &select::Standing::default()));
    }
    cx.write_all(&plan, &wanted, &mut pool).await?;
    let mut board = select::Board {
        trusted: pool
            .suites
            .iter()
            .enumerate()
            .filter(|(_, s)| s.origin == pool::TASK_EXAMPLES)
            .map(|(i, _)| i)
            .collect(),
        ..select::Board::default()
    };
    let outcome = rounds(cx, &plan, &wanted, &mut pool, &mut board).await;
    // However the rounds ended — a verdict, or a server or the sandbox failing a later step —
    // the best code tested so far is kept; not when the user cancelled.
    if !outcome.as_ref().is_err_and(Failure::is_cancelled) {
        let (best, _) = cx.standings(&pool, &board);
        cx.keep(&plan, &pool, best, &board)?;
        let ending = match &outcome {
            Ok((_, standing)) => format!(
                "Completed: it passes all {} tests it was given.",
                standing.passed
            ),
            Err(failure) => format!("Failed: {failure}. This is the best code it tested."),
        };
        match cx.commit(&pool, best, &board, &ending) {
            Err(e) if outcome.is_ok() => return Err(e),
            Err(e) => cx.log.line(&e.to_string()),
            Ok(()) => {}
        }
    }
    let (round, standing) = outcome?;
    Ok(cx.result(&plan, round, &standing))
}

/// Runs every candidate against every suite, then round after round scores them and either
/// ends (the round and the winner's standing when it completes) or fixes the code or a suite.
async fn rounds(
    cx: &StageContext<'_>,
    plan: &Plan,
    wanted: &[String],
    pool: &mut Pool,
    board: &mut select::Board,
) -> Result<(u32, select::Standing), Failure> {
    let settings = &cx.host.config().pipeline;
    let max = settings.max_attempts;
    let pairs = pool.pairs(&pool.active_candidates(), &pool.active_suites());
    cx.evaluate(plan, pool, board, pairs, (1, max)).await?;
    cx.rewrite_unloadable(plan, pool, board, (1, max)).await?;
    cx.probe(plan, wanted, pool, board).await?;
    let mut round = 1;
    loop {
        cx.record.lock().attempts = round;
        let (best, standing) = cx.standings(pool, board);
        cx.note_standings(pool, board, best);
        let usable = pool.usable_suites(board);
        // The task's examples rank candidates, but are too few to stand for a test suite
        // alone: `fibonacci(0) == 0 and fibonacci(1) == 1` is met by `return n`.
        if usable.iter().all(|s| board.trusted.contains(s)) {
            return Err(pool.why_no_tests(MAX_REASKS + 1));
        }
        if standing.breaks > 0 {
            // Whatever its own tests say, code that breaks the project's is not done.
            let broken = board.breaks.get(&best).cloned().unwrap_or_default();
            if round >= max {
                return Err(Failure::BreaksTests {
                    broken: standing.breaks,
                    first: broken.first().cloned().unwrap_or_default(),
                });
            }
            round += 1;
            let Some(report) = board.project_runs.get(&best).cloned() else {
                continue;
            };
            let tests = format!(
                "(the project's own tests; these passed before and fail now: {})",
                broken.join(", ")
            );
            cx.fix(plan, pool, board, best, &tests, &report, (round, max))
                .await?;
            continue;
        }
        if standing.failed == 0 && standing.passed > 0 {
            return confirmed(cx, pool, board, best, &usable, standing).map(|s| (round, s));
        }
        if round >= max {
            return Err(Failure::TestsFailed {
                attempts: max,
                failing: standing.failed,
                total: standing.failed + standing.passed,
            });
        }
        round += 1;
        another_attempt(cx, plan, pool, board, best, (round, max)).await?;
    }
}

/// Code that passes every test, done unless it is in doubt: a small model's tests can be wrong
/// and still be passed. When several candidates were asked for, the task's own examples
/// confirm the code when there are two or more (one can be met by chance: `factorial(0) is 1`
/// by code that returns 1), else the other candidates must back it (see `confirm`).
fn confirmed(
    cx: &StageContext<'_>,
    pool: &Pool,
    board: &select::Board,
    best: usize,
    usable: &[usize],
    standing: select::Standing,
) -> Result<select::Standing, Failure> {
    let doubt = if cx.host.config().pipeline.candidates < 2 || board.example_tests() >= 2 {
        None
    } else {
        board.doubt(best, &pool.active_candidates(), usable)
    };
    let passed = standing.passed;
    match doubt {
        None => Ok(standing),
        Some(confirm::Doubt::Alone) => Err(Failure::Unconfirmed { passed }),
        Some(confirm::Doubt::Minority { agreeing, valued }) => Err(Failure::Minority {
            passed,
            agreeing,
            valued,
        }),
    }
}

/// The next attempt on failing tests: the code fixed against the suite it fails worst, or,
/// from the third round, that suite rewritten when a review blames the tests (the task's own
/// examples are never the ones to blame).
async fn another_attempt(
    cx: &StageContext<'_>,
    plan: &Plan,
    pool: &mut Pool,
    board: &mut select::Board,
    best: usize,
    attempt: (u32, u32),
) -> Result<(), Failure> {
    let (suite, report) = pool.worst_suite_for(best, board);
    let verdict = if attempt.0 >= 3 && !board.trusted.contains(&suite) {
        cx.review(plan, pool, best, suite, &report, attempt).await?
    } else {
        (Verdict::Code, String::new())
    };
    match verdict {
        (Verdict::Code, _) => {
            let tests = pool.suites[suite].suite.text.clone();
            cx.fix(plan, pool, board, best, &tests, &report, attempt)
                .await
        }
        (Verdict::Tests, why) => {
            cx.rewrite_suite(plan, pool, board, suite, &report, &why, attempt)
                .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_are_read_loosely() {
        assert_eq!(
            parse_verdict("TESTS. The test expects 5 for 2+2."),
            Verdict::Tests
        );
        assert_eq!(parse_verdict("code — add() subtracts"), Verdict::Code);
        assert_eq!(
            parse_verdict("I think the tests are wrong, the code is fine"),
            Verdict::Tests
        );
        assert_eq!(parse_verdict("the function is wrong"), Verdict::Code);
        assert_eq!(parse_verdict(""), Verdict::Code);
    }

    #[test]
    fn long_output_keeps_its_start_and_end() {
        let text = format!("{}{}", "a".repeat(5000), "✓ 3 passed, 1 failed");
        let trimmed = trim_output(&text, 1000);
        assert!(trimmed.len() < 1100);
        assert!(trimmed.starts_with("aaa") && trimmed.ends_with("3 passed, 1 failed"));
        assert_eq!(trim_output("short", 1000), "short");
    }

    #[test]
    fn progress_names_stage_and_attempt() {
        assert_eq!(Stage::Run.progress(Some((2, 3))), "Running tests (2/3)");
        assert_eq!(Stage::Plan.progress(None), "Consulting overseer...");
        assert_eq!(Stage::Fix.progress(Some((2, 3))), "Fixing code (2/3)...");
    }
}
