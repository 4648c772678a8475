//! What a chat request carries and what comes back: messages, the request, the pieces of a
//! stream, the whole reply and its token counts, and a request's place in a provider's queue.

use serde::Serialize;

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub role: &'static str,
    pub content: String,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: "system",
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: "user",
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: "assistant",
            content: content.into(),
        }
    }
}

/// A chat completion to stream.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<Message>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
    /// Fixes the sampling of a request with a temperature above 0, so a run can be repeated.
    pub seed: Option<u64>,
    /// Texts that end the reply where they appear (not included in it).
    pub stop: Vec<String>,
    /// Served before waiting ordinary requests when the provider's slots are all taken.
    pub urgent: bool,
}

/// One interpreted piece of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chunk {
    /// More text (possibly empty), and token counts `(in, out)` when the server sent them.
    Delta {
        text: String,
        tokens: Option<(u64, u64)>,
    },
    /// The last piece (Ollama's `done: true`).
    Last {
        text: String,
        tokens: Option<(u64, u64)>,
    },
    /// The end marker (`data: [DONE]`).
    Done,
    /// The last piece of text (a non-null `finish_reason`); usage may still follow.
    Finish {
        text: String,
        tokens: Option<(u64, u64)>,
    },
}

/// Where a request is in its provider's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Queue {
    /// Waiting for a slot, with this many requests to be served first.
    Waiting(usize),
    /// Holding a slot: sent, or about to be.
    Served,
    /// Sent again to another server of the pool, because of `why`: the answer starts over.
    Moved {
        from: String,
        to: String,
        why: String,
    },
}

/// A whole streamed reply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatReply {
    pub text: String,
    pub tokens_in: u64,
    pub tokens_out: u64,
    /// Pieces of text streamed; servers send about one token each.
    pub pieces: u64,
    /// The server said the reply was over (a finish reason, `[DONE]`, `done: true`).
    pub finished: bool,
    /// The server sent far more than `max_tokens` allows ([`reply_limit`]); the rest was not
    /// read.
    pub cut: bool,
    /// The reply given before to the very same greedy request ([`super::memo`]), not asked
    /// again.
    pub remembered: bool,
    /// The server of a pool of several that gave it.
    pub server: Option<String>,
}

/// The most text read of one reply: 64 bytes for each token asked for (real tokens are a
/// few characters), at least 64 KiB; 4 MiB when no `max_tokens` was set. A server that
/// ignores `max_tokens` cannot make flotilla hold a reply of any size.
pub fn reply_limit(max_tokens: Option<u32>) -> usize {
    match max_tokens {
        Some(t) => (t as usize).saturating_mul(64).max(64 * 1024),
        None => 4 * 1024 * 1024,
    }
}

impl ChatReply {
    /// Tokens in and out: the server's counts, or estimates (four characters a token in, one
    /// streamed piece a token out) when it sent none.
    pub fn usage(&self, request: &ChatRequest) -> (u64, u64) {
        let tokens_in = if self.tokens_in > 0 {
            self.tokens_in
        } else {
            request
                .messages
                .iter()
                .map(|m| m.content.len() as u64)
                .sum::<u64>()
                .div_ceil(4)
        };
        let tokens_out = if self.tokens_out > 0 {
            self.tokens_out
        } else {
            self.pieces
        };
        (tokens_in, tokens_out)
    }
}
