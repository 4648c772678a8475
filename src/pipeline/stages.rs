//! The stages themselves: each asks a tier or runs the tests, writes its artifacts, and counts
//! its tokens and seconds.

use super::{
    Attempt, OUTPUT_FOR_PROMPTS, Stage, StageContext, Verdict, parse_verdict, trim_output,
};
use crate::codeblock;
use crate::config::{PipelineConfig, Tier};
use crate::event::{ArtifactKind, Event};
use crate::language::Language;
use crate::plan::Plan;
use crate::prompts::{self, fill};
use crate::provider::{ChatRequest, Message};
use crate::runner::{self, TestReport};
use crate::sanitize;
use crate::workflow::WorkflowResult;
use std::time::Instant;

impl StageContext<'_> {
    pub(super) fn progress(&self, stage: Stage, attempt: Option<(u32, u32)>) {
        let progress = stage.progress(attempt);
        self.log
            .line(&format!("── {} ──", progress.trim_end_matches('.')));
        // The receiver is gone only when flotilla is shutting down.
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

    /// One chat with a tier, streamed into the log, its tokens counted.
    pub(super) async fn ask(
        &self,
        tier: Tier,
        what: &str,
        system: String,
        user: String,
        max_tokens: u32,
    ) -> Result<String, String> {
        let (provider, config) = self.inner.tier(tier);
        let request = ChatRequest {
            model: config.model.clone(),
            messages: vec![Message::system(system), Message::user(user)],
            max_tokens: Some(config.max_tokens.unwrap_or(max_tokens)),
            temperature: config.temperature,
            urgent: false,
        };
        self.log.line(&format!(
            "asking the {} tier ({} on {})",
            tier.as_str(),
            config.model,
            provider.describe()
        ));
        let log = self.log;
        let reply = provider.chat(&request, &mut |text| log.stream(text)).await;
        self.log.end_stream();
        let reply = reply.map_err(|e| format!("{what} failed: {e}"))?;
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
        ]
    }

    pub(super) async fn plan(&self, settings: &PipelineConfig) -> Result<Plan, String> {
        let started = Instant::now();
        self.progress(Stage::Plan, None);
        let vars = [("description", self.description)];
        let reply = self
            .ask(
                Tier::Overseer,
                "planning",
                fill(prompts::PLAN_SYSTEM, &vars),
                fill(prompts::PLAN_USER, &vars),
                400,
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

    /// Takes the code block out of a reply and writes it to `file`.
    pub(super) fn save_block(
        &self,
        plan: &Plan,
        reply: &str,
        file: &str,
        kind: ArtifactKind,
        who: &str,
    ) -> Result<String, String> {
        let block = codeblock::main_code(reply)
            .ok_or_else(|| format!("the {who} answered with no code"))?;
        self.write_file(file, &block.code)?;
        self.artifact(kind, &block.code, Some(plan.language));
        self.log.line(&format!(
            "saved {} ({} lines)",
            self.dir.join(file).display(),
            block.code.lines().count()
        ));
        Ok(block.code)
    }

    /// A writing stage: the fast tier fills `system` and `user` with the plan and `extra`, and
    /// the code block it answers becomes `file`.
    #[allow(clippy::too_many_arguments)]
    async fn write(
        &self,
        stage: Stage,
        attempt: Option<(u32, u32)>,
        plan: &Plan,
        extra: &[(&str, &str)],
        (system, user): (&str, &str),
        (file, kind): (&str, ArtifactKind),
        what: &str,
    ) -> Result<String, String> {
        let started = Instant::now();
        self.progress(stage, attempt);
        let plan_text = plan.to_markdown();
        let mut vars = self.vars(plan, &plan_text);
        vars.extend_from_slice(extra);
        let reply = self
            .ask(
                Tier::Fast,
                what,
                fill(system, &vars),
                fill(user, &vars),
                2048,
            )
            .await?;
        let text = self.save_block(plan, &reply, file, kind, "fast model")?;
        self.record
            .add_seconds(stage.key(), started.elapsed().as_secs_f64());
        Ok(text)
    }

    pub(super) async fn write_code(&self, plan: &Plan) -> Result<String, String> {
        let extra = [("conventions", plan.language.code_conventions())];
        let templates = (prompts::CODE_SYSTEM, prompts::CODE_USER);
        let target = (plan.code_file.as_str(), ArtifactKind::Code);
        self.write(
            Stage::Code,
            None,
            plan,
            &extra,
            templates,
            target,
            "code generation",
        )
        .await
    }

    pub(super) async fn write_tests(&self, plan: &Plan) -> Result<String, String> {
        let extra = [("conventions", plan.language.test_conventions())];
        let templates = (prompts::TESTS_SYSTEM, prompts::TESTS_USER);
        let target = (plan.test_file.as_str(), ArtifactKind::Tests);
        self.write(
            Stage::Tests,
            None,
            plan,
            &extra,
            templates,
            target,
            "test generation",
        )
        .await
    }

    pub(super) async fn run_tests(
        &self,
        plan: &Plan,
        code: &str,
        tests: &str,
        attempt: (u32, u32),
    ) -> Result<TestReport, String> {
        let started = Instant::now();
        self.progress(Stage::Run, Some(attempt));
        let settings = &self.inner.config.pipeline;
        if !crate::sandbox::network_isolation() {
            self.log.line("note: this machine allows no network namespace, so the tests can reach the network");
        }
        let log = self.log;
        let report = runner::run(
            plan.language,
            code,
            tests,
            &self.inner.tools,
            &settings.limits,
            self.cancel,
            &mut |t| log.stream(t),
        )
        .await
        .map_err(|e| format!("cannot run the tests: {e}"))?;
        self.log.end_stream();
        let summary = format!(
            "attempt {}/{}: {} — {}",
            attempt.0,
            attempt.1,
            report.runner,
            if report.all_passed() {
                format!("all {} passed", report.passed)
            } else {
                report.describe(&settings.limits)
            }
        );
        self.log.line(&summary);
        let folder = format!("attempts/{}", attempt.0);
        self.write_file(
            &format!("{folder}/output.txt"),
            &format!("{summary}\n\n{}", report.finished.output),
        )?;
        self.write_file(&format!("{folder}/{}", plan.code_file), code)?;
        self.write_file(&format!("{folder}/{}", plan.test_file), tests)?;
        self.artifact(
            ArtifactKind::TestOutput,
            &format!("{summary}\n\n{}", report.finished.output),
            None,
        );
        {
            let mut record = self.record.lock();
            record.attempts = attempt.0;
            record.tests_passed = report.passed;
            record.tests_failed = report.failed;
        }
        self.record
            .add_seconds(Stage::Run.key(), started.elapsed().as_secs_f64());
        Ok(report)
    }

    pub(super) async fn fix_code(
        &self,
        plan: &Plan,
        code: &str,
        tests: &str,
        report: &TestReport,
        attempt: (u32, u32),
    ) -> Result<String, String> {
        let output = trim_output(&report.finished.output, OUTPUT_FOR_PROMPTS);
        let extra = [
            ("conventions", plan.language.code_conventions()),
            ("code", code),
            ("tests", tests),
            ("output", output.as_str()),
        ];
        let templates = (prompts::FIX_SYSTEM, prompts::FIX_USER);
        let target = (plan.code_file.as_str(), ArtifactKind::Code);
        self.write(
            Stage::Fix,
            Some(attempt),
            plan,
            &extra,
            templates,
            target,
            "fixing the code",
        )
        .await
    }

    pub(super) async fn review(
        &self,
        plan: &Plan,
        code: &str,
        tests: &str,
        report: &TestReport,
        attempt: (u32, u32),
    ) -> Result<(Verdict, String), String> {
        let started = Instant::now();
        self.progress(Stage::Review, Some(attempt));
        let plan_text = plan.to_markdown();
        let output = trim_output(&report.finished.output, OUTPUT_FOR_PROMPTS);
        let mut vars = self.vars(plan, &plan_text);
        vars.extend([
            ("code", code),
            ("tests", tests),
            ("output", output.as_str()),
        ]);
        let reply = self
            .ask(
                Tier::Overseer,
                "reviewing the failures",
                fill(prompts::REVIEW_SYSTEM, &vars),
                fill(prompts::FIX_USER, &vars),
                200,
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

    pub(super) async fn rewrite_tests(
        &self,
        plan: &Plan,
        tests: &str,
        report: &TestReport,
        why: &str,
        attempt: (u32, u32),
    ) -> Result<String, String> {
        let output = trim_output(&report.finished.output, OUTPUT_FOR_PROMPTS);
        let extra = [
            ("conventions", plan.language.test_conventions()),
            ("tests", tests),
            ("output", output.as_str()),
            ("verdict", why),
        ];
        let templates = (prompts::TESTS_SYSTEM, prompts::REWRITE_TESTS_USER);
        let target = (plan.test_file.as_str(), ArtifactKind::Tests);
        self.write(
            Stage::RewriteTests,
            Some(attempt),
            plan,
            &extra,
            templates,
            target,
            "rewriting the tests",
        )
        .await
    }

    /// Makes an attempt's code and tests the workflow's final files.
    pub(super) fn keep(&self, plan: &Plan, attempt: &Attempt) -> Result<(), String> {
        self.write_file(&plan.code_file, &attempt.code)?;
        self.write_file(&plan.test_file, &attempt.tests)?;
        self.artifact(ArtifactKind::Code, &attempt.code, Some(plan.language));
        self.artifact(ArtifactKind::Tests, &attempt.tests, Some(plan.language));
        Ok(())
    }

    pub(super) fn result(&self, plan: &Plan, attempt: Option<&Attempt>) -> WorkflowResult {
        let record = self.record.lock();
        WorkflowResult {
            dir: self.dir.clone(),
            files: record.files.clone(),
            main_file: Some(plan.code_file.clone()),
            language: Some(plan.language),
            attempts: attempt.map_or(0, |a| a.number),
            tests_passed: attempt.map_or(0, |a| a.report.passed),
            tests_failed: attempt.map_or(0, |a| a.report.failed),
        }
    }
}
