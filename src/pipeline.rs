//! A workflow's body, as a list of stages run in order once the workflow has a run slot. Each
//! stage sets the progress message the table shows while it runs.

use crate::codeblock;
use crate::config::Tier;
use crate::engine::Inner;
use crate::event::Event;
use crate::provider::{ChatRequest, Message};
use crate::workflow::{WorkflowId, WorkflowResult};
use crate::worklog::WorkLog;
use std::path::PathBuf;
use std::sync::Arc;

/// One step of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The `fast` tier writes the code, streamed into the log.
    Code,
}

impl Stage {
    /// The stages a workflow runs, in order.
    pub const PIPELINE: &'static [Stage] = &[Stage::Code];

    /// What the progress column says while this stage runs (the seed's words).
    pub fn progress(self) -> &'static str {
        match self {
            Self::Code => "Generating code...",
        }
    }
}

/// What the stages share while one workflow runs.
pub struct StageContext<'a> {
    pub inner: &'a Arc<Inner>,
    pub id: &'a WorkflowId,
    pub description: &'a str,
    pub dir: PathBuf,
    pub log: &'a WorkLog,
    /// Files written so far, relative to `dir`.
    pub files: Vec<String>,
}

impl StageContext<'_> {
    fn progress(&self, progress: &str) {
        // The receiver is gone only when flotilla is shutting down.
        let _ = self.inner.events.send(Event::Progress {
            id: self.id.clone(),
            progress: progress.to_owned(),
        });
    }

    fn write_file(&mut self, name: &str, contents: &str) -> Result<(), String> {
        std::fs::write(self.dir.join(name), contents)
            .map_err(|e| format!("cannot write {}: {e}", self.dir.join(name).display()))?;
        if !self.files.iter().any(|f| f == name) {
            self.files.push(name.to_owned());
        }
        Ok(())
    }
}

/// Runs every stage; the result names the folder and the files written.
pub async fn run(cx: &mut StageContext<'_>) -> Result<WorkflowResult, String> {
    for &stage in Stage::PIPELINE {
        cx.progress(stage.progress());
        cx.log
            .line(&format!("── {} ──", stage.progress().trim_end_matches('.')));
        match stage {
            Stage::Code => generate_code(cx).await?,
        }
    }
    Ok(WorkflowResult {
        dir: cx.dir.clone(),
        files: cx.files.clone(),
    })
}

const CODE_SYSTEM: &str = "You are an expert programmer. Write complete, working code for the task. \
Answer with a single fenced code block, marked with its language, followed by at most two sentences.";

async fn generate_code(cx: &mut StageContext<'_>) -> Result<(), String> {
    let (provider, tier) = cx.inner.tier(Tier::Fast);
    let request = ChatRequest {
        model: tier.model.clone(),
        messages: vec![
            Message::system(CODE_SYSTEM),
            Message::user(cx.description.to_owned()),
        ],
        max_tokens: Some(tier.max_tokens.unwrap_or(2048)),
        temperature: tier.temperature,
        urgent: false,
    };
    cx.log.line(&format!(
        "asking the fast tier ({} on {})",
        tier.model,
        provider.describe()
    ));
    let log = cx.log;
    let reply = provider
        .chat(&request, &mut |text| log.stream(text))
        .await
        .map_err(|e| format!("code generation failed: {e}"))?;
    cx.log.end_stream();
    if reply.tokens_out > 0 {
        cx.log.line(&format!(
            "reply: {} tokens in, {} tokens out",
            reply.tokens_in, reply.tokens_out
        ));
    }
    cx.write_file("reply.md", &reply.text)?;
    let block = codeblock::main_code(&reply.text).ok_or("the fast model answered with no code")?;
    let ext = codeblock::extension(&block.info).unwrap_or("py");
    let file = format!("main.{ext}");
    cx.write_file(&file, &block.code)?;
    cx.log.line(&format!(
        "saved {} ({} lines)",
        cx.dir.join(&file).display(),
        block.code.lines().count()
    ));
    Ok(())
}
