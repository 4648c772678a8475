//! The pipeline's settings in `config.toml`: language, attempts, whether to run tests, and the
//! sandbox's limits and programs.

use super::ConfigError;
use crate::language::Language;
use crate::sandbox::Limits;
use serde::Deserialize;
use std::ops::Range;
use std::time::Duration;
use toml::Spanned;

#[derive(Debug, Clone, PartialEq)]
pub struct PipelineConfig {
    /// Used when neither the description nor the plan names a language.
    pub default_language: Language,
    /// Test runs before a workflow gives up (fixes happen between them).
    pub max_attempts: u32,
    /// `false` stops after the code is written.
    pub run_tests: bool,
    /// Code candidates written at once: the first at temperature 0, the rest sampled.
    pub candidates: usize,
    /// Test suites written at once.
    pub test_suites: usize,
    /// The temperature of sampled candidates and suites.
    pub sample_temperature: f32,
    pub limits: Limits,
    pub python: String,
    pub node: String,
    pub cargo: String,
}

impl Default for PipelineConfig {
    /// The built-in defaults.
    fn default() -> Self {
        let d = crate::defaults::get();
        Self {
            default_language: Language::from_word(&d.default_language).unwrap_or(Language::Python),
            max_attempts: d.max_attempts,
            run_tests: d.run_tests,
            candidates: d.candidates,
            test_suites: d.test_suites,
            sample_temperature: d.sample_temperature,
            limits: Limits::default(),
            python: d.sandbox.python.clone(),
            node: d.sandbox.node.clone(),
            cargo: d.sandbox.cargo.clone(),
        }
    }
}

/// `[sandbox]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSandbox {
    timeout: Option<Spanned<f64>>,
    cpu_seconds: Option<u64>,
    memory_mb: Option<u64>,
    file_size_mb: Option<u64>,
    max_processes: Option<u64>,
    disk_mb: Option<u64>,
    mode: Option<Spanned<String>>,
    output_kb: Option<usize>,
    python: Option<String>,
    node: Option<String>,
    cargo: Option<String>,
}

impl PipelineConfig {
    /// `candidates`, `test_suites` and `sample_temperature`.
    pub(super) fn set_sampling(
        &mut self,
        candidates: Option<Spanned<usize>>,
        test_suites: Option<Spanned<usize>>,
        temperature: Option<Spanned<f32>>,
        err: &dyn Fn(Option<Range<usize>>, String) -> ConfigError,
    ) -> Result<(), ConfigError> {
        for (value, slot, key) in [
            (candidates, &mut self.candidates, "candidates"),
            (test_suites, &mut self.test_suites, "test_suites"),
        ] {
            if let Some(n) = value {
                if !(1..=16).contains(n.get_ref()) {
                    return Err(err(
                        Some(n.span()),
                        format!("{key} must be between 1 and 16"),
                    ));
                }
                *slot = n.into_inner();
            }
        }
        if let Some(t) = temperature {
            if !(0.0..=2.0).contains(t.get_ref()) {
                return Err(err(
                    Some(t.span()),
                    "sample_temperature must be between 0 and 2".into(),
                ));
            }
            self.sample_temperature = t.into_inner();
        }
        Ok(())
    }

    pub(super) fn from_raw(
        default_language: Option<Spanned<String>>,
        max_attempts: Option<Spanned<u32>>,
        run_tests: Option<bool>,
        sandbox: Option<RawSandbox>,
        err: &dyn Fn(Option<Range<usize>>, String) -> ConfigError,
    ) -> Result<Self, ConfigError> {
        let mut config = Self::default();
        if let Some(lang) = default_language {
            config.default_language = Language::from_word(lang.get_ref()).ok_or_else(|| {
                err(
                    Some(lang.span()),
                    format!(
                        "default_language {:?} is not one of {}",
                        lang.get_ref(),
                        Language::names()
                    ),
                )
            })?;
        }
        if let Some(n) = max_attempts {
            if *n.get_ref() == 0 {
                return Err(err(
                    Some(n.span()),
                    "max_attempts must be at least 1".into(),
                ));
            }
            config.max_attempts = n.into_inner();
        }
        if let Some(run) = run_tests {
            config.run_tests = run;
        }
        if let Some(s) = sandbox {
            config.read_sandbox(s, err)?;
        }
        Ok(config)
    }

    /// The `[sandbox]` table over the defaults: its limits, mode and toolchain programs.
    fn read_sandbox(
        &mut self,
        s: RawSandbox,
        err: &dyn Fn(Option<Range<usize>>, String) -> ConfigError,
    ) -> Result<(), ConfigError> {
        if let Some(t) = s.timeout {
            let secs = *t.get_ref();
            if !(secs.is_finite() && secs > 0.0) {
                return Err(err(
                    Some(t.span()),
                    "sandbox timeout must be a positive number of seconds".into(),
                ));
            }
            self.limits.timeout = Duration::from_secs_f64(secs);
        }
        let limits = &mut self.limits;
        if let Some(v) = s.cpu_seconds {
            limits.cpu_seconds = v;
        }
        if let Some(v) = s.memory_mb {
            limits.memory_bytes = v << 20;
        }
        if let Some(v) = s.file_size_mb {
            limits.file_size_bytes = v << 20;
        }
        if let Some(v) = s.max_processes {
            limits.max_processes = v;
        }
        if let Some(v) = s.disk_mb {
            limits.disk_bytes = v << 20;
        }
        if let Some(mode) = s.mode {
            limits.permissive = crate::sandbox::permissive(mode.get_ref()).ok_or_else(|| {
                err(
                    Some(mode.span()),
                    format!(
                        "sandbox mode must be \"strict\" or \"permissive\", not {:?}",
                        mode.get_ref()
                    ),
                )
            })?;
        }
        if let Some(v) = s.output_kb {
            limits.output_cap = v << 10;
        }
        for (value, slot) in [
            (s.python, &mut self.python),
            (s.node, &mut self.node),
            (s.cargo, &mut self.cargo),
        ] {
            if let Some(v) = value {
                *slot = v;
            }
        }
        Ok(())
    }
}
