//! What the stages share (asking a tier, writing files and artifacts) and the single-request
//! stages: the plan, the overseer's review, a fix, a rewrite of a suite.

use super::pool::Pool;
use super::select::Board;
use super::{OUTPUT_FOR_PROMPTS, Stage, StageContext, Verdict, parse_verdict, trim_output};
use crate::config::{PipelineConfig, Tier};
use crate::event::{ArtifactKind, Event};
use crate::extract;
use crate::language::Language;
use crate::pipeline::plan::Plan;
use crate::pipeline::prompts::{self, fill};
use crate::provider::{ChatRequest, Message, ProviderError, Queue};
use crate::sandbox::runner::TestReport;
use crate::sanitize;
use crate::workflow::{Failure, Request, folder};
use std::time::Instant;

/// How one request samples.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Sampling {
    /// `None`: the tier's setting.
    pub temperature: Option<f32>,
    pub seed: Option<u64>,
    /// Stream the reply into the log as it comes (only one request at a time should).
    pub stream: bool,
    /// Where the reply may end early.
    pub stop: &'static [&'static str],
}

/// A code or test reply is done once its block is closed and a blank line follows: what comes
/// after is prose about the code, which costs time and is never used.
pub const AFTER_THE_BLOCK: &[&str] = &["```\n\n"];

impl Sampling {
    fn streamed() -> Self {
        Self {
            stream: true,
            ..Self::default()
        }
    }

    /// One code or test reply, streamed, ending after its block.
    fn code() -> Self {
        Self {
            stream: true,
            stop: AFTER_THE_BLOCK,
            ..Self::default()
        }
    }
}

impl StageContext<'_> {
    pub(super) fn progress(&self, stage: Stage, attempt: Option<(u32, u32)>) {
        let progress = stage.progress(attempt);
        self.log
            .line(&format!("── {} ──", progress.trim_end_matches('.')));
        if self.waits.stage(&progress) {
            self.show(progress);
        }
    }

    fn show(&self, progress: String) {
        self.host.emit(Event::Progress {
            id: self.id.clone(),
            progress,
        });
    }

    /// A request's place in its provider's queue, on the progress line.
    fn queue(&self, provider: &str, queue: Queue) {
        let line = match queue {
            Queue::Waiting(ahead) => self.waits.waiting(provider, ahead),
            Queue::Served => self.waits.served(),
            Queue::Moved { from, to, why } => {
                self.log.end_stream();
                self.log.line(&format!(
                    "moved from {from} to {to} ({why}); the answer starts over"
                ));
                None
            }
        };
        if let Some(line) = line {
            self.show(line);
        }
    }

    pub(super) fn artifact(&self, kind: ArtifactKind, text: &str, language: Option<Language>) {
        self.host
            .send(Event::artifact(self.id.clone(), kind, text, language));
    }

    pub(super) fn write_file(&self, name: &str, contents: &str) -> Result<(), Failure> {
        let path = self.dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Failure::Files(format!("cannot create {}: {e}", parent.display())))?;
        }
        std::fs::write(&path, contents)
            .map_err(|e| Failure::Files(format!("cannot write {}: {e}", path.display())))?;
        self.record.add_file(name);
        Ok(())
    }

    /// One chat with a tier, its tokens counted; streamed into the log, or logged whole when
    /// it ends (requests sent together would interleave).
    pub(super) async fn ask(
        &self,
        tier: Tier,
        what: Request,
        prompt: (String, String),
        max_tokens: u32,
        sampling: Sampling,
    ) -> Result<String, Failure> {
        self.chat(tier, what, prompt, max_tokens, sampling)
            .await
            .map_err(|e| Failure::Model {
                request: what,
                problem: e.to_string(),
            })
    }

    /// As `ask`, for a prompt that quotes test output, made by `prompt` from the most characters
    /// of output it may quote. A server whose context the prompt overflows is asked once more
    /// with a fifth of the output: long pytest output for a suite of 25 tests made a 2146-token
    /// prompt that a 2048-token context refused, which ended the workflow.
    pub(super) async fn ask_quoting(
        &self,
        tier: Tier,
        what: Request,
        prompt: impl Fn(usize) -> (String, String),
        max_tokens: u32,
        sampling: Sampling,
    ) -> Result<String, Failure> {
        let first = self
            .chat(tier, what, prompt(OUTPUT_FOR_PROMPTS), max_tokens, sampling)
            .await;
        let reply = match first {
            Err(e) if e.is_context_overflow() => {
                self.log
                    .line(&format!("{e}: asking again with less of the test output"));
                self.chat(
                    tier,
                    what,
                    prompt(OUTPUT_FOR_PROMPTS / 5),
                    max_tokens,
                    sampling,
                )
                .await
            }
            other => other,
        };
        reply.map_err(|e| Failure::Model {
            request: what,
            problem: e.to_string(),
        })
    }

    /// One request, as the server answered it (see `ask`).
    async fn chat(
        &self,
        tier: Tier,
        what: Request,
        (system, user): (String, String),
        max_tokens: u32,
        sampling: Sampling,
    ) -> Result<String, ProviderError> {
        let (provider, config) = self.host.tier(tier);
        let request = ChatRequest {
            model: config.model.clone(),
            messages: vec![Message::system(system), Message::user(user)],
            max_tokens: Some(config.max_tokens.unwrap_or(max_tokens)),
            temperature: sampling.temperature.or(config.temperature),
            seed: sampling.seed,
            stop: sampling.stop.iter().map(|s| (*s).to_owned()).collect(),
            urgent: false,
        };
        let log = self.log;
        let reply = if sampling.stream {
            log.line(&format!(
                "asking the {} tier for {} ({} on {})",
                tier.as_str(),
                what.as_str(),
                config.model,
                provider.describe()
            ));
            let reply = provider
                .chat_watched(&request, &mut |text| log.stream(text), &mut |q| {
                    self.queue(&provider.name, q);
                })
                .await;
            log.end_stream();
            reply
        } else {
            let reply = provider
                .chat_watched(&request, &mut |_| {}, &mut |q| {
                    self.queue(&provider.name, q);
                })
                .await;
            if let Ok(r) = &reply {
                log.line(&format!(
                    "── {}: the {} tier answered{} ──",
                    what.as_str(),
                    tier.as_str(),
                    if r.remembered {
                        " (this greedy request was asked before in this run: the same reply)"
                    } else {
                        ""
                    }
                ));
                log.stream(&r.text);
                log.end_stream();
            }
            reply
        };
        // Every request is served (it holds a slot) before it can end.
        self.waits.done();
        let reply = reply?;
        if let Some(server) = &reply.server {
            self.log.end_stream();
            self.log.line(&format!("(answered by {server})"));
        }
        if reply.cut {
            self.log.end_stream();
            self.log.line(&format!(
                "the server sent far more than max_tokens allows; only the first {} bytes were read",
                reply.text.len()
            ));
        }
        self.record.add_tokens(tier.as_str(), reply.usage(&request));
        Ok(reply.text)
    }

    pub(super) fn vars<'v>(
        &'v self,
        plan: &'v Plan,
        plan_text: &'v str,
    ) -> Vec<(&'v str, &'v str)> {
        vec![
            ("description", self.description),
            ("plan", plan_text),
            ("language", plan.language.as_str()),
            ("fence", plan.language.fence()),
            ("code_file", &plan.code_file),
            ("test_file", &plan.test_file),
            ("context", self.project_context()),
        ]
    }

    pub(super) async fn plan(&self, settings: &PipelineConfig) -> Result<Plan, Failure> {
        let started = Instant::now();
        self.progress(Stage::Plan, None);
        let context = self.plan_context();
        let vars = [
            ("description", self.description),
            ("context", context.as_str()),
        ];
        let prompt = (
            fill(prompts::PLAN_SYSTEM, &vars),
            fill(prompts::PLAN_USER, &vars),
        );
        let reply = self
            .ask(
                Tier::Overseer,
                Request::Planning,
                prompt,
                400,
                Sampling::streamed(),
            )
            .await?;
        // On a repository, its kind says the language when the task does not.
        let default = self
            .repo
            .and_then(|r| r.project.kind.language())
            .unwrap_or(settings.default_language);
        let plan = Plan::parse(&reply, self.description, default);
        let text = plan.to_markdown();
        self.write_file(
            folder::PLAN,
            &format!("{text}\n## The overseer's reply\n\n{reply}\n"),
        )?;
        self.artifact(ArtifactKind::Plan, &text, None);
        self.log.line(&format!(
            "plan: {}, {} functions, {} edge cases",
            plan.language,
            plan.functions.len(),
            plan.edge_cases.len()
        ));
        self.record
            .add_seconds(Stage::Plan.key(), started.elapsed().as_secs_f64());
        Ok(plan)
    }

    /// Asks for a new version of suite `s`; the index of the new suite when it is usable.
    pub(super) async fn ask_rewrite(
        &self,
        plan: &Plan,
        pool: &mut Pool,
        s: usize,
        report: Option<&TestReport>,
        why: &str,
        attempt: (u32, u32),
    ) -> Result<Option<usize>, Failure> {
        let started = Instant::now();
        self.progress(Stage::RewriteTests, Some(attempt));
        let plan_text = plan.to_markdown();
        let old = pool.suites[s].suite.text.clone();
        let functions = functions_of(plan);
        let prompt = |quoted: usize| {
            let output = report
                .map(|r| trim_output(&r.finished.output, quoted))
                .unwrap_or_default();
            let mut vars = self.vars(plan, &plan_text);
            vars.extend([
                ("functions", functions.as_str()),
                ("conventions", plan.language.test_conventions()),
                ("example", plan.language.test_example()),
                ("tests", old.as_str()),
                ("output", output.as_str()),
                ("verdict", why),
            ]);
            (
                fill(prompts::TESTS_SYSTEM, &vars),
                fill(prompts::REWRITE_TESTS_USER, &vars),
            )
        };
        let reply = self
            .ask_quoting(
                Tier::Fast,
                Request::RewriteTests,
                prompt,
                2048,
                Sampling::code(),
            )
            .await?;
        let origin = format!("rewrite of suite {}", s + 1);
        let wanted: Vec<String> = Vec::new();
        let usable = self.take_suite(plan, &wanted, pool, &origin, &reply);
        self.record
            .add_seconds(Stage::RewriteTests.key(), started.elapsed().as_secs_f64());
        Ok(usable.then(|| pool.suites.len() - 1))
    }

    pub(super) async fn review(
        &self,
        plan: &Plan,
        pool: &Pool,
        best: usize,
        suite: usize,
        report: &TestReport,
        attempt: (u32, u32),
    ) -> Result<(Verdict, String), Failure> {
        let started = Instant::now();
        self.progress(Stage::Review, Some(attempt));
        let plan_text = plan.to_markdown();
        let prompt = |quoted: usize| {
            let output = trim_output(&report.finished.output, quoted);
            let mut vars = self.vars(plan, &plan_text);
            vars.extend([
                ("code", pool.candidates[best].code.text.as_str()),
                ("tests", pool.suites[suite].suite.text.as_str()),
                ("output", output.as_str()),
            ]);
            (
                fill(prompts::REVIEW_SYSTEM, &vars),
                fill(prompts::FIX_USER, &vars),
            )
        };
        let reply = self
            .ask_quoting(
                Tier::Overseer,
                Request::Review,
                prompt,
                200,
                Sampling::streamed(),
            )
            .await?;
        let verdict = parse_verdict(&reply);
        let why = sanitize::strip(reply.trim())
            .chars()
            .take(300)
            .collect::<String>();
        self.log.line(&format!(
            "the overseer judges the {} wrong",
            if verdict == Verdict::Tests {
                "tests"
            } else {
                "code"
            }
        ));
        self.record
            .add_seconds(Stage::Review.key(), started.elapsed().as_secs_f64());
        Ok((verdict, why))
    }

    /// Asks for a fix of the best candidate; keeps it only when it scores higher.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn fix(
        &self,
        plan: &Plan,
        pool: &mut Pool,
        board: &mut Board,
        best: usize,
        tests: &str,
        report: &TestReport,
        attempt: (u32, u32),
    ) -> Result<(), Failure> {
        let started = Instant::now();
        self.progress(Stage::Fix, Some(attempt));
        let plan_text = plan.to_markdown();
        let prompt = |quoted: usize| {
            let output = trim_output(&report.finished.output, quoted);
            let mut vars = self.vars(plan, &plan_text);
            vars.extend([
                ("conventions", plan.language.code_conventions()),
                ("code", pool.candidates[best].code.text.as_str()),
                ("tests", tests),
                ("output", output.as_str()),
            ]);
            (
                fill(prompts::FIX_SYSTEM, &vars),
                fill(prompts::FIX_USER, &vars),
            )
        };
        let reply = self
            .ask_quoting(Tier::Fast, Request::Fix, prompt, 2048, Sampling::code())
            .await?;
        self.record
            .add_seconds(Stage::Fix.key(), started.elapsed().as_secs_f64());
        let (_, before) = self.standings(pool, board);
        let origin = format!("fix of candidate {} (round {})", best + 1, attempt.0);
        let wanted = extract::wanted_names(self.description, &plan.functions);
        if !self.take_code(plan, &wanted, pool, origin, &reply) {
            return Ok(());
        }
        let new = pool.candidates.len() - 1;
        let pairs = pool.pairs(&[new], &pool.active_suites());
        self.evaluate(plan, pool, board, pairs, attempt).await?;
        self.probe(plan, &wanted, pool, board).await?;
        let (chosen, after) = self.standings(pool, board);
        if chosen == new && after.score > before.score {
            self.log.line(&format!(
                "the fix scores {} against {}: it is kept",
                after.score, before.score
            ));
        } else {
            pool.candidates[new].active = false;
            self.log.line(&format!(
                "the fix does not score higher than candidate {} ({}): set aside",
                best + 1,
                before.score
            ));
        }
        Ok(())
    }

    /// The overseer blamed suite `s`: it is replaced by a rewrite that every candidate runs.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn rewrite_suite(
        &self,
        plan: &Plan,
        pool: &mut Pool,
        board: &mut Board,
        s: usize,
        report: &TestReport,
        why: &str,
        attempt: (u32, u32),
    ) -> Result<(), Failure> {
        let new = self
            .ask_rewrite(plan, pool, s, Some(report), why, attempt)
            .await?;
        if new.is_some() {
            pool.suites[s].active = false;
            pool.suites[s].problem = Some(format!("judged wrong by the overseer: {why}"));
        }
        self.catch_up(plan, pool, board, attempt).await
    }
}

/// "is_even(n)", "add(a, b) and mean(xs)", or "the task's functions".
pub(super) fn functions_of(plan: &Plan) -> String {
    match plan.functions.as_slice() {
        [] => "the task's functions".to_owned(),
        [one] => one.clone(),
        many => many.join(" and "),
    }
}
