//! A workflow's body once it has a run slot: the overseer plans, the fast tier writes the code
//! and, separately from the code, the tests; the tests run in the sandbox; failures go back for
//! fixes (from the second failure on the overseer first judges whether the code or the tests are
//! wrong). Each stage sets the progress message the table shows.

use crate::codeblock;
use crate::config::{PipelineConfig, Tier};
use crate::engine::Inner;
use crate::event::{ArtifactKind, Event};
use crate::language::Language;
use crate::plan::Plan;
use crate::prompts::{self, fill};
use crate::provider::{ChatRequest, Message};
use crate::record::SharedRecord;
use crate::runner::{self, TestReport};
use crate::sanitize;
use crate::workflow::{WorkflowId, WorkflowResult};
use crate::worklog::WorkLog;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

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
    pub inner: &'a Arc<Inner>,
    pub id: &'a WorkflowId,
    pub description: &'a str,
    pub dir: PathBuf,
    pub log: &'a WorkLog,
    pub record: &'a SharedRecord,
    pub cancel: &'a CancellationToken,
}

/// One test run and what it ran.
struct Attempt {
    number: u32,
    code: String,
    tests: String,
    report: TestReport,
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

/// Runs every stage; on success the result names the folder and the files written.
pub async fn run(cx: &StageContext<'_>) -> Result<WorkflowResult, String> {
    let settings = &cx.inner.config.pipeline;
    let plan = cx.plan(settings).await?;
    cx.record.lock().language = Some(plan.language);
    let mut code = cx.write_code(&plan).await?;
    if !settings.run_tests {
        cx.log.line("tests are switched off (run_tests = false)");
        return Ok(cx.result(&plan, None));
    }
    let mut tests = cx.write_tests(&plan).await?;
    let max = settings.max_attempts;
    let mut best: Option<Attempt> = None;
    let mut last: Option<TestReport> = None;
    for number in 1..=max {
        if let Some(report) = &last {
            let verdict = if number >= 3 {
                cx.review(&plan, &code, &tests, report, (number, max))
                    .await?
            } else {
                (Verdict::Code, String::new())
            };
            match verdict {
                (Verdict::Code, _) => {
                    code = cx
                        .fix_code(&plan, &code, &tests, report, (number, max))
                        .await?
                }
                (Verdict::Tests, why) => {
                    tests = cx
                        .rewrite_tests(&plan, &tests, report, &why, (number, max))
                        .await?
                }
            }
        }
        let report = cx.run_tests(&plan, &code, &tests, (number, max)).await?;
        let attempt = Attempt {
            number,
            code: code.clone(),
            tests: tests.clone(),
            report: report.clone(),
        };
        if report.all_passed() {
            cx.keep(&plan, &attempt)?;
            return Ok(cx.result(&plan, Some(&attempt)));
        }
        // Ties go to the later attempt: it has had more fixing.
        if best
            .as_ref()
            .is_none_or(|b| report.passed >= b.report.passed)
        {
            best = Some(attempt);
        }
        last = Some(report);
    }
    let best = best.ok_or("no test run was made")?;
    cx.keep(&plan, &best)?;
    cx.log.line(&format!(
        "keeping attempt {} (the best: {} passed)",
        best.number, best.report.passed
    ));
    let attempts = if max == 1 {
        "1 attempt".to_owned()
    } else {
        format!("{max} attempts")
    };
    Err(format!(
        "tests failed after {attempts}: {}",
        best.report.describe(&settings.limits)
    ))
}

impl StageContext<'_> {
    fn progress(&self, stage: Stage, attempt: Option<(u32, u32)>) {
        let progress = stage.progress(attempt);
        self.log
            .line(&format!("── {} ──", progress.trim_end_matches('.')));
        // The receiver is gone only when flotilla is shutting down.
        let _ = self.inner.events.send(Event::Progress {
            id: self.id.clone(),
            progress,
        });
    }

    fn artifact(&self, kind: ArtifactKind, text: &str, language: Option<Language>) {
        let _ = self.inner.events.send(Event::Artifact {
            id: self.id.clone(),
            kind,
            text: sanitize::strip(text),
            language,
        });
    }

    fn write_file(&self, name: &str, contents: &str) -> Result<(), String> {
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
    async fn ask(
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

    async fn plan(&self, settings: &PipelineConfig) -> Result<Plan, String> {
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
    fn save_block(
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

    async fn write_code(&self, plan: &Plan) -> Result<String, String> {
        let started = Instant::now();
        self.progress(Stage::Code, None);
        let plan_text = plan.to_markdown();
        let mut vars = self.vars(plan, &plan_text);
        vars.push(("conventions", plan.language.code_conventions()));
        let reply = self
            .ask(
                Tier::Fast,
                "code generation",
                fill(prompts::CODE_SYSTEM, &vars),
                fill(prompts::CODE_USER, &vars),
                2048,
            )
            .await?;
        let code = self.save_block(
            plan,
            &reply,
            &plan.code_file,
            ArtifactKind::Code,
            "fast model",
        )?;
        self.record
            .add_seconds(Stage::Code.key(), started.elapsed().as_secs_f64());
        Ok(code)
    }

    async fn write_tests(&self, plan: &Plan) -> Result<String, String> {
        let started = Instant::now();
        self.progress(Stage::Tests, None);
        let plan_text = plan.to_markdown();
        let mut vars = self.vars(plan, &plan_text);
        vars.push(("conventions", plan.language.test_conventions()));
        let reply = self
            .ask(
                Tier::Fast,
                "test generation",
                fill(prompts::TESTS_SYSTEM, &vars),
                fill(prompts::TESTS_USER, &vars),
                2048,
            )
            .await?;
        let tests = self.save_block(
            plan,
            &reply,
            &plan.test_file,
            ArtifactKind::Tests,
            "fast model",
        )?;
        self.record
            .add_seconds(Stage::Tests.key(), started.elapsed().as_secs_f64());
        Ok(tests)
    }

    async fn run_tests(
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

    async fn fix_code(
        &self,
        plan: &Plan,
        code: &str,
        tests: &str,
        report: &TestReport,
        attempt: (u32, u32),
    ) -> Result<String, String> {
        let started = Instant::now();
        self.progress(Stage::Fix, Some(attempt));
        let plan_text = plan.to_markdown();
        let output = trim_output(&report.finished.output, OUTPUT_FOR_PROMPTS);
        let mut vars = self.vars(plan, &plan_text);
        vars.extend([
            ("conventions", plan.language.code_conventions()),
            ("code", code),
            ("tests", tests),
            ("output", &output),
        ]);
        let reply = self
            .ask(
                Tier::Fast,
                "fixing the code",
                fill(prompts::FIX_SYSTEM, &vars),
                fill(prompts::FIX_USER, &vars),
                2048,
            )
            .await?;
        let fixed = self.save_block(
            plan,
            &reply,
            &plan.code_file,
            ArtifactKind::Code,
            "fast model",
        )?;
        self.record
            .add_seconds(Stage::Fix.key(), started.elapsed().as_secs_f64());
        Ok(fixed)
    }

    async fn review(
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

    async fn rewrite_tests(
        &self,
        plan: &Plan,
        tests: &str,
        report: &TestReport,
        why: &str,
        attempt: (u32, u32),
    ) -> Result<String, String> {
        let started = Instant::now();
        self.progress(Stage::RewriteTests, Some(attempt));
        let plan_text = plan.to_markdown();
        let output = trim_output(&report.finished.output, OUTPUT_FOR_PROMPTS);
        let mut vars = self.vars(plan, &plan_text);
        vars.extend([
            ("conventions", plan.language.test_conventions()),
            ("tests", tests),
            ("output", output.as_str()),
            ("verdict", why),
        ]);
        let reply = self
            .ask(
                Tier::Fast,
                "rewriting the tests",
                fill(prompts::TESTS_SYSTEM, &vars),
                fill(prompts::REWRITE_TESTS_USER, &vars),
                2048,
            )
            .await?;
        let new_tests = self.save_block(
            plan,
            &reply,
            &plan.test_file,
            ArtifactKind::Tests,
            "fast model",
        )?;
        self.record
            .add_seconds(Stage::RewriteTests.key(), started.elapsed().as_secs_f64());
        Ok(new_tests)
    }

    /// Makes an attempt's code and tests the workflow's final files.
    fn keep(&self, plan: &Plan, attempt: &Attempt) -> Result<(), String> {
        self.write_file(&plan.code_file, &attempt.code)?;
        self.write_file(&plan.test_file, &attempt.tests)?;
        self.artifact(ArtifactKind::Code, &attempt.code, Some(plan.language));
        self.artifact(ArtifactKind::Tests, &attempt.tests, Some(plan.language));
        Ok(())
    }

    fn result(&self, plan: &Plan, attempt: Option<&Attempt>) -> WorkflowResult {
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
