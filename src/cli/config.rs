//! `flotilla config`: the configuration in effect, each setting with where its value came from.

use crate::config::Config;
use crate::config::show::{Origin, entries, render};
use crate::home::Home;
use std::io::{self, Write};

/// Prints every setting of `config` with its origin, as commented TOML or as JSON.
pub fn print(home: &Home, config: &Config, json: bool, out: &mut dyn Write) -> io::Result<()> {
    let text = std::fs::read_to_string(&home.config_file).ok();
    let file = text.as_deref().map(|t| (home.config_file.as_path(), t));
    let settings = entries(config, file);
    if !json {
        let state = if text.is_some() {
            "read"
        } else {
            "not there: defaults and environment"
        };
        return writeln!(
            out,
            "# {} ({state})\n# servers: {}\n{}",
            home.config_file.display(),
            config.servers,
            render(&settings)
        );
    }
    let all: Vec<serde_json::Value> = settings
        .iter()
        .map(|e| {
            let origin = match &e.origin {
                Origin::File(line) => serde_json::json!({ "file": home.config_file, "line": line }),
                other => serde_json::json!(other.to_string()),
            };
            let key = if e.table.is_empty() {
                e.key.clone()
            } else {
                format!("{}.{}", e.table, e.key)
            };
            serde_json::json!({ "key": key, "value": e.value, "origin": origin })
        })
        .collect();
    let report = serde_json::json!({
        "file": home.config_file,
        "file_exists": text.is_some(),
        "servers": config.servers.to_string(),
        "settings": all,
    });
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&report).map_err(io::Error::other)?
    )
}
