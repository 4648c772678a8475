//! The OpenAI-compatible chat wire format: request body, SSE chunks, model list.

use super::{ChatRequest, Chunk, ProviderError};
use serde_json::{Value, json};

pub fn request_body(req: &ChatRequest) -> Value {
    let mut body = json!({
        "model": req.model,
        "messages": req.messages,
        "stream": true,
    });
    if let Some(n) = req.max_tokens {
        body["max_tokens"] = json!(n);
    }
    if let Some(seed) = req.seed {
        body["seed"] = json!(seed);
    }
    if !req.stop.is_empty() {
        body["stop"] = json!(req.stop);
    }
    if let Some(t) = req.temperature {
        body["temperature"] = json!(t);
    }
    body
}

/// Interprets one SSE `data:` payload.
pub fn parse_chunk(data: &str) -> Result<Chunk, ProviderError> {
    let data = data.trim();
    if data == "[DONE]" {
        return Ok(Chunk::Done);
    }
    let value: Value = serde_json::from_str(data).map_err(|e| {
        ProviderError::Protocol(format!("not a JSON stream chunk ({e}): {}", preview(data)))
    })?;
    if let Some(err) = value.get("error") {
        return Err(ProviderError::Server(error_message(err)));
    }
    let mut chunk = Chunk::Delta {
        text: String::new(),
        tokens: None,
    };
    if let Some(usage) = value.get("usage").filter(|u| !u.is_null()) {
        let tokens = (
            usage
                .get("prompt_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            usage
                .get("completion_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(0),
        );
        chunk = Chunk::Delta {
            text: String::new(),
            tokens: Some(tokens),
        };
    }
    let choices = value.get("choices").and_then(Value::as_array);
    if let (Some(choice), Chunk::Delta { text, .. }) = (choices.and_then(|c| c.first()), &mut chunk)
    {
        // `delta` in a stream; `message` from servers that ignore `stream` and answer whole.
        let content = choice
            .get("delta")
            .or_else(|| choice.get("message"))
            .and_then(|d| d.get("content"))
            .and_then(Value::as_str)
            .or_else(|| choice.get("text").and_then(Value::as_str));
        if let Some(c) = content {
            text.push_str(c);
        }
        if choice
            .get("finish_reason")
            .is_some_and(|r| r.as_str().is_some())
        {
            let (text, tokens) = match chunk {
                Chunk::Delta { text, tokens } => (text, tokens),
                _ => (String::new(), None),
            };
            return Ok(Chunk::Finish { text, tokens });
        }
    } else if choices.is_none() && value.get("usage").is_none() {
        return Err(ProviderError::Protocol(format!(
            "stream chunk has no choices: {}",
            preview(data)
        )));
    }
    Ok(chunk)
}

/// The ids in a `GET /models` answer.
pub fn parse_models(body: &Value) -> Vec<String> {
    body.get("data")
        .and_then(Value::as_array)
        .map(|models| {
            models
                .iter()
                .filter_map(|m| m.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The message of an `{"error": …}` value, which servers give as a string or an object.
pub fn error_message(err: &Value) -> String {
    match err {
        Value::String(s) => s.clone(),
        Value::Object(o) => o
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| err.to_string()),
        other => other.to_string(),
    }
}

pub fn preview(text: &str) -> String {
    let flat: String = text.chars().take(120).collect();
    if text.chars().count() > 120 {
        format!("{flat}…")
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(text: &str) -> Chunk {
        Chunk::Delta {
            text: text.into(),
            tokens: None,
        }
    }

    #[test]
    fn parses_deltas_done_and_usage() {
        let c = r#"{"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}"#;
        assert_eq!(parse_chunk(c).ok(), Some(delta("hi")));
        let role_only = r#"{"choices":[{"index":0,"delta":{"role":"assistant"}}]}"#;
        assert_eq!(parse_chunk(role_only).ok(), Some(delta("")));
        assert_eq!(parse_chunk("[DONE]").ok(), Some(Chunk::Done));
        let usage = r#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5}}"#;
        assert_eq!(
            parse_chunk(usage).ok(),
            Some(Chunk::Delta {
                text: String::new(),
                tokens: Some((12, 5))
            })
        );
    }

    #[test]
    fn error_mid_stream_is_a_server_error() {
        let e = parse_chunk(r#"{"error":{"message":"context overflow","type":"server_error"}}"#);
        assert!(matches!(e, Err(ProviderError::Server(m)) if m == "context overflow"));
        let e = parse_chunk(r#"{"error":"boom"}"#);
        assert!(matches!(e, Err(ProviderError::Server(m)) if m == "boom"));
    }

    #[test]
    fn garbage_is_a_protocol_error() {
        assert!(matches!(
            parse_chunk("<html>"),
            Err(ProviderError::Protocol(_))
        ));
        assert!(matches!(
            parse_chunk(r#"{"foo":1}"#),
            Err(ProviderError::Protocol(_))
        ));
    }

    #[test]
    fn lists_models() {
        let v: Value = serde_json::from_str(r#"{"object":"list","data":[{"id":"a"},{"id":"b"}]}"#)
            .unwrap_or_default();
        assert_eq!(parse_models(&v), vec!["a", "b"]);
    }
}
