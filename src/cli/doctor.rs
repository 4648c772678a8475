//! `doctor`: each tier's server and model, and the sandbox, checked and explained.

use crate::config::Tier;
use crate::engine::Engine;
use crate::provider::{ChatRequest, Message, ProviderError, ProviderKind};
use std::io::Write;
use std::time::Duration;

/// Checks each tier's server and model, saying what is wrong; 0 when every tier answers.
pub async fn doctor(engine: &Engine, out: &mut dyn Write) -> i32 {
    let config = engine.config();
    let _ = writeln!(out, "configuration: {}", config.source);
    let _ = writeln!(
        out,
        "workflows:     {}",
        engine.home().workflows_dir.display()
    );
    let _ = writeln!(out, "logs:          {}", engine.home().logs_dir.display());
    let mut ok = true;
    let mut listed = std::collections::BTreeMap::new();
    for provider in engine.providers() {
        let result = provider.models(Duration::from_secs(5)).await;
        match &result {
            Ok(models) => {
                let _ = writeln!(
                    out,
                    "✓ provider {}: {} answers ({} models)",
                    provider.name,
                    provider.describe(),
                    models.len()
                );
            }
            Err(ProviderError::Timeout(_)) => {
                let _ = writeln!(
                    out,
                    "! provider {}: {} is busy (no model list within 5s); asking each tier instead",
                    provider.name,
                    provider.describe(),
                );
            }
            Err(e) => {
                ok = false;
                let advice = provider.remedy();
                let _ = writeln!(
                    out,
                    "✗ provider {}: {} does not answer: {e}\n  → {advice} in {}",
                    provider.name,
                    provider.describe(),
                    engine.home().config_file.display()
                );
            }
        }
        let busy = matches!(result, Err(ProviderError::Timeout(_)));
        listed.insert(provider.name.clone(), (busy, result.ok()));
    }
    for tier in Tier::ALL {
        let tc = config.tier(tier);
        let Some(provider) = engine.providers().find(|p| p.name == tc.provider) else {
            continue;
        };
        let Some((busy, models)) = listed.get(&tc.provider) else {
            continue;
        };
        let Some(models) = models else {
            if !busy {
                let _ = writeln!(
                    out,
                    "✗ tier {}: model {} on {} — server unreachable",
                    tier.as_str(),
                    tc.model,
                    tc.provider
                );
                continue;
            }
            // A busy server: its model list is unknown, so only the chat below can tell.
            if !check_chat(provider, tier, tc, out).await {
                ok = false;
            }
            continue;
        };
        let known = models
            .iter()
            .any(|m| m == &tc.model || m.strip_suffix(":latest") == Some(&tc.model));
        if !known {
            match provider.settings.kind {
                ProviderKind::Ollama => {
                    let _ = writeln!(
                        out,
                        "✗ tier {}: model {} is not pulled on {} → run `ollama pull {}`",
                        tier.as_str(),
                        tc.model,
                        tc.provider,
                        tc.model
                    );
                    ok = false;
                    continue;
                }
                // An embedded server has one model and answers to any name.
                ProviderKind::Embedded => {}
                ProviderKind::Openai => {
                    let _ = writeln!(
                        out,
                        "! tier {}: model {} is not in {}'s list ({}); single-model servers such as llama.cpp ignore the name",
                        tier.as_str(),
                        tc.model,
                        tc.provider,
                        models.join(", ")
                    );
                }
            }
        }
        if !check_chat(provider, tier, tc, out).await {
            ok = false;
        }
    }
    if !check_sandbox(engine, out).await {
        ok = false;
    }
    if ok { 0 } else { 1 }
}

/// Runs a trivial program in the sandbox and says which protections hold on this machine.
async fn check_sandbox(engine: &Engine, out: &mut dyn Write) -> bool {
    let limits = engine.config().pipeline.limits;
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            let _ = writeln!(out, "✗ sandbox: no scratch folder: {e}");
            return false;
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
            let mark = if full { "✓" } else { "!" };
            let _ = writeln!(out, "{mark} {}", f.protections);
            if !full {
                let _ = writeln!(
                    out,
                    "  → this machine allows no user namespaces: files are confined by Landlock alone, and what the README's sandbox section lists as needing namespaces does not hold"
                );
            }
            true
        }
        Ok(f) => {
            let _ = writeln!(
                out,
                "✗ sandbox: a trivial run failed: {}",
                f.describe(&limits)
            );
            false
        }
        Err(e) => {
            let _ = writeln!(out, "✗ {e}");
            false
        }
    }
}

/// Asks a tier for one word; says how it went. True when it answered.
async fn check_chat(
    provider: &crate::provider::Provider,
    tier: Tier,
    tc: &crate::config::TierConfig,
    out: &mut dyn Write,
) -> bool {
    let request = ChatRequest {
        model: tc.model.clone(),
        messages: vec![Message::user("Reply with the single word OK.")],
        max_tokens: Some(4),
        temperature: Some(0.0),
        seed: None,
        stop: Vec::new(),
        urgent: false,
    };
    let (tier, model, name) = (tier.as_str(), &tc.model, &tc.provider);
    let (ok, line) =
        match tokio::time::timeout(CHAT_CHECK, provider.chat(&request, &mut |_| {})).await {
            Ok(Ok(reply)) => {
                let said = crate::sanitize::strip(reply.text.trim());
                (
                    true,
                    format!("✓ tier {tier}: model {model} on {name} answers ({said:?})"),
                )
            }
            Ok(Err(e)) => (
                false,
                format!("✗ tier {tier}: model {model} on {name} fails: {e}"),
            ),
            Err(_) => (
                false,
                format!(
                    "✗ tier {tier}: model {model} on {name} did not answer within {}s",
                    CHAT_CHECK.as_secs()
                ),
            ),
        };
    let _ = writeln!(out, "{line}");
    ok
}

/// How long `doctor` waits for one tier's answer.
const CHAT_CHECK: Duration = Duration::from_secs(60);
