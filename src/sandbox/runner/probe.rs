//! Running a candidate on calls instead of tests: the behaviour probes (the values it returns
//! for given calls) and the check of its imports.

use super::{Toolchain, cargo_job, place_code, scratch, tests_for_run, toolchain_job, write};
use crate::language::{Language, Probe};
use crate::sandbox::{self, Limits};
use tokio_util::sync::CancellationToken;

/// The behaviour probes: the values a candidate returns for given calls.
const RUST_PROBE: &str = include_str!("../../../assets/rust_probe.rs");

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probed {
    /// What `code` returned for each call (a repr, or `!Exception`; Rust's `{:?}`, `!panic`,
    /// `!Timeout`); `None` when the run gave no answer (a timeout, a crash).
    pub values: Option<Vec<String>>,
    /// The sandbox's protections line for the run (empty when nothing ran).
    pub protections: String,
}

impl Probed {
    fn nothing() -> Self {
        Self {
            values: None,
            protections: String::new(),
        }
    }
}

/// Runs `code` on each call in `exprs` in the sandbox.
pub async fn probe(
    language: Language,
    code: &str,
    exprs: &[String],
    tools: &Toolchain,
    limits: &Limits,
    cancel: &CancellationToken,
) -> std::io::Result<Probed> {
    if exprs.is_empty() {
        return Ok(Probed::nothing());
    }
    // A language without a probe script (Rust) is probed by a scratch test of its own.
    let Probe::Script(script, text) = language.rules().probe else {
        return probe_compiled(language, code, exprs, tools, limits, cancel).await;
    };
    let scratch = scratch(tools, "probe-")?;
    let dir = scratch.path();
    place_code(tools, language, dir, code)?;
    write(dir, script, text)?;
    let list = serde_json::to_string(exprs).map_err(std::io::Error::other)?;
    write(dir, "_flotilla_probe.json", &list)?;
    let mut limits = *limits;
    limits.timeout = limits.timeout.min(std::time::Duration::from_secs(30));
    let job = toolchain_job(tools, language.rules().tool, dir, &[script]);
    let finished = sandbox::run(&job, &limits, cancel, &mut |_| {}).await?;
    let values = probe_values(&finished.output).filter(|v| v.len() == exprs.len());
    Ok(Probed {
        values,
        protections: finished.protections,
    })
}

/// The top-level imports of `code` that fail in the sandbox (Python's `import numpy`, `from
/// itertools import intersperse`) and bind no name the code reads but a builtin's (see
/// `assets/python_imports.py`), by its language's check: 1-based, inclusive line ranges. Such a
/// line stops the code from loading at all, and without it nothing else changes. A language
/// without a check: none.
pub async fn failing_imports(
    language: Language,
    code: &str,
    tools: &Toolchain,
    limits: &Limits,
    cancel: &CancellationToken,
) -> std::io::Result<Vec<(usize, usize)>> {
    let Some(check) = language.rules().imports_check else {
        return Ok(Vec::new());
    };
    let scratch = scratch(tools, "imports-")?;
    let dir = scratch.path();
    write(dir, language.code_file(), code)?;
    let (script, text) = check.script;
    write(dir, script, text)?;
    let mut limits = *limits;
    limits.timeout = limits.timeout.min(std::time::Duration::from_secs(30));
    let job = toolchain_job(tools, language.rules().tool, dir, &[script]);
    let finished = sandbox::run(&job, &limits, cancel, &mut |_| {}).await?;
    Ok(import_lines(&finished.output))
}

/// The ranges after the import check's marker: `FLOTILLA_IMPORTS [[1, 1], [3, 4]]`.
fn import_lines(output: &str) -> Vec<(usize, usize)> {
    marked::<Vec<(usize, usize)>>(output, "FLOTILLA_IMPORTS ")
        .unwrap_or_default()
        .into_iter()
        .filter(|(start, end)| *start >= 1 && start <= end)
        .collect()
}

/// The file of the Rust probe, an integration test of the candidate's crate.
const RUST_PROBE_FILE: &str = "tests/_flotilla_probe.rs";
/// What every probe records for a call whose arguments the code rejects by type: Python's and
/// JavaScript's exception, and a Rust call that does not compile.
pub const TYPE_ERROR: &str = "!TypeError";

/// The typed probe (Rust's, run by cargo): the calls are compiled into one test
/// (`assets/rust_probe.rs`). A call the compiler rejects is answered `!TypeError` and the test
/// built again without it (at most twice more); code that does not compile answers
/// `!CompileError` for every call.
async fn probe_compiled(
    language: Language,
    code: &str,
    exprs: &[String],
    tools: &Toolchain,
    limits: &Limits,
    cancel: &CancellationToken,
) -> std::io::Result<Probed> {
    let scratch = scratch(tools, "probe-")?;
    let dir = scratch.path();
    place_code(tools, language, dir, code)?;
    let code_file = tools
        .project
        .as_ref()
        .map_or(language.code_file(), |p| p.layout.code_path.as_str());
    let job = cargo_job(
        tools,
        dir,
        &[
            "test",
            "--offline",
            "--color",
            "never",
            "--message-format",
            "short",
            "--test",
            "_flotilla_probe",
            "--",
            "--nocapture",
        ],
    )?;
    let mut rejected = vec![false; exprs.len()];
    let mut protections = String::new();
    for _build in 0..3 {
        let (test, first_line) = rust_probe_test(exprs, &rejected);
        write(dir, RUST_PROBE_FILE, &tests_for_run(tools, &test))?;
        let finished = sandbox::run(&job, limits, cancel, &mut |_| {}).await?;
        protections = finished.protections.clone();
        if let Some(values) = probe_values(&finished.output).filter(|v| v.len() == exprs.len()) {
            return Ok(Probed {
                values: Some(values),
                protections,
            });
        }
        let errors = compile_errors(&finished.output);
        if errors.iter().any(|(file, _)| file == code_file) {
            return Ok(Probed {
                values: Some(vec!["!CompileError".to_owned(); exprs.len()]),
                protections,
            });
        }
        let mut more = false;
        for (file, line) in errors {
            let Some(i) = line.checked_sub(first_line) else {
                continue;
            };
            if file == RUST_PROBE_FILE && i < exprs.len() && !rejected[i] {
                rejected[i] = true;
                more = true;
            }
        }
        if !more {
            break;
        }
    }
    Ok(Probed {
        values: None,
        protections,
    })
}

/// The probe test with one line per call from `first_line` on (1-based), the rejected ones
/// answered `!TypeError` without being compiled.
fn rust_probe_test(exprs: &[String], rejected: &[bool]) -> (String, usize) {
    let marker = "    // FLOTILLA_PROBES\n";
    let (head, tail) = RUST_PROBE.split_once(marker).unwrap_or((RUST_PROBE, ""));
    let first_line = head.lines().count() + 1;
    let mut test = head.to_owned();
    for (expr, rejected) in exprs.iter().zip(rejected) {
        if *rejected {
            test.push_str(&format!("    out.push({TYPE_ERROR:?}.to_owned());\n"));
        } else {
            let expr = expr.replace(['\n', '\r'], " ");
            test.push_str(&format!("    out.push(flotilla_show(move || ({expr})));\n"));
        }
    }
    test.push_str(tail);
    (test, first_line)
}

/// The values a probe printed after its marker (the last such line).
fn probe_values(output: &str) -> Option<Vec<String>> {
    marked(output, "FLOTILLA_PROBE ")
}

/// The JSON a script printed after `marker`, on the last line that has it.
fn marked<T: serde::de::DeserializeOwned>(output: &str, marker: &str) -> Option<T> {
    output
        .lines()
        .rev()
        .find_map(|l| l.split_once(marker).map(|(_, json)| json))
        .and_then(|json| serde_json::from_str(json).ok())
}

/// Where `cargo --message-format short` reported errors: `src/lib.rs:3:5: error[E0308]: …`
/// → (`src/lib.rs`, 3).
fn compile_errors(output: &str) -> Vec<(String, usize)> {
    output
        .lines()
        .filter_map(|l| {
            let (place, _) = l.split_once(": error")?;
            let mut parts = place.rsplitn(3, ':');
            let _column = parts.next()?;
            let line = parts.next()?.parse().ok()?;
            let file = parts.next()?.trim().to_owned();
            Some((file, line))
        })
        .collect()
}
