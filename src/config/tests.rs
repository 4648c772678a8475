use super::*;
use std::env::VarError;

fn no_env(_: &str) -> Result<String, VarError> {
    Err(VarError::NotPresent)
}

const EXAMPLE: &str = r#"
max_parallel = 4

[providers.local]
kind = "openai"                      # or "ollama"
base_url = "http://127.0.0.1:8080/v1"
api_key_env = "OPENAI_API_KEY"       # optional: the variable that holds a key
max_concurrent = 2                   # optional

[tiers.veryfast]                     # names workflows
provider = "local"
model = "smollm2"
[tiers.fast]                         # writes code (and, next, tests)
provider = "local"
model = "smollm2"
[tiers.overseer]                     # plans and reviews (next issue)
provider = "local"
model = "smollm2"
"#;

#[test]
fn the_documented_example_parses() {
    let env = |v: &str| {
        if v == "OPENAI_API_KEY" {
            Ok("sk-test".to_owned())
        } else {
            Err(VarError::NotPresent)
        }
    };
    let c = Config::parse(Path::new("config.toml"), EXAMPLE, &env).map_err(|e| e.to_string());
    let c = c.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.max_parallel, 4);
    let local = &c.providers["local"];
    assert_eq!(local.kind(), ProviderKind::Openai);
    assert_eq!(local.base_url(), "http://127.0.0.1:8080/v1");
    assert_eq!(local.api_key.as_deref(), Some("sk-test"));
    assert_eq!(local.max_concurrent, 2);
    for tier in Tier::ALL {
        assert_eq!(
            c.tier(tier),
            &TierConfig {
                provider: "local".into(),
                pool: vec!["local".into()],
                model: "smollm2".into(),
                temperature: None,
                max_tokens: None,
            }
        );
    }
}

#[test]
fn unknown_field_names_file_and_line() {
    let text = "max_parallel = 2\n[providers.x]\nkind = \"openai\"\nbase_ur = \"http://h\"\n";
    let e = Config::parse(Path::new("/h/config.toml"), text, &no_env).err();
    let e = e.map(|e| e.to_string()).unwrap_or_default();
    assert!(e.starts_with("/h/config.toml, line "), "{e}");
    assert!(e.contains("base_ur"), "{e}");
}

#[test]
fn bad_kind_and_bad_url_and_unknown_provider_are_reported_with_lines() {
    let bad_kind = "[providers.x]\nkind = \"grpc\"\nbase_url = \"http://h\"\n";
    let e = Config::parse(Path::new("c.toml"), bad_kind, &no_env).err();
    assert_eq!(e.as_ref().and_then(|e| e.line), Some(2), "{e:?}");
    assert!(e.is_some_and(|e| e.message.contains("openai")));

    let bad_url = "[providers.x]\nkind = \"openai\"\nbase_url = \"localhost:8080\"\n";
    let e = Config::parse(Path::new("c.toml"), bad_url, &no_env).err();
    assert_eq!(e.as_ref().and_then(|e| e.line), Some(3), "{e:?}");

    let unknown = "[providers.x]\nkind = \"openai\"\nbase_url = \"http://h/v1\"\n[tiers.fast]\nprovider = \"y\"\n";
    let e = Config::parse(Path::new("c.toml"), unknown, &no_env).err();
    assert_eq!(e.as_ref().and_then(|e| e.line), Some(5), "{e:?}");
    assert!(e.is_some_and(|e| e.message.contains("\"y\"")));

    let zero = "max_parallel = 0\n";
    let e = Config::parse(Path::new("c.toml"), zero, &no_env).err();
    assert_eq!(e.as_ref().and_then(|e| e.line), Some(1), "{e:?}");
}

#[test]
fn missing_tiers_borrow_a_declared_one() {
    let text = "[providers.x]\nkind = \"ollama\"\nbase_url = \"http://h:1\"\n[tiers.fast]\nprovider = \"x\"\nmodel = \"m\"\n";
    let c = Config::parse(Path::new("c.toml"), text, &no_env).map_err(|e| e.to_string());
    let c = c.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.tier(Tier::Veryfast).model, "m");
    assert_eq!(c.tier(Tier::Overseer).provider, "x");
}

#[test]
fn environment_defaults() {
    let c = Config::from_env(&no_env);
    assert_eq!(c.source, ConfigSource::Default);
    assert_eq!(c.providers["ollama"].base_url(), "http://127.0.0.1:11434");
    assert_eq!(c.tier(Tier::Veryfast).model, "llama3.2:1b");

    let openai = |v: &str| match v {
        "OPENAI_BASE_URL" => Ok("http://127.0.0.1:9/v1/".to_owned()),
        "OPENAI_API_KEY" => Ok("k".to_owned()),
        _ => Err(VarError::NotPresent),
    };
    let c = Config::from_env(&openai);
    assert_eq!(c.providers["openai"].base_url(), "http://127.0.0.1:9/v1");
    assert_eq!(c.providers["openai"].api_key.as_deref(), Some("k"));

    let ollama = |v: &str| {
        if v == "OLLAMA_HOST" {
            Ok("0.0.0.0".to_owned())
        } else {
            Err(VarError::NotPresent)
        }
    };
    assert_eq!(
        Config::from_env(&ollama).providers["ollama"].base_url(),
        "http://127.0.0.1:11434"
    );
}

#[test]
fn pipeline_settings_parse_and_are_checked() {
    let text = "default_language = \"rust\"\nmax_attempts = 5\nrun_tests = false\n[sandbox]\ntimeout = 30\nmemory_mb = 512\npython = \"/usr/bin/python3\"\n";
    let c = Config::parse(Path::new("c.toml"), text, &no_env).map_err(|e| e.to_string());
    let c = c.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.pipeline.default_language, crate::language::Language::Rust);
    assert_eq!(c.pipeline.max_attempts, 5);
    assert!(!c.pipeline.run_tests);
    assert_eq!(c.pipeline.limits.timeout, Duration::from_secs(30));
    assert_eq!(c.pipeline.limits.memory_bytes, 512 << 20);
    assert_eq!(c.pipeline.python, "/usr/bin/python3");

    let defaults = Config::from_env(&no_env).pipeline;
    assert_eq!((defaults.max_attempts, defaults.run_tests), (3, true));
    assert_eq!(defaults.limits.timeout, Duration::from_secs(60));

    let bad = Config::parse(
        Path::new("c.toml"),
        "max_parallel = 2\ndefault_language = \"cobol\"\n",
        &no_env,
    )
    .err();
    assert_eq!(bad.as_ref().and_then(|e| e.line), Some(2), "{bad:?}");
    assert!(
        bad.as_ref().is_some_and(|e| e
            .message
            .contains("\"cobol\" is not one of python, javascript, rust")),
        "{bad:?}"
    );
    let bad = Config::parse(Path::new("c.toml"), "[sandbox]\ntimeout = -1\n", &no_env).err();
    assert_eq!(bad.as_ref().and_then(|e| e.line), Some(2), "{bad:?}");
    let bad = Config::parse(Path::new("c.toml"), "[sandbox]\nmemory = 1\n", &no_env).err();
    assert!(bad.is_some_and(|e| e.message.contains("memory")));

    let text = "[sandbox]\ndisk_mb = 64\nmode = \"permissive\"\n";
    let c = Config::parse(Path::new("c.toml"), text, &no_env).map_err(|e| e.to_string());
    let limits = c.unwrap_or_else(|e| panic!("{e}")).pipeline.limits;
    assert_eq!(limits.disk_bytes, 64 << 20);
    assert!(limits.permissive);
    assert!(
        !defaults.limits.permissive,
        "strict unless the config says so"
    );
    let bad = Config::parse(
        Path::new("c.toml"),
        "[sandbox]\n\nmode = \"off\"\n",
        &no_env,
    )
    .err();
    assert_eq!(bad.as_ref().and_then(|e| e.line), Some(3), "{bad:?}");
    assert!(bad.is_some_and(|e| e.message.contains("\"strict\" or \"permissive\"")));
}

#[test]
fn an_embedded_provider_serves_a_file_beside_the_config() {
    let text = "[providers.local]\nkind = \"embedded\"\nmodel = \"models/small.gguf\"\nparallel = 3\nctx = 2048\n";
    let c = Config::parse(Path::new("/home/u/flotilla/config.toml"), text, &no_env)
        .unwrap_or_else(|e| panic!("{e}"));
    let local = &c.providers["local"];
    assert_eq!(local.kind(), ProviderKind::Embedded);
    let embedded = local.embedded().expect("embedded settings");
    assert_eq!(
        embedded.model,
        Path::new("/home/u/flotilla/models/small.gguf")
    );
    assert_eq!((embedded.parallel, embedded.ctx), (3, 2048));
    // As many requests in flight as the server decodes together.
    assert_eq!(local.max_concurrent, 3);
    assert_eq!(c.tier(Tier::Fast).provider, "local");
}

#[test]
fn embedded_and_url_settings_do_not_mix() {
    for (text, line, says) in [
        (
            "[providers.local]\nkind = \"embedded\"\nbase_url = \"http://h/v1\"\nmodel = \"m.gguf\"\n",
            3,
            "not base_url",
        ),
        ("[providers.local]\nkind = \"embedded\"\n", 2, "needs model"),
        (
            "[providers.local]\nkind = \"openai\"\nbase_url = \"http://h/v1\"\nmodel = \"m.gguf\"\n",
            4,
            "model is for kind = \"embedded\"",
        ),
        (
            "[providers.local]\nkind = \"openai\"\n",
            2,
            "needs base_url",
        ),
        (
            "[providers.local]\nkind = \"embedded\"\nmodel = \"m.gguf\"\nparallel = 0\n",
            4,
            "parallel must be 1 to 64",
        ),
    ] {
        let e = Config::parse(Path::new("config.toml"), text, &no_env).unwrap_err();
        assert_eq!(e.line, Some(line), "{text}: {e}");
        assert!(e.message.contains(says), "{text}: {e}");
    }
}

#[test]
fn the_default_model_is_flotilla_model_else_the_first_gguf_in_models() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    assert_eq!(default_model(&no_env, &models), None);
    std::fs::create_dir_all(&models).unwrap();
    std::fs::write(models.join("notes.txt"), "x").unwrap();
    assert_eq!(default_model(&no_env, &models), None);
    std::fs::write(models.join("b.gguf"), "GGUF").unwrap();
    std::fs::write(models.join("a.gguf"), "GGUF").unwrap();
    assert_eq!(default_model(&no_env, &models), Some(models.join("a.gguf")));
    let env = |v: &str| {
        if v == "FLOTILLA_MODEL" {
            Ok("/models/chosen.gguf".to_owned())
        } else {
            Err(VarError::NotPresent)
        }
    };
    assert_eq!(
        default_model(&env, &models),
        Some(PathBuf::from("/models/chosen.gguf"))
    );
}

#[test]
fn the_embedded_default_takes_every_tier_and_says_which_file() {
    let mut c = Config::from_env(&no_env);
    assert!(c.default_ollama);
    c.serve_embedded(PathBuf::from("/m/SmolLM2.Q4.gguf"));
    assert_eq!(c.providers.len(), 1);
    assert_eq!(c.providers["embedded"].kind(), ProviderKind::Embedded);
    for tier in Tier::ALL {
        assert_eq!(c.tier(tier).provider, "embedded");
        assert_eq!(c.tier(tier).model, "SmolLM2.Q4");
    }
    assert!(
        c.source.to_string().contains("/m/SmolLM2.Q4.gguf"),
        "{}",
        c.source
    );
    // A server named in the environment is never replaced.
    let openai = |v: &str| {
        if v == "OPENAI_BASE_URL" {
            Ok("http://h/v1".to_owned())
        } else {
            Err(VarError::NotPresent)
        }
    };
    assert!(!Config::from_env(&openai).default_ollama);
}

#[test]
fn a_file_without_a_key_gets_the_built_in_default_of_it() {
    let d = crate::defaults::get();
    // The top level and [sandbox] of the defaults are a config.toml of their own.
    let (settings, _) = crate::defaults::TEXT
        .split_once("\n[provider]")
        .expect("[provider] in the defaults");
    let spelled = Config::parse(Path::new("defaults.toml"), settings, &no_env)
        .unwrap_or_else(|e| panic!("{e}"));
    let text = "[providers.a]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:1/v1\"\n\
                [providers.e]\nkind = \"embedded\"\nmodel = \"m.gguf\"\n\
                [tiers.fast]\nprovider = \"a\"\n[tiers.overseer]\nprovider = \"e\"\n";
    let empty = Config::parse(Path::new("c.toml"), text, &no_env).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(empty.pipeline, spelled.pipeline);
    assert_eq!(empty.max_parallel, spelled.max_parallel);
    assert_eq!(empty.naming_timeout, spelled.naming_timeout);
    assert_eq!(empty.bell, spelled.bell);
    assert_eq!(Config::from_env(&no_env).pipeline, spelled.pipeline);

    let a = &empty.providers["a"];
    assert_eq!(a.max_concurrent, d.provider.max_concurrent);
    assert_eq!(a.stall_timeout.as_secs_f64(), d.provider.stall_timeout);
    assert_eq!(a.request_timeout.as_secs_f64(), d.provider.request_timeout);
    assert_eq!(a.max_retries, d.provider.max_retries);
    let e = &empty.providers["e"];
    let served = e.embedded().expect("embedded settings");
    assert_eq!(
        (served.parallel, served.ctx),
        (d.provider.embedded.parallel, d.provider.embedded.ctx)
    );
    assert_eq!(e.max_concurrent, d.provider.embedded.parallel);
    assert_eq!(
        e.stall_timeout.as_secs_f64(),
        d.provider.embedded.stall_timeout
    );
    assert_eq!(empty.tier(Tier::Fast).model, d.models.openai.fast);
    assert_eq!(empty.tier(Tier::Overseer).model, d.models.embedded.overseer);

    // A key set replaces its default and leaves the others.
    let one = Config::parse(Path::new("c.toml"), "candidates = 7\n", &no_env)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(one.pipeline.candidates, 7);
    assert_eq!(one.pipeline.test_suites, d.test_suites);
    assert_eq!(one.pipeline.limits, spelled.pipeline.limits);
}

#[test]
fn a_key_in_the_environment_gives_way_to_a_local_ollama_and_says_so() {
    let key_only = |v: &str| match v {
        "OPENAI_API_KEY" => Ok("sk-test".to_owned()),
        _ => Err(VarError::NotPresent),
    };
    let mut c = Config::from_env(&key_only);
    assert_eq!(c.servers, ConfigSource::Environment("OPENAI_API_KEY"));
    assert_eq!(
        c.providers["openai"].base_url(),
        "https://api.openai.com/v1"
    );
    assert!(c.source.to_string().contains("tasks go to api.openai.com"));
    // What `load` does when Ollama answers on its port.
    c.prefer_local_ollama();
    assert_eq!(c.servers, ConfigSource::OllamaOverKey);
    assert_eq!(c.providers.len(), 1);
    assert_eq!(c.providers["ollama"].base_url(), "http://127.0.0.1:11434");
    assert!(
        c.providers["ollama"].api_key.is_none(),
        "the key goes nowhere"
    );
    assert_eq!(c.tier(Tier::Fast).provider, "ollama");
    assert!(
        c.source
            .to_string()
            .contains("OPENAI_API_KEY is set but not used"),
        "{}",
        c.source
    );
    // OLLAMA_HOST names a server: it wins over a key that names none.
    let both = |v: &str| match v {
        "OLLAMA_HOST" => Ok("box:11434".to_owned()),
        "OPENAI_API_KEY" => Ok("sk-test".to_owned()),
        _ => Err(VarError::NotPresent),
    };
    assert_eq!(
        Config::from_env(&both).servers,
        ConfigSource::Environment("OLLAMA_HOST")
    );
    // OPENAI_BASE_URL names a server on purpose: it is kept.
    let named = |v: &str| match v {
        "OPENAI_BASE_URL" => Ok("http://127.0.0.1:8080/v1".to_owned()),
        "OPENAI_API_KEY" => Ok("sk-test".to_owned()),
        _ => Err(VarError::NotPresent),
    };
    assert_eq!(
        Config::from_env(&named).servers,
        ConfigSource::Environment("OPENAI_BASE_URL")
    );
}

#[test]
fn a_tier_pools_the_servers_of_base_urls_and_of_every_provider_it_names() {
    let text = "[providers.gpu]\nkind = \"openai\"\nbase_urls = [\"http://a:8080/v1\", \"http://b:8080/v1/\"]\n\n[providers.home]\nkind = \"ollama\"\nbase_url = \"http://c:11434\"\nctx = 16384\nkeep_alive = \"1h\"\n\n[tiers.fast]\nprovider = [\"gpu\", \"home\"]\nmodel = \"qwen\"\n";
    let c = Config::parse(Path::new("c.toml"), text, &no_env).unwrap_or_else(|e| panic!("{e}"));
    let gpu = &c.providers["gpu"];
    assert_eq!(
        gpu.urls().collect::<Vec<_>>(),
        ["http://a:8080/v1", "http://b:8080/v1"]
    );
    assert!(!gpu.slots_configured, "slots are read from each server");
    let home = &c.providers["home"];
    assert_eq!(ollama(home), (16384, "1h".to_owned()));
    assert_eq!(c.tier(Tier::Fast).pool, ["gpu", "home"]);
    assert_eq!(c.tier(Tier::Fast).provider, "gpu");
    // A tier left out borrows the pool too.
    assert_eq!(c.tier(Tier::Overseer).pool, ["gpu", "home"]);
    // Ollama's defaults, the same for every request.
    let d = crate::defaults::get();
    let plain = "[providers.o]\nkind = \"ollama\"\nbase_url = \"http://c:11434\"\n";
    let c = Config::parse(Path::new("c.toml"), plain, &no_env).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ollama(&c.providers["o"]),
        (d.provider.ollama.ctx, d.provider.ollama.keep_alive.clone())
    );
}

/// An Ollama provider's context and keep-alive; any other kind fails the test.
fn ollama(settings: &crate::provider::ProviderSettings) -> (u32, String) {
    match &settings.server {
        crate::provider::ServerKind::Ollama {
            num_ctx,
            keep_alive,
            ..
        } => (*num_ctx, keep_alive.clone()),
        other => panic!("not ollama: {other:?}"),
    }
}

#[test]
fn pool_mistakes_name_the_line() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "[providers.g]\nkind = \"openai\"\nbase_url = \"http://a/v1\"\nbase_urls = [\"http://b/v1\"]\n",
            4,
            "both base_url and base_urls",
        ),
        (
            "[providers.g]\nkind = \"openai\"\nbase_urls = []\n",
            3,
            "empty",
        ),
        (
            "[providers.g]\nkind = \"openai\"\nbase_urls = [\"http://a/v1\", \"ftp://b\"]\n",
            3,
            "\"ftp://b\"",
        ),
        (
            "[providers.g]\nkind = \"openai\"\nbase_urls = [\"http://a/v1\", \"http://a/v1/\"]\n",
            3,
            "twice",
        ),
        (
            "[providers.g]\nkind = \"openai\"\nbase_url = \"http://a/v1\"\n[tiers.fast]\nprovider = [\"g\", \"h\"]\n",
            5,
            "\"h\"",
        ),
        (
            "[providers.g]\nkind = \"openai\"\nbase_url = \"http://a/v1\"\n[tiers.fast]\nprovider = [\"g\", \"g\"]\n",
            5,
            "twice",
        ),
        (
            "[providers.g]\nkind = \"openai\"\nbase_url = \"http://a/v1\"\nctx = 4096\n",
            4,
            "ctx is for",
        ),
        (
            "[providers.o]\nkind = \"ollama\"\nbase_url = \"http://a:11434\"\nkeep_alive = \"soon\"\n",
            4,
            "keep_alive",
        ),
    ];
    for (text, line, says) in cases {
        let e = Config::parse(Path::new("c.toml"), text, &no_env).err();
        assert_eq!(
            e.as_ref().and_then(|e| e.line),
            Some(*line),
            "{text}: {e:?}"
        );
        let message = e.map(|e| e.message).unwrap_or_default();
        assert!(message.contains(says), "{text}: {message}");
    }
}
