//! Writing candidates and suites: the requests, sent together, and reading their replies into
//! the pool; replies with nothing usable are asked again (bounded).

use super::pool::{Candidate, Pool, TestSuite};
use super::stages::{AFTER_THE_BLOCK, Sampling, functions_of};
use super::{MAX_REASKS, Stage, StageContext};
use crate::config::Tier;
use crate::event::ArtifactKind;
use crate::extract;
use crate::pipeline::plan::Plan;
use crate::pipeline::prompts::{self, fill};
use crate::workflow::{Failure, Request, folder};
use std::time::Instant;

/// Which prompt a code candidate is written from.
#[derive(Debug, Clone, Copy)]
enum CodePrompt {
    /// The task alone, as one plain request would ask it.
    Plain,
    /// The task and the overseer's plan.
    Planned,
}

impl StageContext<'_> {
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

    /// Whether candidates written from the task and the plan are worth asking for: only when a
    /// different model wrote the plan. A plan by the model that writes the code holds nothing
    /// that model does not know, and a small one copies its own mistakes from it: with
    /// SmolLM2-135M in both tiers, 7 of 52 candidates written from the task and the plan passed
    /// the reference tests, against 27 of 63 written from the task alone.
    fn plan_adds_knowledge(&self) -> bool {
        let overseer = self.host.config().tier(Tier::Overseer);
        let coder = self.host.config().tier(Tier::Fast);
        overseer.provider != coder.provider || overseer.model != coder.model
    }

    /// The sampling of the `k`-th of several replies sent together (so logged whole): the
    /// first at temperature 0, the rest sampled with their own seeds.
    fn nth_sampling(&self, k: usize, seed_base: u64) -> Sampling {
        let settings = &self.host.config().pipeline;
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
        let which = if k % 2 == 1 && self.plan_adds_knowledge() {
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
    pub(super) fn take_code(
        &self,
        plan: &Plan,
        wanted: &[String],
        pool: &mut Pool,
        origin: String,
        reply: &str,
    ) -> bool {
        pool.replies.push(extract::readable(reply).to_owned());
        match extract::code(plan.language, reply) {
            Some(mut code) => {
                if let Some(note) = extract::alias(plan.language, &mut code, wanted) {
                    self.log.line(&format!("{origin}: {note}"));
                }
                self.splice_into_project(plan, &mut code);
                let k = pool.candidates.len() + 1;
                self.log.line(&format!(
                    "{origin}: defines {}{}",
                    code.names.join(", "),
                    dropped_note(&code.dropped)
                ));
                let file = folder::candidate_file(k, &plan.code_file);
                if let Err(e) = self.write_file(&file, &code.text) {
                    self.log.line(&e.to_string());
                }
                if pool.candidates.is_empty() {
                    // The result view shows the first candidate until one is chosen.
                    self.artifact(ArtifactKind::Code, &code.text, Some(plan.language));
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
    ) -> Result<(), Failure> {
        let started = Instant::now();
        self.progress(Stage::Code, None);
        if n > 1 && !self.plan_adds_knowledge() {
            self.log.line(
                "the same model plans and codes: every candidate is written from the task alone",
            );
        }
        let requests: Vec<_> = (0..n)
            .map(|k| self.candidate_request(plan, wanted, k))
            .collect();
        let replies = futures_util::future::join_all(
            requests
                .iter()
                .map(|(p, s, _)| self.ask(Tier::Fast, Request::Code, p.clone(), 2048, *s)),
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
    ) -> Result<(), Failure> {
        let mut tries = 0;
        while pool.candidates.is_empty() {
            if tries == MAX_REASKS {
                return Err(Failure::NoCode {
                    replies: asked as u32 + MAX_REASKS,
                });
            }
            tries += 1;
            let k = asked + tries as usize;
            let (prompt, mut sampling, origin) = self.candidate_request(plan, wanted, k.max(1));
            sampling.seed = Some(1000 + k as u64);
            let origin = format!("{origin}, asked again");
            let reply = self
                .ask(Tier::Fast, Request::Code, prompt, 2048, sampling)
                .await?;
            self.take_code(plan, wanted, pool, origin, &reply);
        }
        Ok(())
    }

    /// Takes a test reply into the pool: its suite if usable, its implementation as one more
    /// candidate. Returns whether the suite was usable.
    pub(super) fn take_suite(
        &self,
        plan: &Plan,
        wanted: &[String],
        pool: &mut Pool,
        origin: &str,
        reply: &str,
    ) -> bool {
        pool.replies.push(extract::readable(reply).to_owned());
        let public = pool.public_names(wanted);
        let reading = extract::suite(plan.language, reply, &public);
        if let Some(mut code) = reading.implementation {
            self.splice_into_project(plan, &mut code);
            self.log.line(&format!(
                "{origin} held an implementation of {}: it becomes a candidate",
                code.names.join(", ")
            ));
            let k = pool.candidates.len() + 1;
            let file = folder::candidate_file(k, &plan.code_file);
            if let Err(e) = self.write_file(&file, &code.text) {
                self.log.line(&e.to_string());
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
                let file = folder::suite_file(j, &plan.test_file);
                if let Err(e) = self.write_file(&file, &suite.text) {
                    self.log.line(&e.to_string());
                }
                if pool.suites.is_empty() {
                    self.artifact(ArtifactKind::Tests, &suite.text, Some(plan.language));
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
    ) -> Result<(), Failure> {
        let settings = &self.host.config().pipeline;
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
                .map(|(p, s, _)| self.ask(Tier::Fast, Request::Code, p.clone(), 2048, *s)),
        );
        let tests = futures_util::future::join_all(
            suite_samplings
                .iter()
                .map(|s| self.ask(Tier::Fast, Request::Tests, tests_prompt.clone(), 2048, *s)),
        );
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
                        Request::Tests,
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
            self.take_suite(plan, wanted, pool, super::pool::TASK_EXAMPLES, &examples);
        }
        self.record
            .add_seconds(Stage::Tests.key(), started.elapsed().as_secs_f64());
        Ok(())
    }
}

pub(super) fn dropped_note(dropped: &[String]) -> String {
    match dropped.len() {
        0 => String::new(),
        1 => format!("; left out {}", dropped[0]),
        n => format!("; left out {} and {} more", dropped[0], n - 1),
    }
}
