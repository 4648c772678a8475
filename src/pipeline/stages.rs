//! The stages themselves: each asks a tier or runs the tests, writes its artifacts, and counts
//! its tokens and seconds.

use super::pool::{Candidate, Pool, TestSuite, load_error};
use super::select::{self, Board, Standing};
use super::{
    MAX_PROBES, MAX_REASKS, OUTPUT_FOR_PROMPTS, Stage, StageContext, Verdict, parse_verdict,
    trim_output,
};
use crate::config::{PipelineConfig, Tier};
use crate::event::{ArtifactKind, Event};
use crate::extract;
use crate::language::Language;
use crate::plan::Plan;
use crate::prompts::{self, fill};
use crate::provider::{ChatRequest, Message};
use crate::record::{CandidateRecord, SuiteRecord};
use crate::runner::{self, TestReport};
use crate::sanitize;
use crate::workflow::WorkflowResult;
use futures_util::StreamExt as _;
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
const AFTER_THE_BLOCK: &[&str] = &["```\n\n"];

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

/// Which prompt a code candidate is written from.
#[derive(Debug, Clone, Copy)]
enum CodePrompt {
    /// The task alone, as one plain request would ask it.
    Plain,
    /// The task and the overseer's plan.
    Planned,
}

impl StageContext<'_> {
    pub(super) fn progress(&self, stage: Stage, attempt: Option<(u32, u32)>) {
        let progress = stage.progress(attempt);
        self.log
            .line(&format!("── {} ──", progress.trim_end_matches('.')));
        self.inner.emit(Event::Progress {
            id: self.id.clone(),
            progress,
        });
    }

    pub(super) fn artifact(&self, kind: ArtifactKind, text: &str, language: Option<Language>) {
        // Highlighting a long file takes milliseconds: do it on a blocking thread.
        let (events, id, text) = (self.inner.events.clone(), self.id.clone(), text.to_owned());
        tokio::task::spawn_blocking(move || {
            let _ = events.send(Event::artifact(id, kind, &text, language));
        });
    }

    pub(super) fn write_file(&self, name: &str, contents: &str) -> Result<(), String> {
        let path = self.dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, contents)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        self.record.add_file(name);
        Ok(())
    }

    /// One chat with a tier, its tokens counted; streamed into the log, or logged whole when
    /// it ends (requests sent together would interleave).
    pub(super) async fn ask(
        &self,
        tier: Tier,
        what: &str,
        (system, user): (String, String),
        max_tokens: u32,
        sampling: Sampling,
    ) -> Result<String, String> {
        let (provider, config) = self.inner.tier(tier);
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
                "asking the {} tier for {what} ({} on {})",
                tier.as_str(),
                config.model,
                provider.describe()
            ));
            let reply = provider.chat(&request, &mut |text| log.stream(text)).await;
            log.end_stream();
            reply
        } else {
            let reply = provider.chat(&request, &mut |_| {}).await;
            if let Ok(r) = &reply {
                log.line(&format!(
                    "── {what}: the {} tier answered ──",
                    tier.as_str()
                ));
                log.stream(&r.text);
                log.end_stream();
            }
            reply
        };
        let reply = reply.map_err(|e| format!("{what} failed: {e}"))?;
        self.record.add_tokens(tier.as_str(), reply.usage(&request));
        Ok(reply.text)
    }

    fn vars<'v>(&'v self, plan: &'v Plan, plan_text: &'v str) -> Vec<(&'v str, &'v str)> {
        vec![
            ("description", self.description),
            ("plan", plan_text),
            ("language", plan.language.as_str()),
            ("fence", plan.language.fence()),
            ("code_file", &plan.code_file),
            ("test_file", &plan.test_file),
        ]
    }

    pub(super) async fn plan(&self, settings: &PipelineConfig) -> Result<Plan, String> {
        let started = Instant::now();
        self.progress(Stage::Plan, None);
        let vars = [("description", self.description)];
        let prompt = (
            fill(prompts::PLAN_SYSTEM, &vars),
            fill(prompts::PLAN_USER, &vars),
        );
        let reply = self
            .ask(
                Tier::Overseer,
                "planning",
                prompt,
                400,
                Sampling::streamed(),
            )
            .await?;
        let plan = Plan::parse(&reply, self.description, settings.default_language);
        let text = plan.to_markdown();
        self.write_file(
            "plan.md",
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

    fn code_prompt(&self, plan: &Plan, wanted: &[String], which: CodePrompt) -> (String, String) {
        let plan_text = plan.to_markdown();
        let mut vars = self.vars(plan, &plan_text);
        vars.push(("conventions", plan.language.code_conventions()));
        // The plain prompt names the plan's functions when the task did not, so the code
        // and the tests (written from the plan) agree on them.
        let named = extract::named_in(self.description);
        let missing: Vec<&String> = plan
            .functions
            .iter()
            .filter(|f| extract::signature_name(f).is_some_and(|n| !named.contains(&n)))
            .collect();
        let hint = if named.is_empty() && !missing.is_empty() && !wanted.is_empty() {
            let list: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
            format!("\n\nDefine: {}", list.join("; "))
        } else {
            String::new()
        };
        vars.push(("names", &hint));
        let (system, user) = match which {
            CodePrompt::Plain => (prompts::CODE_PLAIN_SYSTEM, prompts::CODE_PLAIN_USER),
            CodePrompt::Planned => (prompts::CODE_SYSTEM, prompts::CODE_USER),
        };
        (fill(system, &vars), fill(user, &vars))
    }

    fn tests_prompt(&self, plan: &Plan) -> (String, String) {
        let plan_text = plan.to_markdown();
        let functions = functions_of(plan);
        let mut vars = self.vars(plan, &plan_text);
        vars.push(("conventions", plan.language.test_conventions()));
        vars.push(("example", plan.language.test_example()));
        vars.push(("functions", &functions));
        (
            fill(prompts::TESTS_SYSTEM, &vars),
            fill(prompts::TESTS_USER, &vars),
        )
    }

    /// The sampling of the `k`-th of several replies sent together (so logged whole): the
    /// first at temperature 0, the rest sampled with their own seeds.
    fn nth_sampling(&self, k: usize, seed_base: u64) -> Sampling {
        let settings = &self.inner.config.pipeline;
        if k == 0 {
            Sampling {
                temperature: Some(0.0),
                seed: None,
                stream: false,
                stop: AFTER_THE_BLOCK,
            }
        } else {
            Sampling {
                temperature: Some(settings.sample_temperature),
                seed: Some(seed_base + k as u64),
                stream: false,
                stop: AFTER_THE_BLOCK,
            }
        }
    }

    fn candidate_request(
        &self,
        plan: &Plan,
        wanted: &[String],
        k: usize,
    ) -> ((String, String), Sampling, String) {
        let which = if k % 2 == 1 {
            CodePrompt::Planned
        } else {
            CodePrompt::Plain
        };
        let sampling = self.nth_sampling(k, 0);
        let origin = format!(
            "candidate {} ({}, temperature {})",
            k + 1,
            match which {
                CodePrompt::Plain => "task",
                CodePrompt::Planned => "task and plan",
            },
            sampling.temperature.unwrap_or(0.0)
        );
        (self.code_prompt(plan, wanted, which), sampling, origin)
    }

    /// Takes a code reply into the pool, or says why it could not.
    fn take_code(
        &self,
        plan: &Plan,
        wanted: &[String],
        pool: &mut Pool,
        origin: String,
        reply: &str,
    ) -> bool {
        pool.replies.push(reply.to_owned());
        match extract::code(plan.language, reply) {
            Some(mut code) => {
                if let Some(note) = extract::alias(plan.language, &mut code, wanted) {
                    self.log.line(&format!("{origin}: {note}"));
                }
                let k = pool.candidates.len() + 1;
                self.log.line(&format!(
                    "{origin}: defines {}{}",
                    code.names.join(", "),
                    dropped_note(&code.dropped)
                ));
                let file = format!("candidates/{k}/{}", plan.code_file);
                if let Err(e) = self.write_file(&file, &code.text) {
                    self.log.line(&e);
                }
                pool.candidates.push(Candidate {
                    origin,
                    code,
                    active: true,
                });
                true
            }
            None => {
                self.log
                    .line(&format!("{origin}: no usable code in the reply (not run)"));
                false
            }
        }
    }

    /// Writes `n` candidates at once, then asks again (bounded) while none is usable.
    pub(super) async fn write_candidates(
        &self,
        plan: &Plan,
        wanted: &[String],
        pool: &mut Pool,
        n: usize,
    ) -> Result<(), String> {
        let started = Instant::now();
        self.progress(Stage::Code, None);
        let requests: Vec<_> = (0..n)
            .map(|k| self.candidate_request(plan, wanted, k))
            .collect();
        let replies = futures_util::future::join_all(
            requests
                .iter()
                .map(|(p, s, _)| self.ask(Tier::Fast, "code generation", p.clone(), 2048, *s)),
        )
        .await;
        for ((_, _, origin), reply) in requests.into_iter().zip(replies) {
            let reply = reply?;
            self.take_code(plan, wanted, pool, origin, &reply);
        }
        self.reask_code(plan, wanted, pool, n).await?;
        self.record
            .add_seconds(Stage::Code.key(), started.elapsed().as_secs_f64());
        Ok(())
    }

    async fn reask_code(
        &self,
        plan: &Plan,
        wanted: &[String],
        pool: &mut Pool,
        asked: usize,
    ) -> Result<(), String> {
        let mut tries = 0;
        while pool.candidates.is_empty() {
            if tries == MAX_REASKS {
                return Err(format!(
                    "the fast model wrote no usable code in {} replies",
                    asked as u32 + MAX_REASKS
                ));
            }
            tries += 1;
            let k = asked + tries as usize;
            let (prompt, mut sampling, origin) = self.candidate_request(plan, wanted, k.max(1));
            sampling.seed = Some(1000 + k as u64);
            let origin = format!("{origin}, asked again");
            let reply = self
                .ask(Tier::Fast, "code generation", prompt, 2048, sampling)
                .await?;
            self.take_code(plan, wanted, pool, origin, &reply);
        }
        Ok(())
    }

    /// Takes a test reply into the pool: its suite if usable, its implementation as one more
    /// candidate. Returns whether the suite was usable.
    fn take_suite(
        &self,
        plan: &Plan,
        wanted: &[String],
        pool: &mut Pool,
        origin: &str,
        reply: &str,
    ) -> bool {
        pool.replies.push(reply.to_owned());
        let public = pool.public_names(wanted);
        let reading = extract::suite(plan.language, reply, &public);
        if let Some(code) = reading.implementation {
            self.log.line(&format!(
                "{origin} held an implementation of {}: it becomes a candidate",
                code.names.join(", ")
            ));
            let k = pool.candidates.len() + 1;
            let file = format!("candidates/{k}/{}", plan.code_file);
            if let Err(e) = self.write_file(&file, &code.text) {
                self.log.line(&e);
            }
            pool.candidates.push(Candidate {
                origin: format!("from {origin}"),
                code,
                active: true,
            });
        }
        match reading.suite {
            Ok(suite) if pool.suites.iter().any(|s| s.suite.text == suite.text) => {
                // The same tests twice would count every case twice.
                self.log
                    .line(&format!("{origin}: the same tests as an earlier suite"));
                true
            }
            Ok(suite) => {
                let j = pool.suites.len() + 1;
                self.log.line(&format!(
                    "{origin}: {} tests{}{}",
                    suite.tests.len(),
                    if suite.import_added {
                        " (the import of the code was added)"
                    } else {
                        ""
                    },
                    dropped_note(&suite.dropped)
                ));
                let file = format!("suites/{j}/{}", plan.test_file);
                if let Err(e) = self.write_file(&file, &suite.text) {
                    self.log.line(&e);
                }
                pool.suites.push(TestSuite {
                    origin: origin.to_owned(),
                    suite,
                    active: true,
                    problem: None,
                });
                true
            }
            Err(why) => {
                self.log
                    .line(&format!("{origin}: not usable as tests: {why}"));
                pool.refused_suites.push(format!("{origin}: {why}"));
                false
            }
        }
    }

    /// The candidates and the test suites, all requested at once; then the replies that held
    /// nothing usable are asked again (bounded).
    pub(super) async fn write_all(
        &self,
        plan: &Plan,
        wanted: &[String],
        pool: &mut Pool,
    ) -> Result<(), String> {
        let settings = &self.inner.config.pipeline;
        let started = Instant::now();
        self.progress(Stage::Code, None);
        let code_requests: Vec<_> = (0..settings.candidates)
            .map(|k| self.candidate_request(plan, wanted, k))
            .collect();
        let tests_prompt = self.tests_prompt(plan);
        let suite_samplings: Vec<Sampling> = (0..settings.test_suites)
            .map(|j| self.nth_sampling(j, 100))
            .collect();
        let code = futures_util::future::join_all(
            code_requests
                .iter()
                .map(|(p, s, _)| self.ask(Tier::Fast, "code generation", p.clone(), 2048, *s)),
        );
        let tests = futures_util::future::join_all(suite_samplings.iter().map(|s| {
            self.ask(
                Tier::Fast,
                "test generation",
                tests_prompt.clone(),
                2048,
                *s,
            )
        }));
        let (code, tests) = tokio::join!(code, tests);
        for ((_, _, origin), reply) in code_requests.into_iter().zip(code) {
            self.take_code(plan, wanted, pool, origin, &reply?);
        }
        self.reask_code(plan, wanted, pool, settings.candidates)
            .await?;
        self.record
            .add_seconds(Stage::Code.key(), started.elapsed().as_secs_f64());

        let started = Instant::now();
        self.progress(Stage::Tests, None);
        let mut unusable = Vec::new();
        for (j, reply) in tests.into_iter().enumerate() {
            let origin = format!("test suite {}", j + 1);
            if !self.take_suite(plan, wanted, pool, &origin, &reply?) {
                unusable.push(j);
            }
        }
        for j in unusable {
            for t in 1..=MAX_REASKS {
                let sampling = Sampling {
                    temperature: Some(settings.sample_temperature),
                    seed: Some(200 + (j as u64) * 10 + t as u64),
                    stream: false,
                    stop: AFTER_THE_BLOCK,
                };
                let reply = self
                    .ask(
                        Tier::Fast,
                        "test generation",
                        tests_prompt.clone(),
                        2048,
                        sampling,
                    )
                    .await?;
                let origin = format!("test suite {}, try {}", j + 1, t + 1);
                if self.take_suite(plan, wanted, pool, &origin, &reply) {
                    break;
                }
            }
        }
        // Examples the task itself gives are the best tests there are.
        if let Some(examples) = extract::task_examples(plan.language, self.description, wanted) {
            self.take_suite(plan, wanted, pool, "examples in the task", &examples);
        }
        self.record
            .add_seconds(Stage::Tests.key(), started.elapsed().as_secs_f64());
        Ok(())
    }

    /// Runs every active candidate not probed yet on the task's inputs. The first time, those
    /// are gathered: the calls of the code's functions with literal arguments in the suites and
    /// in every reply (usage examples, asserts, prints), then, when they are few, plain values
    /// of several types for each parameter.
    pub(super) async fn probe(
        &self,
        plan: &Plan,
        wanted: &[String],
        pool: &Pool,
        board: &mut Board,
    ) -> Result<(), String> {
        if board.probes.is_empty() {
            let public = pool.public_names(wanted);
            let texts = pool
                .active_suites()
                .into_iter()
                .map(|s| pool.suites[s].suite.text.as_str())
                .chain(pool.replies.iter().map(String::as_str));
            for text in texts {
                for call in extract::probes(plan.language, text, &public) {
                    if board.probes.len() < MAX_PROBES && !board.probes.contains(&call) {
                        board.probes.push(call);
                    }
                }
            }
            let signature = plan.functions.first().map(String::as_str).unwrap_or("");
            for call in extract::plain_probes(plan.language, signature) {
                if board.probes.len() >= MAX_PROBES {
                    break;
                }
                if !board.probes.contains(&call) {
                    board.probes.push(call);
                }
            }
            if !board.probes.is_empty() {
                self.log.line(&format!(
                    "probing each candidate with {} calls ({}…)",
                    board.probes.len(),
                    board.probes[0].chars().take(40).collect::<String>()
                ));
            }
        }
        if board.probes.is_empty() {
            return Ok(());
        }
        let todo: Vec<usize> = pool
            .active_candidates()
            .into_iter()
            .filter(|c| !board.behaviour.contains_key(c))
            .collect();
        let settings = &self.inner.config.pipeline;
        let probes = &board.probes;
        let results = futures_util::stream::iter(todo.into_iter().map(|c| {
            let code = pool.candidates[c].code.text.clone();
            async move {
                let values = runner::probe(
                    plan.language,
                    &code,
                    probes,
                    &self.inner.tools,
                    &settings.limits,
                    self.cancel,
                )
                .await;
                (c, values)
            }
        }))
        .buffer_unordered(2)
        .collect::<Vec<_>>()
        .await;
        for (c, values) in results {
            match values.map_err(|e| format!("cannot probe the code: {e}"))? {
                Some(values) => {
                    board.behaviour.insert(c, values);
                }
                None => {
                    // No answer (a timeout or a crash) is a behaviour no other shares.
                    board.behaviour.insert(c, vec![format!("!no answer {c}")]);
                }
            }
        }
        Ok(())
    }

    /// Runs each `(candidate, suite)` pair in the sandbox, two at a time.
    pub(super) async fn evaluate(
        &self,
        plan: &Plan,
        pool: &Pool,
        board: &mut Board,
        pairs: Vec<(usize, usize)>,
        attempt: (u32, u32),
    ) -> Result<(), String> {
        if pairs.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        self.progress(Stage::Run, Some(attempt));
        if !crate::sandbox::network_isolation() {
            self.log.line(
                "note: this machine allows no network namespace, so the tests can reach the network",
            );
        }
        let settings = &self.inner.config.pipeline;
        let tools = &self.inner.tools;
        let log = self.log;
        let first = pairs[0];
        let runs = futures_util::stream::iter(pairs.into_iter().map(|(c, s)| {
            let code = pool.candidates[c].code.text.clone();
            let tests = pool.suites[s].suite.text.clone();
            async move {
                // The first run of a batch is shown live; the others only by their summaries.
                let mut show = |text: &str| {
                    if (c, s) == first {
                        log.stream(text)
                    }
                };
                let report = runner::run(
                    plan.language,
                    &code,
                    &tests,
                    tools,
                    &settings.limits,
                    self.cancel,
                    &mut show,
                )
                .await;
                if (c, s) == first {
                    log.end_stream();
                }
                ((c, s), report)
            }
        }))
        .buffer_unordered(2)
        .collect::<Vec<_>>()
        .await;
        let mut runs = runs;
        runs.sort_by_key(|(pair, _)| *pair);
        for ((c, s), report) in runs {
            let report = report.map_err(|e| format!("cannot run the tests: {e}"))?;
            let summary = format!(
                "candidate {} × suite {}: {}",
                c + 1,
                s + 1,
                describe_run(&report, &settings.limits)
            );
            self.log.line(&summary);
            self.write_file(
                &format!("runs/c{}-s{}.txt", c + 1, s + 1),
                &format!("{summary}\n\n{}", report.finished.output),
            )?;
            board.runs.insert((c, s), report);
        }
        self.record
            .add_seconds(Stage::Run.key(), started.elapsed().as_secs_f64());
        Ok(())
    }

    /// Suites that loaded with no candidate are rewritten (bounded) and never blamed on the code.
    pub(super) async fn rewrite_unloadable(
        &self,
        plan: &Plan,
        pool: &mut Pool,
        board: &mut Board,
        attempt: (u32, u32),
    ) -> Result<(), String> {
        let mut queue: Vec<(usize, u32)> = pool
            .active_suites()
            .into_iter()
            .filter(|s| !board.usable(*s))
            .map(|s| (s, 1))
            .collect();
        while let Some((s, tries)) = queue.pop() {
            let output = board
                .runs
                .iter()
                .find(|((_, rs), _)| *rs == s)
                .map(|(_, r)| r.finished.output.clone())
                .unwrap_or_default();
            let why = format!("could not load: {}", load_error(&output));
            self.log
                .line(&format!("{} {why}; it is rewritten", pool.suites[s].origin));
            pool.suites[s].active = false;
            pool.suites[s].problem = Some(why.clone());
            if tries > MAX_REASKS {
                continue;
            }
            let report = board.runs.get(&(0, s)).cloned();
            let Some(new) = self
                .ask_rewrite(plan, pool, s, report.as_ref(), &why, attempt)
                .await?
            else {
                continue;
            };
            let pairs = pool.pairs(&pool.active_candidates(), &[new]);
            self.evaluate(plan, pool, board, pairs, attempt).await?;
            if !board.usable(new) {
                queue.push((new, tries + 1));
            }
        }
        Ok(())
    }

    /// Asks for a new version of suite `s`; the index of the new suite when it is usable.
    async fn ask_rewrite(
        &self,
        plan: &Plan,
        pool: &mut Pool,
        s: usize,
        report: Option<&TestReport>,
        why: &str,
        attempt: (u32, u32),
    ) -> Result<Option<usize>, String> {
        let started = Instant::now();
        self.progress(Stage::RewriteTests, Some(attempt));
        let plan_text = plan.to_markdown();
        let output = report
            .map(|r| trim_output(&r.finished.output, OUTPUT_FOR_PROMPTS))
            .unwrap_or_default();
        let old = pool.suites[s].suite.text.clone();
        let functions = functions_of(plan);
        let mut vars = self.vars(plan, &plan_text);
        vars.extend([
            ("functions", functions.as_str()),
            ("conventions", plan.language.test_conventions()),
            ("example", plan.language.test_example()),
            ("tests", old.as_str()),
            ("output", output.as_str()),
            ("verdict", why),
        ]);
        let prompt = (
            fill(prompts::TESTS_SYSTEM, &vars),
            fill(prompts::REWRITE_TESTS_USER, &vars),
        );
        let reply = self
            .ask(
                Tier::Fast,
                "rewriting the tests",
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

    /// The best active candidate and its standing.
    pub(super) fn standings(&self, pool: &Pool, board: &Board) -> (usize, Standing) {
        let candidates = pool.active_candidates();
        let standings = board.standings(&candidates, &pool.active_suites());
        let at = select::best(&standings).unwrap_or(0);
        let standing = standings.get(at).cloned().unwrap_or_default();
        (candidates.get(at).copied().unwrap_or(0), standing)
    }

    /// Logs the scoreboard, puts it in the record and shows it with the chosen code's runs.
    pub(super) fn note_standings(&self, pool: &Pool, board: &Board, best: usize) {
        let all: Vec<usize> = (0..pool.candidates.len()).collect();
        let standings = board.standings(&all, &pool.active_suites());
        let mut table = String::from(
            "candidate                                       score  passed  failed  agree\n",
        );
        let mut records = Vec::new();
        for (i, (c, st)) in pool.candidates.iter().zip(&standings).enumerate() {
            let mark = if i == best {
                "→"
            } else if c.active {
                " "
            } else {
                "×"
            };
            table.push_str(&format!(
                "{mark} {:<44} {:>5}  {:>6}  {:>6}  {:>5}\n",
                format!("{}. {}", i + 1, c.origin)
                    .chars()
                    .take(44)
                    .collect::<String>(),
                st.score,
                st.passed,
                st.failed,
                st.agreeing
            ));
            records.push(CandidateRecord {
                origin: c.origin.clone(),
                file: format!("candidates/{}", i + 1),
                score: st.score,
                passed: st.passed,
                failed: st.failed,
                agreeing: st.agreeing,
                chosen: i == best,
                kept: c.active,
            });
        }
        let suites: Vec<SuiteRecord> = pool
            .suites
            .iter()
            .enumerate()
            .map(|(j, s)| SuiteRecord {
                origin: s.origin.clone(),
                file: format!("suites/{}", j + 1),
                tests: board.tests_of(j).len() as u32,
                usable: s.active && board.usable(j),
                problem: s.problem.clone(),
            })
            .chain(pool.refused_suites.iter().map(|why| {
                SuiteRecord {
                    origin: why.split(':').next().unwrap_or("").to_owned(),
                    file: String::new(),
                    tests: 0,
                    usable: false,
                    problem: Some(
                        why.split_once(": ")
                            .map_or(why.as_str(), |x| x.1)
                            .to_owned(),
                    ),
                }
            }))
            .collect();
        for line in table.lines() {
            self.log.line(line);
        }
        let mut output = table.clone();
        for s in pool.usable_suites(board) {
            if let Some(r) = board.runs.get(&(best, s)) {
                output.push_str(&format!(
                    "\n── suite {} ({}) ──\n{}",
                    s + 1,
                    pool.suites[s].origin,
                    r.finished.output
                ));
            }
        }
        if let Err(e) = self.write_file("output.txt", &output) {
            self.log.line(&e);
        }
        self.artifact(ArtifactKind::TestOutput, &output, None);
        let mut record = self.record.lock();
        record.candidates = records;
        record.suites = suites;
        if let Some(st) = standings.get(best) {
            record.tests_passed = st.passed;
            record.tests_failed = st.failed;
        }
    }

    /// Makes candidate `best` the workflow's code, and each usable suite one of its test files.
    pub(super) fn keep(
        &self,
        plan: &Plan,
        pool: &Pool,
        best: usize,
        board: &Board,
    ) -> Result<(), String> {
        let Some(candidate) = pool.candidates.get(best) else {
            return Ok(());
        };
        self.write_file(&plan.code_file, &candidate.code.text)?;
        self.artifact(
            ArtifactKind::Code,
            &candidate.code.text,
            Some(plan.language),
        );
        self.log.line(&format!(
            "keeping {} ({}) as {}",
            best + 1,
            candidate.origin,
            plan.code_file
        ));
        let mut shown = false;
        for (n, s) in pool.usable_suites(board).into_iter().enumerate() {
            let file = numbered(&plan.test_file, n + 1);
            let text = &pool.suites[s].suite.text;
            self.write_file(&file, text)?;
            if !shown {
                self.artifact(ArtifactKind::Tests, text, Some(plan.language));
                shown = true;
            }
        }
        Ok(())
    }

    pub(super) fn result(&self, plan: &Plan, rounds: u32, standing: &Standing) -> WorkflowResult {
        let mut record = self.record.lock();
        record.attempts = rounds;
        WorkflowResult {
            dir: self.dir.clone(),
            files: record
                .files
                .iter()
                .filter(|f| !f.contains('/') || f.starts_with("src/") || f.starts_with("tests/"))
                .cloned()
                .collect(),
            main_file: Some(plan.code_file.clone()),
            language: Some(plan.language),
            attempts: rounds,
            tests_passed: standing.passed,
            tests_failed: standing.failed,
        }
    }

    pub(super) async fn review(
        &self,
        plan: &Plan,
        pool: &Pool,
        best: usize,
        suite: usize,
        report: &TestReport,
        attempt: (u32, u32),
    ) -> Result<(Verdict, String), String> {
        let started = Instant::now();
        self.progress(Stage::Review, Some(attempt));
        let plan_text = plan.to_markdown();
        let output = trim_output(&report.finished.output, OUTPUT_FOR_PROMPTS);
        let mut vars = self.vars(plan, &plan_text);
        vars.extend([
            ("code", pool.candidates[best].code.text.as_str()),
            ("tests", pool.suites[suite].suite.text.as_str()),
            ("output", output.as_str()),
        ]);
        let prompt = (
            fill(prompts::REVIEW_SYSTEM, &vars),
            fill(prompts::FIX_USER, &vars),
        );
        let reply = self
            .ask(
                Tier::Overseer,
                "reviewing the failures",
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
        suite: usize,
        report: &TestReport,
        attempt: (u32, u32),
    ) -> Result<(), String> {
        let started = Instant::now();
        self.progress(Stage::Fix, Some(attempt));
        let plan_text = plan.to_markdown();
        let output = trim_output(&report.finished.output, OUTPUT_FOR_PROMPTS);
        let mut vars = self.vars(plan, &plan_text);
        vars.extend([
            ("conventions", plan.language.code_conventions()),
            ("code", pool.candidates[best].code.text.as_str()),
            ("tests", pool.suites[suite].suite.text.as_str()),
            ("output", output.as_str()),
        ]);
        let prompt = (
            fill(prompts::FIX_SYSTEM, &vars),
            fill(prompts::FIX_USER, &vars),
        );
        let reply = self
            .ask(
                Tier::Fast,
                "fixing the code",
                prompt,
                2048,
                Sampling::code(),
            )
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
    ) -> Result<(), String> {
        let Some(new) = self
            .ask_rewrite(plan, pool, s, Some(report), why, attempt)
            .await?
        else {
            return Ok(());
        };
        pool.suites[s].active = false;
        pool.suites[s].problem = Some(format!("judged wrong by the overseer: {why}"));
        let pairs = pool.pairs(&pool.active_candidates(), &[new]);
        self.evaluate(plan, pool, board, pairs, attempt).await
    }
}

/// "is_even(n)", "add(a, b) and mean(xs)", or "the task's functions".
fn functions_of(plan: &Plan) -> String {
    match plan.functions.as_slice() {
        [] => "the task's functions".to_owned(),
        [one] => one.clone(),
        many => many.join(" and "),
    }
}

/// `test_solution.py` for the first suite, `test_solution_2.py` for the second…
fn numbered(file: &str, n: usize) -> String {
    if n == 1 {
        return file.to_owned();
    }
    let (stem, ext) = match file.find('.') {
        Some(dot) if file[..dot].rfind('/').is_none_or(|slash| slash < dot) => {
            (&file[..dot], &file[dot..])
        }
        _ => (file, ""),
    };
    format!("{stem}_{n}{ext}")
}

fn describe_run(report: &TestReport, limits: &crate::sandbox::Limits) -> String {
    if !report.loaded && !report.finished.timed_out && !report.finished.cancelled {
        return format!("could not load ({})", load_error(&report.finished.output));
    }
    if report.all_passed() {
        format!("all {} passed", report.passed)
    } else {
        report.describe(limits)
    }
}

fn dropped_note(dropped: &[String]) -> String {
    match dropped.len() {
        0 => String::new(),
        1 => format!("; left out {}", dropped[0]),
        n => format!("; left out {} and {} more", dropped[0], n - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn later_suites_get_numbered_files() {
        assert_eq!(numbered("test_solution.py", 1), "test_solution.py");
        assert_eq!(numbered("test_solution.py", 2), "test_solution_2.py");
        assert_eq!(numbered("solution.test.js", 2), "solution_2.test.js");
        assert_eq!(numbered("tests/solution.rs", 3), "tests/solution_3.rs");
    }
}
