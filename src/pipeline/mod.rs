//! A workflow's body once it has a run slot: the overseer plans, the fast tier writes the code
//! and, separately from the code, the tests; the tests run in the sandbox; failures go back for
//! fixes (from the second failure on the overseer first judges whether the code or the tests are
//! wrong). Each stage sets the progress message the table shows.

use crate::engine::Inner;
use crate::record::SharedRecord;
use crate::runner::TestReport;
use crate::workflow::{WorkflowId, WorkflowResult};
use crate::worklog::WorkLog;
use std::path::PathBuf;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

mod stages;

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
