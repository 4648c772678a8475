//! One view of a workflow's fields, in one order, for every place that lists them: the
//! dashboard's details pop-up and `flotilla show`.

use super::{Workflow, format_ago, format_elapsed};
use std::path::Path;
use std::time::SystemTime;

/// What a field is, so a screen can colour it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// The workflow's name and id.
    Name,
    Status,
    Error,
    Plain,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// `Status:`, `Task:`…
    pub label: &'static str,
    pub value: String,
    pub kind: FieldKind,
}

/// The fields of `wf`, whose folder is `folder`, as of `now`.
pub fn fields(wf: &Workflow, folder: &Path, now: SystemTime) -> Vec<Field> {
    let field = |label, value: String, kind| Field { label, value, kind };
    let mut out = vec![
        field(
            "Workflow:",
            format!("{} ({})", wf.label(), wf.id),
            FieldKind::Name,
        ),
        field("Status:", wf.status().to_string(), FieldKind::Status),
        field("Progress:", wf.progress.clone(), FieldKind::Plain),
        field(
            "Started:",
            format_ago(now.duration_since(wf.start_time).unwrap_or_default()),
            FieldKind::Plain,
        ),
        field("Time:", format_elapsed(wf.elapsed(now)), FieldKind::Plain),
        field("Task:", wf.description.clone(), FieldKind::Plain),
    ];
    if let Some(first) = &wf.retry_of {
        out.push(field("Retry of:", first.to_string(), FieldKind::Plain));
    }
    if let Some(error) = &wf.error() {
        out.push(field("Error:", error.clone(), FieldKind::Error));
    }
    out.push(field(
        "Folder:",
        folder.display().to_string(),
        FieldKind::Plain,
    ));
    if let Some(result) = &wf.result() {
        if let Some(language) = result.language {
            out.push(field("Language:", language.to_string(), FieldKind::Plain));
        }
        if result.attempts > 0 {
            out.push(field(
                "Tests:",
                format!(
                    "{} passed, {} failed (attempt {})",
                    result.tests_passed, result.tests_failed, result.attempts
                ),
                FieldKind::Plain,
            ));
        }
        if wf.change.is_none() {
            out.push(field("Files:", result.files.join(", "), FieldKind::Plain));
        }
    }
    if let Some(change) = &wf.change {
        out.push(field(
            "Repository:",
            change.project.display().to_string(),
            FieldKind::Plain,
        ));
        let base = change.base.get(..10).unwrap_or(&change.base);
        out.push(field(
            "Branch:",
            format!("{} (from {base}, {})", change.branch, change.state_word()),
            FieldKind::Plain,
        ));
        if change.commit.is_some() {
            out.push(field(
                "Changes:",
                format!("{}: {}", change.stat(), change.files.join(", ")),
                FieldKind::Plain,
            ));
        }
        if let Some(crate::workflow::change::Landed::Applied { commit, onto }) = &change.landed {
            let short = commit.get(..10).unwrap_or(commit);
            out.push(field(
                "Applied:",
                format!("as {short} on {onto}"),
                FieldKind::Plain,
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::{Failure, State, WorkflowId, WorkflowResult};
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn the_fields_follow_what_the_workflow_has() {
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut wf = Workflow::new(WorkflowId::new(3, t), "sum a list".into(), t);
        wf.state = State::Failed(Failure::Cancelled { at_exit: false });
        let labels = |wf: &Workflow| -> Vec<&'static str> {
            fields(wf, Path::new("/h/wf_3"), t + Duration::from_secs(5))
                .iter()
                .map(|f| f.label)
                .collect()
        };
        assert_eq!(
            labels(&wf),
            [
                "Workflow:",
                "Status:",
                "Progress:",
                "Started:",
                "Time:",
                "Task:",
                "Error:",
                "Folder:"
            ]
        );
        wf.name = Some("sum-list".into());
        wf.state = State::Completed(WorkflowResult {
            dir: "/h/wf_3".into(),
            files: vec!["solution.py".into()],
            main_file: Some("solution.py".into()),
            language: Some(crate::language::Language::Python),
            attempts: 1,
            tests_passed: 3,
            tests_failed: 0,
        });
        let all = fields(&wf, Path::new("/h/wf_3"), t);
        assert_eq!(all[0].value, "sum-list (wf_3_1700000000)");
        let tests = all
            .iter()
            .find(|f| f.label == "Tests:")
            .map(|f| f.value.as_str());
        assert_eq!(tests, Some("3 passed, 0 failed (attempt 1)"));
        assert_eq!(all.last().map(|f| f.label), Some("Files:"));
    }
}
