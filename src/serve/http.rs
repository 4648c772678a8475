//! The OpenAI-compatible HTTP side of `flotilla serve`: `GET /v1/models` and
//! `POST /v1/chat/completions`, streamed (SSE) or whole, with `usage` in both.

use super::engine::{EngineHandle, Job, Out, Params};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

/// What the handlers share.
#[derive(Debug)]
pub struct Served {
    pub engine: EngineHandle,
    /// The model's name in `/v1/models` and in replies (the file's stem).
    pub model_id: String,
    /// Requests decoded together, and tokens of context for each (`/props`).
    pub slots: usize,
    pub ctx: u32,
    pub next_id: AtomicU64,
}

pub fn router(served: Arc<Served>) -> Router {
    Router::new()
        .route("/v1/models", get(models))
        .route("/v1/chat/completions", post(chat))
        .route("/health", get(|| async { "ok" }))
        .route("/props", get(props))
        .with_state(served)
}

/// An error in OpenAI's shape.
fn error(status: StatusCode, message: &str) -> Response {
    let kind = if status.is_client_error() {
        "invalid_request_error"
    } else {
        "server_error"
    };
    let body = json!({"error": {"message": message, "type": kind, "code": status.as_u16()}});
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

async fn models(State(served): State<Arc<Served>>) -> Response {
    axum::Json(json!({
        "object": "list",
        "data": [{"id": served.model_id, "object": "model", "created": now(), "owned_by": "flotilla"}],
    }))
    .into_response()
}

/// What llama.cpp's server says at `/props`, in its names: how many requests it decodes at
/// once (a pool sends it that many), and each one's context.
async fn props(State(served): State<Arc<Served>>) -> Response {
    axum::Json(json!({
        "total_slots": served.slots,
        "default_generation_settings": {"n_ctx": served.ctx},
        "model_path": served.model_id,
    }))
    .into_response()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A chat request's fields, checked.
#[derive(Debug, PartialEq)]
pub struct ChatBody {
    pub messages: Vec<(String, String)>,
    pub params: Params,
    pub stream: bool,
}

/// Reads a `/v1/chat/completions` body; the error says which field is wrong.
pub fn parse_body(bytes: &[u8]) -> Result<ChatBody, String> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the body is not JSON: {e}"))?;
    let Some(object) = value.as_object() else {
        return Err("the body is not a JSON object".into());
    };
    let messages = parse_messages(object.get("messages"))?;
    let number = |key: &str| -> Result<Option<f64>, String> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .filter(|x| x.is_finite())
                .map(Some)
                .ok_or_else(|| format!("\"{key}\" must be a number")),
        }
    };
    if let Some(n) = number("n")?
        && n != 1.0
    {
        return Err("only n = 1 is supported".into());
    }
    let max_tokens = match number("max_completion_tokens")?.or(number("max_tokens")?) {
        Some(m) if m >= 1.0 && m.fract() == 0.0 && m <= f64::from(u32::MAX) => Some(m as u32),
        Some(_) => return Err("\"max_tokens\" must be a positive whole number".into()),
        None => None,
    };
    let temperature = number("temperature")?.unwrap_or(0.8);
    if !(0.0..=2.0).contains(&temperature) {
        return Err("\"temperature\" must be between 0 and 2".into());
    }
    let top_p = number("top_p")?.unwrap_or(0.95);
    if !(0.0..=1.0).contains(&top_p) {
        return Err("\"top_p\" must be between 0 and 1".into());
    }
    let seed = parse_seed(object.get("seed"))?;
    let stop = parse_stop(object.get("stop"))?;
    let stream = match object.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err("\"stream\" must be true or false".into()),
    };
    Ok(ChatBody {
        messages,
        params: Params {
            max_tokens,
            temperature: temperature as f32,
            top_p: top_p as f32,
            seed,
            stop,
        },
        stream,
    })
}

/// `messages`: roles (`developer` read as `system`) and their text; content parts give their
/// text parts in order.
fn parse_messages(list: Option<&Value>) -> Result<Vec<(String, String)>, String> {
    let Some(list) = list.and_then(Value::as_array) else {
        return Err("\"messages\" must be an array of {role, content}".into());
    };
    if list.is_empty() {
        return Err("\"messages\" is empty".into());
    }
    let mut messages = Vec::new();
    for (i, m) in list.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str);
        let Some(role @ ("system" | "user" | "assistant" | "developer" | "tool")) = role else {
            return Err(format!(
                "messages[{i}].role must be system, user or assistant"
            ));
        };
        let role = if role == "developer" { "system" } else { role };
        let content = match m.get("content") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(Value::Array(parts)) => parts
                .iter()
                .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(""),
            Some(_) => return Err(format!("messages[{i}].content must be a string")),
        };
        messages.push((role.to_owned(), content));
    }
    Ok(messages)
}

/// `seed`: seeds wider than llama.cpp's 32 bits keep their low bits.
fn parse_seed(seed: Option<&Value>) -> Result<Option<u32>, String> {
    match seed {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(|s| s as u32)
            .or_else(|| v.as_u64().map(|s| s as u32))
            .map(Some)
            .ok_or_else(|| "\"seed\" must be a whole number".into()),
    }
}

/// `stop`: a string or an array of strings.
fn parse_stop(stop: Option<&Value>) -> Result<Vec<String>, String> {
    let wrong = || "\"stop\" must be a string or an array of strings".to_owned();
    match stop {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|s| s.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(wrong),
        Some(_) => Err(wrong()),
    }
}

async fn chat(State(served): State<Arc<Served>>, body: Bytes) -> Response {
    let request = match parse_body(&body) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let (out, mut replies) = mpsc::unbounded_channel();
    let job = Job {
        messages: request.messages,
        params: request.params,
        out,
    };
    if !served.engine.submit(job) {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the decode loop has stopped; restart flotilla serve",
        );
    }
    // The first answer says whether the request is queued.
    match replies.recv().await {
        Some(Out::Queued { .. }) => {}
        Some(Out::Refused { status, message }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            return error(status, &message);
        }
        Some(other) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("the engine answered out of order: {other:?}"),
            );
        }
        None => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the decode loop stopped before answering",
            );
        }
    }
    let id = format!(
        "chatcmpl-{}",
        served.next_id.fetch_add(1, Ordering::Relaxed)
    );
    let head = Head {
        id,
        created: now(),
        model: served.model_id.clone(),
    };
    if request.stream {
        stream(head, replies)
    } else {
        whole(head, replies).await
    }
}

/// The fields every reply of one request repeats.
#[derive(Debug, Clone)]
struct Head {
    id: String,
    created: u64,
    model: String,
}

fn usage(prompt: usize, completion: u32) -> Value {
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt as u64 + u64::from(completion),
    })
}

async fn whole(head: Head, mut replies: mpsc::UnboundedReceiver<Out>) -> Response {
    let mut text = String::new();
    while let Some(out) = replies.recv().await {
        match out {
            Out::Text(t) => text.push_str(&t),
            Out::End {
                finish_reason,
                prompt_tokens,
                completion_tokens,
            } => {
                return axum::Json(json!({
                    "id": head.id,
                    "object": "chat.completion",
                    "created": head.created,
                    "model": head.model,
                    "choices": [{
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": finish_reason,
                    }],
                    "usage": usage(prompt_tokens, completion_tokens),
                }))
                .into_response();
            }
            Out::Failed(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e),
            Out::Queued { .. } | Out::Refused { .. } => {}
        }
    }
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the decode loop stopped in the middle of the reply",
    )
}

fn chunk(head: &Head, delta: Value, finish: Option<&str>, usage: Option<Value>) -> Bytes {
    let mut value = json!({
        "id": head.id,
        "object": "chat.completion.chunk",
        "created": head.created,
        "model": head.model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    });
    if let Some(u) = usage {
        value["usage"] = u;
    }
    Bytes::from(format!("data: {value}\n\n"))
}

/// Server-sent events: a first chunk with the role, one per piece of text, a last one with the
/// finish reason and usage, then `[DONE]`. A failure is an `error` object, without `[DONE]`.
fn stream(head: Head, replies: mpsc::UnboundedReceiver<Out>) -> Response {
    let first = chunk(
        &head,
        json!({"role": "assistant", "content": ""}),
        None,
        None,
    );
    let state = (Some(first), replies, head, false);
    let events =
        futures_util::stream::unfold(state, |(first, mut replies, head, over)| async move {
            if let Some(first) = first {
                return Some((
                    Ok::<_, std::convert::Infallible>(first),
                    (None, replies, head, over),
                ));
            }
            if over {
                return None;
            }
            loop {
                let bytes = match replies.recv().await? {
                    Out::Text(t) => chunk(&head, json!({"content": t}), None, None),
                    Out::End {
                        finish_reason,
                        prompt_tokens,
                        completion_tokens,
                    } => {
                        let mut last = chunk(
                            &head,
                            json!({}),
                            Some(finish_reason),
                            Some(usage(prompt_tokens, completion_tokens)),
                        )
                        .to_vec();
                        last.extend_from_slice(b"data: [DONE]\n\n");
                        return Some((Ok(Bytes::from(last)), (None, replies, head, true)));
                    }
                    Out::Failed(e) => {
                        let value = json!({"error": {"message": e, "type": "server_error"}});
                        let bytes = Bytes::from(format!("data: {value}\n\n"));
                        return Some((Ok(bytes), (None, replies, head, true)));
                    }
                    Out::Queued { .. } | Out::Refused { .. } => continue,
                };
                return Some((Ok(bytes), (None, replies, head, over)));
            }
        });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(events))
        .unwrap_or_else(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "cannot build the stream"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chat_body_is_read_with_openai_defaults_and_forms() {
        let body = br#"{"model":"x","messages":[{"role":"system","content":"be brief"},
            {"role":"user","content":[{"type":"text","text":"hi "},{"type":"text","text":"there"}]}],
            "max_tokens":16,"temperature":0,"seed":-1,"stop":"```","stream":true}"#;
        let parsed = parse_body(body).unwrap();
        assert_eq!(
            parsed.messages,
            [
                ("system".to_owned(), "be brief".to_owned()),
                ("user".to_owned(), "hi there".to_owned())
            ]
        );
        assert_eq!(parsed.params.max_tokens, Some(16));
        assert_eq!(parsed.params.temperature, 0.0);
        assert_eq!(parsed.params.seed, Some(u32::MAX));
        assert_eq!(parsed.params.stop, ["```"]);
        assert!(parsed.stream);
        let defaults = parse_body(br#"{"messages":[{"role":"user","content":"x"}]}"#).unwrap();
        assert_eq!(defaults.params.max_tokens, None);
        assert!(!defaults.stream);
    }

    #[test]
    fn a_bad_body_names_the_field() {
        for (body, says) in [
            (&b"{"[..], "not JSON"),
            (br#"{"messages":[]}"#, "empty"),
            (
                br#"{"messages":[{"role":"robot","content":"x"}]}"#,
                "messages[0].role",
            ),
            (
                br#"{"messages":[{"role":"user","content":"x"}],"max_tokens":0}"#,
                "max_tokens",
            ),
            (
                br#"{"messages":[{"role":"user","content":"x"}],"temperature":"hot"}"#,
                "temperature",
            ),
            (
                br#"{"messages":[{"role":"user","content":"x"}],"stop":[1]}"#,
                "stop",
            ),
            (
                br#"{"messages":[{"role":"user","content":"x"}],"n":2}"#,
                "n = 1",
            ),
        ] {
            let e = parse_body(body).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
    }
}
