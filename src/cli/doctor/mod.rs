//! `doctor`: each tier's server and model, and the sandbox, checked and explained.

mod project;

use crate::config::Tier;
use crate::engine::Engine;
use crate::provider::{ChatRequest, Message, ProviderError, ProviderKind};
use serde::Serialize;
use std::io::Write;
use std::time::Duration;

/// How one check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Verdict {
    Ok,
    Warning,
    Failed,
}

impl Verdict {
    fn mark(self) -> &'static str {
        match self {
            Self::Ok => "✓",
            Self::Warning => "!",
            Self::Failed => "✗",
        }
    }
}

/// One thing `doctor` checked.
#[derive(Debug, Serialize)]
struct Check {
    /// `provider NAME`, `tier NAME` or `sandbox`.
    check: String,
    verdict: Verdict,
    message: String,
    /// What to do about it.
    advice: Option<String>,
}

/// The checks, printed as they are made (text) or all at the end (`--json`).
struct Report<'a> {
    out: &'a mut dyn Write,
    json: bool,
    checks: Vec<Check>,
}

impl Report<'_> {
    fn add(&mut self, check: String, verdict: Verdict, message: String, advice: Option<String>) {
        if !self.json {
            let _ = writeln!(self.out, "{} {check}: {message}", verdict.mark());
            if let Some(advice) = &advice {
                let _ = writeln!(self.out, "  → {advice}");
            }
            let _ = self.out.flush();
        }
        self.checks.push(Check {
            check,
            verdict,
            message,
            advice,
        });
    }

    fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.verdict != Verdict::Failed)
    }
}

/// Checks each tier's server and model, saying what is wrong; 0 when every tier answers.
/// `json` prints what was checked as one JSON object at the end instead.
pub async fn doctor(engine: &Engine, json: bool, out: &mut dyn Write) -> i32 {
    let config = engine.config();
    let home = engine.home();
    // Which source chose each tier's server: a line of the file, the environment, a default.
    let text = std::fs::read_to_string(&home.config_file).ok();
    let settings = crate::config::show::entries(
        config,
        text.as_deref().map(|t| (home.config_file.as_path(), t)),
    );
    let chosen_by = |tier: Tier| {
        settings
            .iter()
            .find(|e| e.table == format!("tiers.{}", tier.as_str()) && e.key == "provider")
            .map(|e| e.origin.to_string())
            .unwrap_or_default()
    };
    if !json {
        print_summary(engine, out, &chosen_by);
    }
    let mut report = Report {
        out,
        json,
        checks: Vec::new(),
    };
    let listed = check_servers(engine, &mut report).await;
    for tier in Tier::ALL {
        let tc = config.tier(tier);
        let (pool, _) = engine.tier(tier);
        let several = pool.servers().len() > 1;
        for each in pool.servers() {
            let name = if several {
                format!("tier {} on {}", tier.as_str(), each.label)
            } else {
                format!("tier {}", tier.as_str())
            };
            let members: Vec<String> = pool.servers().iter().map(|s| s.label.clone()).collect();
            check_tier_on(
                &each.provider,
                &each.label,
                name,
                tc,
                (&listed, &members),
                &mut report,
            )
            .await;
        }
    }
    check_sandbox(engine, &mut report).await;
    let project = project::check_project(engine, &mut report).await;
    let ok = report.ok();
    if json {
        let value = json_summary(engine, ok, &chosen_by, project, &report.checks);
        let text = serde_json::to_string_pretty(&value).unwrap_or_default();
        let _ = writeln!(report.out, "{text}");
    }
    if ok { 0 } else { 1 }
}

/// Where the configuration came from, and each tier's servers and model.
fn print_summary(engine: &Engine, out: &mut dyn Write, chosen_by: &dyn Fn(Tier) -> String) {
    let (config, home) = (engine.config(), engine.home());
    let _ = writeln!(out, "configuration: {}", config.source);
    let _ = writeln!(out, "servers:       {}", config.servers);
    for tier in Tier::ALL {
        let tc = config.tier(tier);
        let (pool, _) = engine.tier(tier);
        let servers = match pool.servers() {
            [_] => tc.provider.clone(),
            many => format!(
                "{} (a pool: {})",
                tc.pool.join(" + "),
                many.iter()
                    .map(|s| s.label.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let _ = writeln!(
            out,
            "  {:<9} → {servers} ({}), chosen by {}",
            tier.as_str(),
            tc.model,
            chosen_by(tier)
        );
    }
    let _ = writeln!(out, "workflows:     {}", home.workflows_dir.display());
    let _ = writeln!(out, "logs:          {}", home.logs_dir.display());
}

/// What each server listed (`None`: no answer), by its name, and whether it was only busy.
type Listed = std::collections::BTreeMap<String, (bool, Option<Vec<String>>)>;

/// Asks every server for its models; each one's check, and what it listed (`None`: no
/// answer), by its name, with whether it was only busy.
async fn check_servers(engine: &Engine, report: &mut Report<'_>) -> Listed {
    let home = engine.home();
    let mut results = Vec::new();
    for each in engine.servers() {
        results.push((each, each.provider.models(Duration::from_secs(5)).await));
    }
    let answered: Vec<&str> = results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(s, _)| s.label.as_str())
        .collect();
    let mut listed = std::collections::BTreeMap::new();
    for (each, result) in results {
        let provider = &each.provider;
        let check = if each.label == provider.name {
            format!("provider {}", provider.name)
        } else {
            format!("provider {} ({})", provider.name, each.label)
        };
        let server = provider.describe();
        // Down, but every pool it is in has another server that answers: its tiers work.
        let covered = pools_of(engine, &each.label).iter().all(|members| {
            members
                .iter()
                .any(|m| *m != each.label && answered.contains(&m.as_str()))
        });
        match &result {
            Ok(models) => report.add(
                check,
                Verdict::Ok,
                format!("{server} answers ({} models)", models.len()),
                None,
            ),
            Err(ProviderError::Timeout(_)) => report.add(
                check,
                Verdict::Warning,
                format!("{server} is busy (no model list within 5s); asking each tier instead"),
                None,
            ),
            Err(e) => report.add(
                check,
                if covered {
                    Verdict::Warning
                } else {
                    Verdict::Failed
                },
                if covered {
                    format!(
                        "{server} does not answer: {e}; the other servers of its pool serve its tiers"
                    )
                } else {
                    format!("{server} does not answer: {e}")
                },
                Some(format!(
                    "{} in {}",
                    provider.remedy(),
                    home.config_file.display()
                )),
            ),
        }
        let busy = matches!(result, Err(ProviderError::Timeout(_)));
        listed.insert(each.label.clone(), (busy, result.ok()));
    }
    listed
}

/// The members (by name) of every pool `label` is in; none when it is in no pool.
fn pools_of(engine: &Engine, label: &str) -> Vec<Vec<String>> {
    engine
        .pools()
        .into_iter()
        .map(|(_, pool)| {
            pool.servers()
                .iter()
                .map(|s| s.label.clone())
                .collect::<Vec<_>>()
        })
        .filter(|members| members.iter().any(|m| m == label))
        .collect()
}

/// `doctor --json`.
fn json_summary(
    engine: &Engine,
    ok: bool,
    chosen_by: &dyn Fn(Tier) -> String,
    project: serde_json::Value,
    checks: &[Check],
) -> serde_json::Value {
    let (config, home) = (engine.config(), engine.home());
    let tiers: serde_json::Map<String, serde_json::Value> = Tier::ALL
        .into_iter()
        .map(|t| {
            let tc = config.tier(t);
            (
                t.as_str().to_owned(),
                serde_json::json!({
                    "provider": tc.provider,
                    "model": tc.model,
                    "chosen_by": chosen_by(t),
                }),
            )
        })
        .collect();
    serde_json::json!({
        "ok": ok,
        "configuration": config.source.to_string(),
        "servers": config.servers.to_string(),
        "workflows": home.workflows_dir,
        "logs": home.logs_dir,
        "tiers": tiers,
        "project": project,
        "checks": checks,
    })
}

/// Checks one server of a tier: that it lists the tier's model, and that a short chat works.
async fn check_tier_on(
    provider: &crate::provider::Provider,
    label: &str,
    check: String,
    tc: &crate::config::TierConfig,
    (listed, pool): (&Listed, &[String]),
    report: &mut Report<'_>,
) {
    let Some((busy, models)) = listed.get(label) else {
        return;
    };
    let Some(models) = models else {
        if *busy {
            // A busy server: its model list is unknown, so only the chat can tell.
            check_chat(provider, check.clone(), label, tc, report).await;
        } else {
            let others = listed.iter().any(|(other, (_, models))| {
                other != label && pool.contains(other) && models.is_some()
            });
            report.add(
                check,
                if others {
                    Verdict::Warning
                } else {
                    Verdict::Failed
                },
                format!("model {} on {} — server unreachable", tc.model, label),
                None,
            );
        }
        return;
    };
    let known = models.iter().any(|m| provider.serves(m, &tc.model));
    if !known {
        match provider.settings.kind() {
                ProviderKind::Ollama => {
                    report.add(
                        check,
                        Verdict::Failed,
                        format!("model {} is not pulled on {}", tc.model, label),
                        Some(format!("run `ollama pull {}`", tc.model)),
                    );
                    return;
                }
                ProviderKind::Embedded => {}
                ProviderKind::Openai => report.add(
                    check.clone(),
                    Verdict::Warning,
                    format!(
                        "model {} is not in {}'s list ({}); single-model servers such as llama.cpp ignore the name",
                        tc.model,
                        label,
                        models.join(", ")
                    ),
                    None,
                ),
            }
    }
    check_chat(provider, check, label, tc, report).await;
}

/// Runs a trivial program in the sandbox and says which protections hold on this machine.
async fn check_sandbox(engine: &Engine, report: &mut Report<'_>) {
    let limits = engine.config().pipeline.limits;
    let check = "sandbox".to_owned();
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            return report.add(
                check,
                Verdict::Failed,
                format!("no scratch folder: {e}"),
                None,
            );
        }
    };
    let job = crate::sandbox::Job {
        program: "/bin/sh".into(),
        args: vec!["-c".into(), "exit 0".into()],
        dir: dir.path().to_owned(),
        ..Default::default()
    };
    let cancel = tokio_util::sync::CancellationToken::new();
    match crate::sandbox::run(&job, &limits, &cancel, &mut |_| {}).await {
        Ok(f) if f.success() => {
            let full = f.protections.contains("fs=ns+landlock") && f.protections.contains("pid=ns");
            let held = f
                .protections
                .strip_prefix("sandbox: ")
                .unwrap_or(&f.protections)
                .to_owned();
            if full {
                report.add(check, Verdict::Ok, held, None);
            } else {
                report.add(
                    check,
                    Verdict::Warning,
                    held,
                    Some("this machine allows no user namespaces: files are confined by Landlock alone, and what docs/sandbox.md lists as needing namespaces does not hold".into()),
                );
            }
        }
        Ok(f) => report.add(
            check,
            Verdict::Failed,
            format!("a trivial run failed: {}", f.describe(&limits)),
            None,
        ),
        Err(e) => report.add(check, Verdict::Failed, e.to_string(), None),
    }
}

/// Asks a tier for one word and says how it went.
async fn check_chat(
    provider: &crate::provider::Provider,
    check: String,
    name: &str,
    tc: &crate::config::TierConfig,
    report: &mut Report<'_>,
) {
    let request = ChatRequest {
        model: tc.model.clone(),
        messages: vec![Message::user("Reply with the single word OK.")],
        max_tokens: Some(4),
        temperature: Some(0.0),
        seed: None,
        stop: Vec::new(),
        urgent: false,
    };
    let model = &tc.model;
    let (verdict, message) =
        match tokio::time::timeout(CHAT_CHECK, provider.chat(&request, &mut |_| {})).await {
            Ok(Ok(reply)) => {
                let said = crate::sanitize::strip(reply.text.trim());
                (
                    Verdict::Ok,
                    format!("model {model} on {name} answers ({said:?})"),
                )
            }
            Ok(Err(e)) => (
                Verdict::Failed,
                format!("model {model} on {name} fails: {e}"),
            ),
            Err(_) => (
                Verdict::Failed,
                format!(
                    "model {model} on {name} did not answer within {}s",
                    CHAT_CHECK.as_secs()
                ),
            ),
        };
    report.add(check, verdict, message, None);
}

/// How long `doctor` waits for one tier's answer.
const CHAT_CHECK: Duration = Duration::from_secs(60);
