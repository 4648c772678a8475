//! A scripted loopback model server speaking the exact wire formats of the real ones: the
//! OpenAI-compatible SSE stream as llama.cpp's Python server sends it (CRLF event lines, pings,
//! chunked transfer encoding), and Ollama's NDJSON. For fault cases a real server won't produce
//! on demand: refusals, 429s, 5xx, errors mid-stream, garbage, stalls.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server was asked.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub body: serde_json::Value,
}

/// Which of flotilla's prompts a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Naming,
    Plan,
    Code,
    Tests,
    Fix,
    Review,
    Other,
}

impl Request {
    /// True for flotilla's naming prompt.
    pub fn is_naming(&self) -> bool {
        self.role() == Role::Naming
    }

    /// Tells the prompts apart by their system messages (`assets/prompts/`).
    pub fn role(&self) -> Role {
        let system = self.body["messages"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["role"] == "system"))
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default();
        if system.contains("You name programming tasks") {
            Role::Naming
        } else if system.contains("planning a small coding task") {
            Role::Plan
        } else if system.contains("Write complete, working code") {
            Role::Code
        } else if system.contains("who writes unit tests") {
            Role::Tests
        } else if system.contains("fixing code whose tests fail") {
            Role::Fix
        } else if system.contains("reviewing failing tests") {
            Role::Review
        } else {
            Role::Other
        }
    }

    /// The last user message.
    pub fn last_user(&self) -> String {
        self.body["messages"]
            .as_array()
            .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_owned()
    }
}

/// How to answer one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Stream these text pieces, `delay` apart, in the provider's wire format.
    Text {
        pieces: Vec<String>,
        delay: Duration,
    },
    /// A plain HTTP answer.
    Status {
        code: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Stream these pieces, then an error object mid-stream.
    ErrorMidStream {
        pieces: Vec<String>,
        message: String,
    },
    /// Raw bytes as the streamed body (garbage).
    Raw(String),
    /// Send headers, then nothing, forever.
    Stall,
    /// Close the connection without answering.
    Hangup,
    /// Stream these pieces, then end the body cleanly but with no finish reason and no end
    /// marker (`[DONE]`, `done: true`): a server that died mid-reply behind a proxy.
    Truncated(Vec<String>),
}

impl Reply {
    pub fn text(text: &str) -> Self {
        // Split into small pieces so the client sees a real stream.
        let pieces = text.split_inclusive(' ').map(str::to_owned).collect();
        Self::Text {
            pieces,
            delay: Duration::from_millis(2),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    OpenAi,
    Ollama,
}

type Script = dyn Fn(&Request, usize) -> Reply + Send + Sync;

/// A running scripted server; dropped, it stops.
pub struct MockServer {
    pub port: u16,
    pub wire: Wire,
    pub requests: Arc<Mutex<Vec<Request>>>,
    /// What it says of itself, and how busy it is.
    pub about: Arc<About>,
    task: tokio::task::JoinHandle<()>,
}

/// What a scripted server lists and how busy it has been.
#[derive(Debug, Default)]
pub struct About {
    /// The models its list names (`smollm2` when empty).
    pub models: Mutex<Vec<String>>,
    /// `total_slots` in its `/props` (llama.cpp's server); no `/props` when unset.
    pub total_slots: Mutex<Option<usize>>,
    /// Chat requests being answered now, and the most there were at once.
    pub active: std::sync::atomic::AtomicUsize,
    pub peak: std::sync::atomic::AtomicUsize,
    /// `prompt_eval_count` in Ollama's last line (20 when unset): what Ollama says of a
    /// prompt it cut to its `num_ctx`.
    pub prompt_eval_count: Mutex<Option<u64>>,
}

/// Counts a chat request as being answered while it lives.
struct Active(Arc<About>);

impl Active {
    fn new(about: &Arc<About>) -> Self {
        use std::sync::atomic::Ordering::SeqCst;
        let now = about.active.fetch_add(1, SeqCst) + 1;
        about.peak.fetch_max(now, SeqCst);
        Self(Arc::clone(about))
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.0
            .active
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MockServer {
    /// Starts a server whose chat answers come from `script(request, n)`, `n` counting requests.
    pub async fn start(
        wire: Wire,
        script: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let port = listener.local_addr().expect("local addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Script> = Arc::new(script);
        let seen = Arc::clone(&requests);
        let about = Arc::new(About::default());
        let told = Arc::clone(&about);
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    break;
                };
                let script = Arc::clone(&script);
                let seen = Arc::clone(&seen);
                let about = Arc::clone(&told);
                // Dropping the server (its task aborted) ends every connection it has open.
                connections.spawn(async move {
                    let _ = serve(stream, wire, script, seen, about).await;
                });
            }
        });
        Self {
            port,
            wire,
            requests,
            about,
            task,
        }
    }

    /// The `base_url` a config should use.
    pub fn base_url(&self) -> String {
        match self.wire {
            Wire::OpenAi => format!("http://127.0.0.1:{}/v1", self.port),
            Wire::Ollama => format!("http://127.0.0.1:{}", self.port),
        }
    }

    pub fn chat_requests(&self) -> Vec<Request> {
        self.requests
            .lock()
            .map(|r| r.iter().filter(|r| r.method == "POST").cloned().collect())
            .unwrap_or_default()
    }
}

pub const PLAN: &str =
    "Language: python\nFunctions:\n- add(a, b) -> int\nEdge cases:\n- zero\n- negative numbers\n";
pub const GOOD_CODE: &str =
    "Here is the code:\n```python\ndef add(a, b):\n    return a + b\n```\nIt adds two numbers.";
pub const BAD_CODE: &str = "```python\ndef add(a, b):\n    return a - b\n```";
pub const TESTS: &str = "```python\nfrom solution import *\n\ndef test_add():\n    assert add(2, 3) == 5\n\ndef test_zero():\n    assert add(0, 0) == 0\n\ndef test_negative():\n    assert add(-1, -1) == -2\n```";

/// The name a naming request gets from the default script.
pub fn name_for(req: &Request) -> Reply {
    let task = req.last_user().to_lowercase();
    let name = if task.contains("email") {
        "email-validator"
    } else if task.contains("rest") {
        "rest-client"
    } else {
        "some-task"
    };
    Reply::text(name)
}

/// A script that names workflows, then answers every other request with `reply`.
pub fn named_then(reply: Reply) -> impl Fn(&Request, usize) -> Reply + Send + Sync + 'static {
    move |req: &Request, _| {
        if req.is_naming() {
            name_for(req)
        } else {
            reply.clone()
        }
    }
}

/// The default script: names from a table, a plan, correct code and passing tests.
pub fn namer_and_coder(req: &Request, _n: usize) -> Reply {
    match req.role() {
        Role::Naming => name_for(req),
        Role::Plan => Reply::text(PLAN),
        Role::Tests => Reply::text(TESTS),
        Role::Review => Reply::text("CODE: add subtracts"),
        Role::Code | Role::Fix | Role::Other => Reply::text(GOOD_CODE),
    }
}

async fn serve(
    mut stream: TcpStream,
    wire: Wire,
    script: Arc<Script>,
    seen: Arc<Mutex<Vec<Request>>>,
    about: Arc<About>,
) -> std::io::Result<()> {
    loop {
        let Some(request) = read_request(&mut stream).await? else {
            return Ok(());
        };
        let n = {
            let mut seen = seen.lock().map_err(|_| std::io::Error::other("poisoned"))?;
            seen.push(request.clone());
            seen.iter()
                .filter(|r| r.method == "POST")
                .count()
                .saturating_sub(1)
        };
        match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/v1/models") => {
                let listed = about.models.lock().map(|m| m.clone()).unwrap_or_default();
                let body = if listed.is_empty() {
                    r#"{"object":"list","data":[{"id":"smollm2","object":"model","owned_by":"me","permissions":[]}]}"#.to_owned()
                } else {
                    let data: Vec<serde_json::Value> = listed
                        .iter()
                        .map(|m| serde_json::json!({"id": m, "object": "model", "owned_by": "me"}))
                        .collect();
                    serde_json::json!({"object": "list", "data": data}).to_string()
                };
                plain(&mut stream, 200, &[], "application/json", &body).await?;
            }
            ("GET", "/props") if about.total_slots.lock().is_ok_and(|s| s.is_some()) => {
                let slots = about.total_slots.lock().ok().and_then(|s| *s).unwrap_or(1);
                let body = serde_json::json!({"total_slots": slots, "default_generation_settings": {"n_ctx": 4096}});
                plain(&mut stream, 200, &[], "application/json", &body.to_string()).await?;
            }
            ("GET", "/api/tags") => {
                let body =
                    r#"{"models":[{"name":"smollm2:latest","model":"smollm2:latest","size":1}]}"#;
                plain(
                    &mut stream,
                    200,
                    &[],
                    "application/json; charset=utf-8",
                    body,
                )
                .await?;
            }
            ("POST", "/v1/chat/completions" | "/api/chat") => {
                let reply = script(&request, if request.method == "POST" { n } else { 0 });
                if matches!(reply, Reply::Hangup) {
                    return Ok(());
                }
                let _active = Active::new(&about);
                answer(&mut stream, wire, reply, &about).await?;
                // The connection stays open for the next request, as uvicorn keeps it.
            }
            _ => {
                plain(
                    &mut stream,
                    404,
                    &[],
                    "application/json",
                    r#"{"detail":"Not Found"}"#,
                )
                .await?
            }
        }
    }
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let mut lines = head.lines();
    let mut first = lines.next().unwrap_or_default().split_whitespace();
    let method = first.next().unwrap_or_default().to_owned();
    let path = first.next().unwrap_or_default().to_owned();
    let length = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while buf.len() < header_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = serde_json::from_slice(&buf[header_end..]).unwrap_or(serde_json::Value::Null);
    Ok(Some(Request { method, path, body }))
}

async fn plain(
    stream: &mut TcpStream,
    code: u16,
    headers: &[(String, String)],
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {code} {}\r\ndate: Wed, 25 Nov 2026 12:00:00 GMT\r\nserver: uvicorn\r\ncontent-length: {}\r\ncontent-type: {content_type}\r\n",
        reason(code),
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.flush().await
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

async fn chunk(stream: &mut TcpStream, data: &str) -> std::io::Result<()> {
    stream
        .write_all(format!("{:x}\r\n{data}\r\n", data.len()).as_bytes())
        .await?;
    stream.flush().await
}

async fn answer(
    stream: &mut TcpStream,
    wire: Wire,
    reply: Reply,
    about: &About,
) -> std::io::Result<()> {
    let pieces_and_error = match reply {
        Reply::Status {
            code,
            headers,
            body,
        } => return plain(stream, code, &headers, "application/json", &body).await,
        Reply::Text { pieces, delay } => (pieces, None, delay, false),
        Reply::ErrorMidStream { pieces, message } => {
            (pieces, Some(message), Duration::from_millis(1), false)
        }
        Reply::Truncated(pieces) => (pieces, None, Duration::from_millis(1), true),
        Reply::Raw(text) => {
            start_stream(stream, wire).await?;
            chunk(stream, &text).await?;
            return stream.write_all(b"0\r\n\r\n").await;
        }
        Reply::Hangup => return Ok(()),
        Reply::Stall => {
            start_stream(stream, wire).await?;
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return Ok(());
        }
    };
    let (pieces, error, delay, truncated) = pieces_and_error;
    start_stream(stream, wire).await?;
    match wire {
        Wire::OpenAi => {
            let head = r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1764072000,"model":"smollm2","choices":[{"index":0,"delta":{"role":"assistant"},"logprobs":null,"finish_reason":null}]}"#;
            chunk(stream, &format!("data: {head}\r\n\r\n")).await?;
            chunk(stream, ": ping - 2026-11-25 12:00:00.000000+00:00\r\n\r\n").await?;
            for piece in &pieces {
                tokio::time::sleep(delay).await;
                let body = serde_json::json!({
                    "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1764072000, "model": "smollm2",
                    "choices": [{"index": 0, "delta": {"content": piece}, "logprobs": null, "finish_reason": null}]
                });
                chunk(stream, &format!("data: {body}\r\n\r\n")).await?;
            }
            if let Some(message) = error {
                let body = serde_json::json!({"error": {"message": message, "type": "server_error", "code": 500}});
                chunk(stream, &format!("data: {body}\r\n\r\n")).await?;
            } else if !truncated {
                let last = r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1764072000,"model":"smollm2","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}"#;
                chunk(stream, &format!("data: {last}\r\n\r\n")).await?;
                chunk(stream, "data: [DONE]\r\n\r\n").await?;
            }
        }
        Wire::Ollama => {
            for piece in &pieces {
                tokio::time::sleep(delay).await;
                let body = serde_json::json!({
                    "model": "smollm2", "created_at": "2026-11-25T12:00:00.000000Z",
                    "message": {"role": "assistant", "content": piece}, "done": false
                });
                chunk(stream, &format!("{body}\n")).await?;
            }
            if let Some(message) = error {
                chunk(
                    stream,
                    &format!("{}\n", serde_json::json!({"error": message})),
                )
                .await?;
            } else if !truncated {
                let last = serde_json::json!({
                    "model": "smollm2", "created_at": "2026-11-25T12:00:01.000000Z",
                    "message": {"role": "assistant", "content": ""}, "done_reason": "stop", "done": true,
                    "total_duration": 1000, "load_duration": 10,
                    "prompt_eval_count": about.prompt_eval_count.lock().ok().and_then(|n| *n).unwrap_or(20),
                    "prompt_eval_duration": 100, "eval_count": pieces.len(), "eval_duration": 500
                });
                chunk(stream, &format!("{last}\n")).await?;
            }
        }
    }
    stream.write_all(b"0\r\n\r\n").await?;
    stream.flush().await
}

async fn start_stream(stream: &mut TcpStream, wire: Wire) -> std::io::Result<()> {
    let content_type = match wire {
        Wire::OpenAi => "text/event-stream; charset=utf-8",
        Wire::Ollama => "application/x-ndjson",
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\ndate: Wed, 25 Nov 2026 12:00:00 GMT\r\nserver: uvicorn\r\ncache-control: no-store\r\nconnection: keep-alive\r\nx-accel-buffering: no\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    stream.flush().await
}
