//! Running candidates against suites and probes, scoring them, and keeping the winner.

use super::pool::{Pool, load_error};
use super::select::{self, Board, Standing};
use super::{MAX_PROBES, MAX_REASKS, Stage, StageContext};
use crate::event::ArtifactKind;
use crate::extract;
use crate::language::Probe;
use crate::pipeline::plan::Plan;
use crate::sandbox::runner::{self, TestReport};
use crate::workflow::folder;
use crate::workflow::record::{CandidateRecord, SuiteRecord};
use crate::workflow::{Failure, WorkflowResult};
use futures_util::StreamExt as _;
use std::time::Instant;

impl StageContext<'_> {
    /// Runs every active candidate not probed yet on the task's inputs. The first time, those
    /// are gathered: the calls of the code's functions with literal arguments in the suites and
    /// in every reply (usage examples, asserts, prints), then, when they are few, plain values
    /// for each parameter, of the types those calls pass (see `extract::fit_probes`). When the
    /// replies called it with arguments of the wrong type, every call is one most candidates
    /// reject (`multiply_list(10)`: a TypeError in seven of eight, and with nothing to compare,
    /// the right one was not chosen): they are probed again with plain values of every type.
    pub(super) async fn probe(
        &self,
        plan: &Plan,
        wanted: &[String],
        pool: &Pool,
        board: &mut Board,
    ) -> Result<(), Failure> {
        let first = board.probes.is_empty();
        self.gather_probes(plan, wanted, pool, board);
        self.probe_pending(plan, pool, board).await?;
        let active = pool.active_candidates();
        let fits = board.fitting_probes(&active);
        if !first || fits.is_empty() || fits.iter().any(|f| *f) {
            return Ok(());
        }
        let signature = plan.functions.first().map(String::as_str).unwrap_or("");
        let wider: Vec<String> = extract::plain_probes(plan.language, signature)
            .into_iter()
            .filter(|p| !board.probes.contains(p))
            .collect();
        if wider.is_empty() {
            return Ok(());
        }
        board.probes = wider.into_iter().take(MAX_PROBES).collect();
        board.behaviour.clear();
        self.log.line(&format!(
            "most candidates reject every one of those calls: probing again with {} plain ones ({}…)",
            board.probes.len(),
            board.probes[0].chars().take(40).collect::<String>()
        ));
        self.probe_pending(plan, pool, board).await
    }

    /// The first time, the calls to probe with (see `probe`).
    fn gather_probes(&self, plan: &Plan, wanted: &[String], pool: &Pool, board: &mut Board) {
        if board.probes.is_empty() {
            let public = pool.public_names(wanted);
            let texts = pool
                .active_suites()
                .into_iter()
                .map(|s| pool.suites[s].suite.text.as_str())
                .chain(pool.replies.iter().map(String::as_str));
            let mut calls: Vec<String> = Vec::new();
            for text in texts {
                for call in extract::probes(plan.language, text, &public) {
                    if !calls.contains(&call) {
                        calls.push(call);
                    }
                }
            }
            let signature = plan.functions.first().map(String::as_str).unwrap_or("");
            let plain = extract::plain_probes(plan.language, signature);
            // Typed plain values (Rust's) are of the signature's types already: all of them fit.
            let fitted = if matches!(plan.language.rules().probe, Probe::Typed(_)) {
                let calls = extract::fit_probes(signature, calls, Vec::new());
                calls.into_iter().chain(plain).collect()
            } else {
                extract::fit_probes(signature, calls, plain)
            };
            for call in fitted {
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
    }

    /// Probes every active candidate that has no behaviour yet.
    async fn probe_pending(
        &self,
        plan: &Plan,
        pool: &Pool,
        board: &mut Board,
    ) -> Result<(), Failure> {
        if board.probes.is_empty() {
            return Ok(());
        }
        let todo: Vec<usize> = pool
            .active_candidates()
            .into_iter()
            .filter(|c| !board.behaviour.contains_key(c))
            .collect();
        let settings = &self.host.config().pipeline;
        let probes = &board.probes;
        let results = futures_util::stream::iter(todo.into_iter().map(|c| {
            let code = pool.candidates[c].code.text.clone();
            async move {
                let values = runner::probe(
                    plan.language,
                    &code,
                    probes,
                    self.tools(),
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
        for (c, probed) in results {
            let probed = probed.map_err(|e| Failure::Sandbox(format!("probing the code: {e}")))?;
            if board.behaviour.is_empty() && !probed.protections.is_empty() {
                self.log.line(&probed.protections);
            }
            match probed.values {
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
        pool: &mut Pool,
        board: &mut Board,
        pairs: Vec<(usize, usize)>,
        attempt: (u32, u32),
    ) -> Result<(), Failure> {
        self.leave_out_failing_imports(plan, pool).await?;
        self.check_project(pool, board).await?;
        if pairs.is_empty() {
            return Ok(());
        }
        let pool = &*pool;
        let started = Instant::now();
        self.progress(Stage::Run, Some(attempt));
        let settings = &self.host.config().pipeline;
        let tools = self.tools();
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
            let report = report.map_err(|e| Failure::Sandbox(format!("running the tests: {e}")))?;
            if (c, s) == first && !report.finished.protections.is_empty() {
                self.log.line(&report.finished.protections);
            }
            let summary = format!(
                "candidate {} × suite {}: {}",
                c + 1,
                s + 1,
                describe_run(&report, &settings.limits)
            );
            self.log.line(&summary);
            self.write_file(
                &folder::run_file(c + 1, s + 1),
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
    ) -> Result<(), Failure> {
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
            let trusted = board.trusted.contains(&s);
            self.log.line(&format!(
                "{} {why}; {}",
                pool.suites[s].origin,
                if trusted {
                    "they are left out"
                } else {
                    "it is rewritten"
                }
            ));
            pool.suites[s].active = false;
            pool.suites[s].problem = Some(why.clone());
            // The task's examples are the user's: set aside when they cannot load (an example
            // the language cannot state), never rewritten by a model.
            if tries > MAX_REASKS || trusted {
                continue;
            }
            let report = board.runs.get(&(0, s)).cloned();
            let new = self
                .ask_rewrite(plan, pool, s, report.as_ref(), &why, attempt)
                .await?;
            self.catch_up(plan, pool, board, attempt).await?;
            if let Some(new) = new.filter(|n| !board.usable(*n)) {
                queue.push((new, tries + 1));
            }
        }
        Ok(())
    }

    /// Runs the pairs not run yet and probes the candidates not probed yet, so that what a
    /// rewrite brought — a suite, or an implementation found in its reply — is judged as the
    /// first ones were: a new suite by every candidate, a new candidate against every suite and
    /// with the same calls. (A candidate that ran one suite only counted every other suite's
    /// tests as failed, and one never probed agreed with no one.)
    pub(super) async fn catch_up(
        &self,
        plan: &Plan,
        pool: &mut Pool,
        board: &mut Board,
        attempt: (u32, u32),
    ) -> Result<(), Failure> {
        let pairs = pool.unrun(board);
        self.evaluate(plan, pool, board, pairs, attempt).await?;
        self.probe_pending(plan, pool, board).await
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
            "candidate                                    examples  score  passed  failed  agree  values\n",
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
                "{mark} {:<42} {:>8}  {:>5}  {:>6}  {:>6}  {:>5}  {:>6}\n",
                format!("{}. {}", i + 1, c.origin)
                    .chars()
                    .take(42)
                    .collect::<String>(),
                st.examples,
                st.score,
                st.passed,
                st.failed,
                st.agreement,
                st.returned
            ));
            if !board.project_runs.is_empty() {
                table.truncate(table.trim_end().len());
                table.push_str(&format!("  breaks {}\n", st.breaks));
            }
            records.push(CandidateRecord {
                origin: c.origin.clone(),
                file: folder::candidate(i + 1),
                examples: st.examples,
                score: st.score,
                passed: st.passed,
                failed: st.failed,
                agreeing: st.agreeing,
                agreement: st.agreement,
                returned: st.returned,
                breaks: st.breaks,
                chosen: i == best,
                kept: c.active,
            });
        }
        for line in table.lines() {
            self.log.line(line);
        }
        let output = run_output(pool, board, best, &table);
        if let Err(e) = self.write_file(folder::OUTPUT, &output) {
            self.log.line(&e.to_string());
        }
        self.artifact(ArtifactKind::TestOutput, &output, None);
        let mut record = self.record.lock();
        record.candidates = records;
        record.suites = suite_records(pool, board);
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
    ) -> Result<(), Failure> {
        let Some(candidate) = pool.candidates.get(best) else {
            return Ok(());
        };
        self.write_file(&plan.code_file, &candidate.code.text)?;
        self.artifact(
            ArtifactKind::Code,
            &candidate.code.text,
            Some(plan.language),
        );
        let place = self
            .placed
            .get()
            .map_or(plan.code_file.as_str(), |p| p.layout.code_path.as_str());
        self.log.line(&format!(
            "keeping {} ({}) as {place}",
            best + 1,
            candidate.origin,
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

/// What each suite is, for `result.json`: the ones read (their tests, whether usable, their
/// problem) and the ones refused.
fn suite_records(pool: &Pool, board: &Board) -> Vec<SuiteRecord> {
    let read = pool.suites.iter().enumerate().map(|(j, s)| SuiteRecord {
        origin: s.origin.clone(),
        file: folder::suite(j + 1),
        tests: board.tests_of(j).len() as u32,
        usable: s.active && board.usable(j),
        problem: s.problem.clone(),
    });
    let refused = pool.refused_suites.iter().map(|why| SuiteRecord {
        origin: why.split(':').next().unwrap_or("").to_owned(),
        file: String::new(),
        tests: 0,
        usable: false,
        problem: Some(
            why.split_once(": ")
                .map_or(why.as_str(), |x| x.1)
                .to_owned(),
        ),
    });
    read.chain(refused).collect()
}

/// The standings table, then the chosen candidate's output under each usable suite and the
/// project's tests.
fn run_output(pool: &Pool, board: &Board, best: usize, table: &str) -> String {
    let mut output = table.to_owned();
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
    if let Some(r) = board.project_runs.get(&best) {
        output.push_str(&format!(
            "\n── the project's tests ({}) ──\n{}",
            r.runner, r.finished.output
        ));
    }
    output
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
