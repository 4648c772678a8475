//! `flotilla models`: what each configured server offers, and which tier uses which model.

use crate::config::{Config, Tier};
use crate::engine::Engine;
use crate::provider::pool::Server;
use std::io::Write;
use std::time::Duration;

/// How long one server may take to list its models.
const LIST_WAIT: Duration = Duration::from_secs(10);

/// Lists each provider's models, marking the ones the tiers use; 0 when every server answered.
pub async fn models(engine: &Engine, json: bool, out: &mut dyn Write) -> i32 {
    let config = engine.config();
    let mut all_answered = true;
    let mut servers = Vec::new();
    for server in engine.servers() {
        let provider = &server.provider;
        let listed = provider.models(LIST_WAIT).await;
        // The slots the server says it has, when the file sets none.
        if listed.is_ok()
            && !provider.settings.slots_configured
            && provider.settings.kind() != crate::provider::ProviderKind::Embedded
            && let Some(n) = provider.server_slots(LIST_WAIT).await
        {
            provider.set_slots(n);
        }
        all_answered &= listed.is_ok();
        if json {
            servers.push(server_json(config, server, &listed));
        } else {
            print_server(config, server, &listed, out);
        }
    }
    if json {
        let text = serde_json::to_string_pretty(&serde_json::json!({ "providers": servers }))
            .unwrap_or_default();
        let _ = writeln!(out, "{text}");
    }
    if all_answered { 0 } else { 1 }
}

/// The tiers that use `model` on this server.
fn tiers_on(config: &Config, server: &Server, model: &str) -> Vec<&'static str> {
    Tier::ALL
        .into_iter()
        .filter(|t| {
            let tc = config.tier(*t);
            tc.pool.contains(&server.provider.name) && server.provider.serves(model, &tc.model)
        })
        .map(Tier::as_str)
        .collect()
}

/// One server's entry in `--json`.
fn server_json<E: std::fmt::Display>(
    config: &Config,
    server: &Server,
    listed: &Result<Vec<String>, E>,
) -> serde_json::Value {
    let provider = &server.provider;
    let (models, error) = match listed {
        Ok(models) => (
            models
                .iter()
                .map(|m| serde_json::json!({ "model": m, "tiers": tiers_on(config, server, m) }))
                .collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    serde_json::json!({
        "provider": provider.name,
        "name": server.label,
        "slots": server.slots(),
        "kind": provider.settings.kind().as_str(),
        "server": provider.describe(),
        "models": models,
        "error": error,
    })
}

/// One server as text: its line, its models with the tiers that use them, and each tier that
/// names a model it does not list.
fn print_server<E: std::fmt::Display>(
    config: &Config,
    server: &Server,
    listed: &Result<Vec<String>, E>,
    out: &mut dyn Write,
) {
    let provider = &server.provider;
    let name = if server.label == provider.name {
        provider.name.clone()
    } else {
        format!("{} {}", provider.name, server.label)
    };
    let _ = writeln!(
        out,
        "{name} ({}): {}, {} slots",
        provider.settings.kind().as_str(),
        provider.describe(),
        server.slots()
    );
    let models = match listed {
        Ok(models) => models,
        Err(e) => {
            let _ = writeln!(out, "  ✗ cannot list its models: {e}");
            return;
        }
    };
    if models.is_empty() {
        let _ = writeln!(out, "  (no models)");
    }
    for model in models {
        let used = tiers_on(config, server, model);
        if used.is_empty() {
            let _ = writeln!(out, "  {model}");
        } else {
            let _ = writeln!(out, "  {model}  ← {}", used.join(", "));
        }
    }
    for tier in Tier::ALL {
        let tc = config.tier(tier);
        if tc.pool.contains(&provider.name) && !models.iter().any(|m| provider.serves(m, &tc.model))
        {
            let _ = writeln!(
                out,
                "  ! tier {} names {}, which this server does not list",
                tier.as_str(),
                tc.model
            );
        }
    }
}
