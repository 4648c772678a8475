//! `flotilla config`: every setting in effect, with where its value came from — a line of
//! config.toml, the environment, or the built-in defaults.

use super::{Config, ConfigSource, Tier};
use crate::provider::ServerKind;
use std::fmt;
use std::path::Path;

/// Where one setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// This line of the config file.
    File(usize),
    /// The providers and tiers chosen from the environment or found on this machine.
    Servers(ConfigSource),
    /// `assets/defaults.toml`, built in.
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(line) => write!(f, "config.toml, line {line}"),
            Self::Servers(source) => write!(f, "{source}"),
            Self::Default => f.write_str("default"),
        }
    }
}

/// One setting: its table (`""` for the top level), its key, its value written as TOML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub table: String,
    pub key: String,
    pub value: String,
    pub origin: Origin,
}

/// Every setting of `config`; `file` is the config file's path and text when there is one.
pub fn entries(config: &Config, file: Option<(&Path, &str)>) -> Vec<Entry> {
    let parsed = file.and_then(|(_, text)| {
        toml::de::DeTable::parse(text)
            .ok()
            .map(|t| (t.into_inner(), text))
    });
    // The line of `table.key` in the file, if it sets it.
    let line_of = |table: &str, key: &str| -> Option<usize> {
        let (root, text) = parsed.as_ref()?;
        let mut here = root;
        for part in table.split('.').filter(|p| !p.is_empty()) {
            match here.get(part).map(|v| v.get_ref()) {
                Some(toml::de::DeValue::Table(t)) => here = t,
                _ => return None,
            }
        }
        let value = here.get(key)?;
        Some(super::line_of(text, value.span().start))
    };
    let servers_from_file = matches!(config.servers, ConfigSource::File(_));
    let mut out = Vec::new();
    let mut add = |table: &str, key: &str, value: String| {
        let origin = match line_of(table, key) {
            Some(line) => Origin::File(line),
            None if !servers_from_file
                && (table.starts_with("providers.") || table.starts_with("tiers.")) =>
            {
                Origin::Servers(config.servers.clone())
            }
            None => Origin::Default,
        };
        out.push(Entry {
            table: table.to_owned(),
            key: key.to_owned(),
            value,
            origin,
        });
    };
    let text = |s: &str| format!("{s:?}");
    let secs = |d: std::time::Duration| {
        let s = d.as_secs_f64();
        if s.fract() == 0.0 {
            format!("{s:.0}")
        } else {
            format!("{s}")
        }
    };

    add("", "max_parallel", config.max_parallel.to_string());
    add("", "naming_timeout", secs(config.naming_timeout));
    add("", "bell", config.bell.to_string());
    add(
        "",
        "desktop_notifications",
        config.desktop_notifications.to_string(),
    );
    add(
        "",
        "notify_command",
        text(config.notify_command.as_deref().unwrap_or("")),
    );
    add("", "theme", text(&config.theme));
    add("", "mouse", config.mouse.to_string());
    let ps = &config.project_settings;
    add(
        "",
        "project",
        text(
            &ps.project
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
    );
    add("", "base", text(ps.base.as_deref().unwrap_or("")));
    add(
        "",
        "test_command",
        text(ps.test_command.as_deref().unwrap_or("")),
    );
    let p = &config.pipeline;
    add(
        "",
        "default_language",
        text(&p.default_language.to_string().to_lowercase()),
    );
    add("", "max_attempts", p.max_attempts.to_string());
    add("", "run_tests", p.run_tests.to_string());
    add("", "candidates", p.candidates.to_string());
    add("", "test_suites", p.test_suites.to_string());
    add("", "sample_temperature", p.sample_temperature.to_string());

    let l = &p.limits;
    let mode = if l.permissive { "permissive" } else { "strict" };
    add("sandbox", "mode", text(mode));
    add("sandbox", "timeout", secs(l.timeout));
    add("sandbox", "cpu_seconds", l.cpu_seconds.to_string());
    add("sandbox", "memory_mb", (l.memory_bytes >> 20).to_string());
    add(
        "sandbox",
        "file_size_mb",
        (l.file_size_bytes >> 20).to_string(),
    );
    add("sandbox", "disk_mb", (l.disk_bytes >> 20).to_string());
    add("sandbox", "max_processes", l.max_processes.to_string());
    add("sandbox", "output_kb", (l.output_cap >> 10).to_string());
    add("sandbox", "python", text(&p.python));
    add("sandbox", "node", text(&p.node));
    add("sandbox", "cargo", text(&p.cargo));

    for color in &config.colors {
        add("colors", &color.role, text(&color.value));
    }

    for (name, s) in &config.providers {
        let table = format!("providers.{name}");
        add(&table, "kind", text(s.kind().as_str()));
        match &s.server {
            ServerKind::Embedded(e) => {
                add(&table, "model", text(&e.model.display().to_string()));
                add(&table, "parallel", e.parallel.to_string());
                add(&table, "ctx", e.ctx.to_string());
            }
            _ if s.urls().count() == 1 => add(&table, "base_url", text(s.base_url())),
            _ => add(
                &table,
                "base_urls",
                format!("[{}]", s.urls().map(text).collect::<Vec<_>>().join(", ")),
            ),
        }
        if let ServerKind::Ollama {
            num_ctx,
            keep_alive,
            ..
        } = &s.server
        {
            add(&table, "ctx", num_ctx.to_string());
            add(&table, "keep_alive", text(keep_alive));
        }
        if s.api_key.is_some() {
            // The key itself is never printed.
            add(&table, "api_key_env", text("(a key is set)"));
        }
        add(&table, "max_concurrent", s.max_concurrent.to_string());
        add(&table, "connect_timeout", secs(s.connect_timeout));
        add(&table, "stall_timeout", secs(s.stall_timeout));
        add(&table, "request_timeout", secs(s.request_timeout));
        add(&table, "max_retries", s.max_retries.to_string());
    }
    for tier in Tier::ALL {
        let t = config.tier(tier);
        let table = format!("tiers.{}", tier.as_str());
        match t.pool.as_slice() {
            [_] | [] => add(&table, "provider", text(&t.provider)),
            many => add(
                &table,
                "provider",
                format!(
                    "[{}]",
                    many.iter().map(|p| text(p)).collect::<Vec<_>>().join(", ")
                ),
            ),
        }
        add(&table, "model", text(&t.model));
        if let Some(temperature) = t.temperature {
            add(&table, "temperature", temperature.to_string());
        }
        if let Some(max_tokens) = t.max_tokens {
            add(&table, "max_tokens", max_tokens.to_string());
        }
    }
    out
}

/// The entries as a TOML file with the origin of each value in a comment.
pub fn render(entries: &[Entry]) -> String {
    let mut out = String::new();
    let mut table = "";
    for e in entries {
        if e.table != table {
            out.push_str(&format!("\n[{}]\n", e.table));
            table = &e.table;
        }
        let setting = format!("{} = {}", e.key, e.value);
        out.push_str(&format!("{setting:<40} # {}\n", e.origin));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_says_where_it_came_from() {
        let text = "candidates = 2\n\n[sandbox]\ntimeout = 30\n\n[providers.local]\nkind = \"ollama\"\nbase_url = \"http://127.0.0.1:11434\"\n";
        let no_env = |_: &str| Err(std::env::VarError::NotPresent);
        let config = Config::parse(Path::new("config.toml"), text, &no_env)
            .unwrap_or_else(|e| panic!("{e}"));
        let all = entries(&config, Some((Path::new("config.toml"), text)));
        let find = |table: &str, key: &str| {
            all.iter()
                .find(|e| e.table == table && e.key == key)
                .unwrap_or_else(|| panic!("{table}.{key}"))
                .clone()
        };
        assert_eq!(find("", "candidates").origin, Origin::File(1));
        assert_eq!(find("", "candidates").value, "2");
        assert_eq!(find("", "test_suites").origin, Origin::Default);
        assert_eq!(find("sandbox", "timeout").origin, Origin::File(4));
        assert_eq!(find("sandbox", "timeout").value, "30");
        assert_eq!(find("providers.local", "base_url").origin, Origin::File(8));
        assert_eq!(
            find("providers.local", "max_retries").origin,
            Origin::Default
        );
        assert_eq!(find("tiers.fast", "model").origin, Origin::Default);

        // Without a file, the servers come from the environment and say so.
        let env = |v: &str| match v {
            "OLLAMA_HOST" => Ok("box:11434".to_owned()),
            _ => Err(std::env::VarError::NotPresent),
        };
        let config = Config::from_env(&env);
        let all = entries(&config, None);
        let base = all
            .iter()
            .find(|e| e.table == "providers.ollama" && e.key == "base_url")
            .expect("base_url");
        assert_eq!(base.value, "\"http://box:11434\"");
        assert_eq!(
            base.origin,
            Origin::Servers(ConfigSource::Environment("OLLAMA_HOST"))
        );
        let shown = render(&all);
        assert!(shown.contains("[sandbox]\nmode = \"strict\""), "{shown}");
    }
}
