//! What differs between the servers' wire formats, behind one trait: OpenAI's (SSE; also
//! what llama.cpp, vLLM, LM Studio and flotilla's own engine speak) and Ollama's (NDJSON).
//! The provider does the rest (slots, retries, timeouts, limits) the same way for both.

use super::request::{ChatRequest, Chunk};
use super::{ProviderError, lines, ollama, openai, sse};
use serde_json::Value;

/// A wire format: where to send, what to send, and how to read what comes back.
pub trait WireFormat: Send + Sync {
    /// The chat endpoint, relative to the base URL.
    fn chat_path(&self) -> &'static str;
    /// The endpoint listing the models, relative to the base URL.
    fn models_path(&self) -> &'static str;
    fn request_body(&self, req: &ChatRequest) -> Value;
    /// A reader for one streamed answer.
    fn decoder(&self) -> Box<dyn Decoder>;
    /// An answer sent whole, as one JSON document (a server that ignored `stream: true`).
    fn parse_whole(&self, text: &str) -> Result<Chunk, ProviderError>;
    fn parse_models(&self, body: &Value) -> Vec<String>;
}

/// Turns the bytes of a stream, as they arrive, into chunks.
pub trait Decoder: Send {
    fn push(&mut self, bytes: &[u8]) -> Vec<Result<Chunk, ProviderError>>;
    /// What is left once the stream ends.
    fn finish(&mut self) -> Vec<Result<Chunk, ProviderError>>;
}

/// OpenAI's chat completions, streamed as server-sent events.
pub struct OpenAi;

impl WireFormat for OpenAi {
    fn chat_path(&self) -> &'static str {
        "chat/completions"
    }

    fn models_path(&self) -> &'static str {
        "models"
    }

    fn request_body(&self, req: &ChatRequest) -> Value {
        openai::request_body(req)
    }

    fn decoder(&self) -> Box<dyn Decoder> {
        Box::new(SseDecoder::default())
    }

    fn parse_whole(&self, text: &str) -> Result<Chunk, ProviderError> {
        openai::parse_chunk(text)
    }

    fn parse_models(&self, body: &Value) -> Vec<String> {
        openai::parse_models(body)
    }
}

#[derive(Default)]
struct SseDecoder(sse::SseParser);

impl Decoder for SseDecoder {
    fn push(&mut self, bytes: &[u8]) -> Vec<Result<Chunk, ProviderError>> {
        self.0.push(bytes).iter().map(sse_chunk).collect()
    }

    fn finish(&mut self) -> Vec<Result<Chunk, ProviderError>> {
        self.0.finish().iter().map(sse_chunk).collect()
    }
}

fn sse_chunk(event: &sse::SseEvent) -> Result<Chunk, ProviderError> {
    if event.event.as_deref() == Some("error") {
        let value: Value =
            serde_json::from_str(&event.data).unwrap_or(Value::String(event.data.clone()));
        let err = value.get("error").unwrap_or(&value);
        return Err(ProviderError::Server(openai::error_message(err)));
    }
    openai::parse_chunk(&event.data)
}

/// Ollama's chat API, streamed as one JSON object a line.
pub struct Ollama;

impl WireFormat for Ollama {
    fn chat_path(&self) -> &'static str {
        "api/chat"
    }

    fn models_path(&self) -> &'static str {
        "api/tags"
    }

    fn request_body(&self, req: &ChatRequest) -> Value {
        ollama::request_body(req)
    }

    fn decoder(&self) -> Box<dyn Decoder> {
        Box::new(NdjsonDecoder::default())
    }

    fn parse_whole(&self, text: &str) -> Result<Chunk, ProviderError> {
        ollama::parse_line(text)
    }

    fn parse_models(&self, body: &Value) -> Vec<String> {
        ollama::parse_models(body)
    }
}

#[derive(Default)]
struct NdjsonDecoder(lines::LineBuffer);

impl Decoder for NdjsonDecoder {
    fn push(&mut self, bytes: &[u8]) -> Vec<Result<Chunk, ProviderError>> {
        self.0
            .push(bytes)
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| ollama::parse_line(l))
            .collect()
    }

    fn finish(&mut self) -> Vec<Result<Chunk, ProviderError>> {
        self.0
            .finish()
            .iter()
            .map(|l| ollama::parse_line(l))
            .collect()
    }
}
