//! The eval's report as a table: a line per task, then pass@1, time and tokens per mode.

use super::{ModeSummary, Report, TaskResult, Verdict, mark, ratio};
use std::io::Write;
use std::time::Duration;

pub(super) fn print_table(report: &Report, out: &mut dyn Write) {
    let _ = writeln!(out);
    for t in &report.tasks {
        print_task(t, out);
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<22} {:>8} {:>8} {:>10} {:>12} {:>10} {:>10}",
        "mode", "passed", "pass@1", "time", "tokens out", "completed", "precision"
    );
    // Completed precision: of the workflows called completed, the share that pass their
    // reference tests. One-shot has no notion of completing.
    let precision = if report.completed == 0 {
        "-".to_owned()
    } else {
        format!(
            "{:.0}%",
            ratio(report.completed_passing, report.completed) * 100.0
        )
    };
    print_mode("one-shot", &report.oneshot, None, out);
    print_mode("one-shot, parsed", &report.oneshot_parsed, None, out);
    print_mode(
        &format!("pipeline ({}×{})", report.candidates, report.test_suites),
        &report.pipeline,
        Some((report.completed, precision.as_str())),
        out,
    );
    if report.pipeline.is_some() {
        let _ = writeln!(
            out,
            "completed workflows: {}, of which {} pass their reference tests ({precision})",
            report.completed, report.completed_passing
        );
        let _ = writeln!(
            out,
            "workflows with a candidate that passes (a perfect choice): {}/{}",
            report.any_candidate,
            report.tasks.len()
        );
        if report.oneshot.is_some() {
            let _ = writeln!(
                out,
                "pipeline requests answered with the one-shot reply (the same greedy request): {}",
                report.greedy_reused
            );
        }
    }
    let _ = writeln!(out, "model: {}", report.model);
}

/// One task's line: each mode's verdict and the pipeline's note.
fn print_task(t: &TaskResult, out: &mut dyn Write) {
    let cell = |v: &Option<Verdict>| match v {
        Some(v) => mark(v.passed).to_owned(),
        None => "-".to_owned(),
    };
    let note = t
        .pipeline
        .as_ref()
        .map(|v| {
            crate::sanitize::strip(&v.note)
                .chars()
                .take(70)
                .collect::<String>()
        })
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{:<24} one-shot {:<4}  parsed {:<4}  pipeline {:<4}  {}",
        t.id,
        cell(&t.oneshot),
        cell(&t.oneshot_parsed),
        cell(&t.pipeline),
        note
    );
}

/// One mode's summary line, when it ran; `ends`: how many workflows completed and the
/// precision of that, for the pipeline.
fn print_mode(
    name: &str,
    summary: &Option<ModeSummary>,
    ends: Option<(usize, &str)>,
    out: &mut dyn Write,
) {
    let Some(s) = summary else {
        return;
    };
    let (completed, precision) = match ends {
        Some((n, p)) => (n.to_string(), p.to_owned()),
        None => ("-".to_owned(), "-".to_owned()),
    };
    let _ = writeln!(
        out,
        "{:<22} {:>8} {:>7.1}% {:>10} {:>12} {:>10} {:>10}",
        name,
        format!("{}/{}", s.passed, s.tasks),
        s.pass_at_1 * 100.0,
        crate::workflow::format_elapsed(Duration::from_secs_f64(s.seconds)),
        s.tokens_out,
        completed,
        precision
    );
}
