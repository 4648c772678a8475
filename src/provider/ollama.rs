//! Ollama's native chat wire format: request body, NDJSON chunks, model list.

use super::openai::{error_message, preview};
use super::{ChatRequest, Chunk, ProviderError};
use serde_json::{Value, json};

pub fn request_body(req: &ChatRequest) -> Value {
    let mut options = json!({});
    if let Some(n) = req.max_tokens {
        options["num_predict"] = json!(n);
    }
    if let Some(seed) = req.seed {
        options["seed"] = json!(seed);
    }
    if !req.stop.is_empty() {
        options["stop"] = json!(req.stop);
    }
    if let Some(t) = req.temperature {
        options["temperature"] = json!(t);
    }
    json!({
        "model": req.model,
        "messages": req.messages,
        "stream": true,
        "options": options,
    })
}

/// Adds the context every request carries: `options.num_ctx` (the same each time, or Ollama
/// loads the model again) and `keep_alive`.
pub fn set_context(body: &mut Value, num_ctx: u32, keep_alive: &str) {
    if let Some(options) = body.get_mut("options").and_then(Value::as_object_mut) {
        options.insert("num_ctx".into(), json!(num_ctx));
    }
    let keep: Value = keep_alive
        .parse::<i64>()
        .map_or_else(|_| json!(keep_alive), |n| json!(n));
    body["keep_alive"] = keep;
}

/// A prompt that cannot fit: even at four characters a token (code has more tokens than
/// that) it is longer than the context, and Ollama would cut it without a word.
pub fn check_fits(req: &ChatRequest, num_ctx: u32) -> Result<(), ProviderError> {
    let chars: usize = req.messages.iter().map(|m| m.content.chars().count()).sum();
    let at_least = chars / 4;
    if at_least >= num_ctx as usize {
        return Err(ProviderError::Truncated(format!(
            "the prompt is at least {at_least} tokens ({chars} characters), more than Ollama's num_ctx of {num_ctx}: it would be cut; raise ctx of the provider"
        )));
    }
    Ok(())
}

/// A reply whose prompt filled the whole context: Ollama cut the prompt to `num_ctx` tokens
/// ("truncating input prompt" in its log) and answered a different question.
pub fn check_not_cut(reply: &super::ChatReply, num_ctx: u32) -> Result<(), ProviderError> {
    if reply.tokens_in >= u64::from(num_ctx) {
        return Err(ProviderError::Truncated(format!(
            "Ollama read {} prompt tokens, its whole num_ctx of {num_ctx}: the prompt was cut to fit, so the answer is to a different prompt; raise ctx of the provider",
            reply.tokens_in
        )));
    }
    Ok(())
}

/// Interprets one NDJSON line.
pub fn parse_line(line: &str) -> Result<Chunk, ProviderError> {
    let value: Value = serde_json::from_str(line.trim()).map_err(|e| {
        ProviderError::Protocol(format!("not a JSON stream line ({e}): {}", preview(line)))
    })?;
    if let Some(err) = value.get("error") {
        return Err(ProviderError::Server(error_message(err)));
    }
    if value.get("done").and_then(Value::as_bool) == Some(true) {
        let tokens = (
            value
                .get("prompt_eval_count")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            value.get("eval_count").and_then(Value::as_u64).unwrap_or(0),
        );
        let text = content(&value).unwrap_or_default();
        return Ok(Chunk::Last {
            text,
            tokens: Some(tokens),
        });
    }
    match content(&value) {
        Some(text) => Ok(Chunk::Delta { text, tokens: None }),
        None => Err(ProviderError::Protocol(format!(
            "stream line has no message: {}",
            preview(line)
        ))),
    }
}

fn content(value: &Value) -> Option<String> {
    value
        .get("message")
        .and_then(|m| m.get("content"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The names in a `GET /api/tags` answer.
pub fn parse_models(body: &Value) -> Vec<String> {
    body.get("models")
        .and_then(Value::as_array)
        .map(|models| {
            models
                .iter()
                .filter_map(|m| {
                    m.get("name")
                        .or_else(|| m.get("model"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_deltas_and_the_final_line() {
        let line = r#"{"model":"m","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"def"},"done":false}"#;
        assert_eq!(
            parse_line(line).ok(),
            Some(Chunk::Delta {
                text: "def".into(),
                tokens: None
            })
        );
        let last = r#"{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":26,"eval_count":290}"#;
        assert_eq!(
            parse_line(last).ok(),
            Some(Chunk::Last {
                text: String::new(),
                tokens: Some((26, 290))
            })
        );
    }

    #[test]
    fn error_line_is_a_server_error() {
        let e = parse_line(r#"{"error":"model 'x' not found"}"#);
        assert!(matches!(e, Err(ProviderError::Server(m)) if m.contains("not found")));
    }

    #[test]
    fn garbage_is_a_protocol_error() {
        assert!(matches!(
            parse_line("data: {}"),
            Err(ProviderError::Protocol(_))
        ));
        assert!(matches!(
            parse_line(r#"{"done":false}"#),
            Err(ProviderError::Protocol(_))
        ));
    }

    #[test]
    fn lists_models() {
        let v: Value =
            serde_json::from_str(r#"{"models":[{"name":"llama3.2:1b"},{"model":"qwen"}]}"#)
                .unwrap_or_default();
        assert_eq!(parse_models(&v), vec!["llama3.2:1b", "qwen"]);
    }
}
