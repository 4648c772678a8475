//! One request on the wire: sending it (with retries on refusals, 429 and 5xx) and reading
//! its answer as it streams in, bounded in size and time.

use super::{
    ChatReply, MAX_RETRY_AFTER, Provider, ProviderError, apply, error_body, retry_after, root_cause,
};
use futures_util::StreamExt;
use tokio::time::timeout;

impl Provider {
    pub(super) async fn send_with_retries(
        &self,
        url: &str,
        body: &serde_json::Value,
    ) -> Result<reqwest::Response, ProviderError> {
        let stall = self.settings.stall_timeout;
        let mut attempt = 0u32;
        loop {
            let mut request = self.http.post(url).json(body);
            if let Some(key) = &self.settings.api_key {
                request = request.bearer_auth(key);
            }
            let backoff = self.settings.retry_backoff * 2u32.saturating_pow(attempt);
            let (error, delay) = match timeout(stall, request.send()).await {
                Err(_) => {
                    return Err(ProviderError::Timeout(format!(
                        "{url} did not answer within {}s",
                        stall.as_secs_f64()
                    )));
                }
                Ok(Err(e)) if e.is_connect() => (
                    ProviderError::Connect {
                        url: url.to_owned(),
                        reason: root_cause(&e),
                    },
                    backoff,
                ),
                Ok(Err(e)) if e.is_timeout() => (
                    ProviderError::Timeout(format!("connecting to {url} timed out")),
                    backoff,
                ),
                Ok(Err(e)) if e.is_builder() => {
                    return Err(ProviderError::Request {
                        url: url.to_owned(),
                        reason: root_cause(&e),
                    });
                }
                // The connection dropped before any answer (a pooled keep-alive connection the
                // server had just closed, a reset): nothing was received, so asking again is safe.
                Ok(Err(e)) => (
                    ProviderError::Request {
                        url: url.to_owned(),
                        reason: root_cause(&e),
                    },
                    backoff,
                ),
                Ok(Ok(resp)) if resp.status().is_success() => return Ok(resp),
                Ok(Ok(resp)) => {
                    let status = resp.status().as_u16();
                    let retry_after = retry_after(&resp);
                    let message = error_body(resp).await;
                    let error = ProviderError::Http {
                        status,
                        url: url.to_owned(),
                        message,
                    };
                    match status {
                        // Too many requests, or a server error that may pass.
                        429 | 500 | 502 | 503 | 504 => {
                            (error, retry_after.unwrap_or(backoff).min(MAX_RETRY_AFTER))
                        }
                        _ => return Err(error),
                    }
                }
            };
            if attempt >= self.settings.max_retries {
                return Err(error);
            }
            tracing::debug!(%url, attempt, ?delay, %error, "retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    pub(super) async fn read_stream(
        &self,
        url: &str,
        response: reqwest::Response,
        limit: usize,
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<ChatReply, ProviderError> {
        let stall = self.settings.stall_timeout;
        let is_json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        let mut reply = ChatReply::default();
        let wire = self.settings.kind().wire();
        let mut decoder = wire.decoder();
        let mut stream = response.bytes_stream();
        let mut whole = Vec::new();
        let mut done = false;
        while !done {
            let next = timeout(stall, stream.next()).await.map_err(|_| {
                ProviderError::Timeout(format!(
                    "the stream from {url} stalled for {}s",
                    stall.as_secs_f64()
                ))
            })?;
            let Some(bytes) = next else { break };
            let bytes = bytes.map_err(|e| ProviderError::Request {
                url: url.to_owned(),
                reason: format!("the stream broke: {}", root_cause(&e)),
            })?;
            if is_json {
                whole.extend_from_slice(&bytes);
                if whole.len() > limit {
                    return Err(ProviderError::Protocol(format!(
                        "an answer of more than {limit} bytes, far past max_tokens"
                    )));
                }
                continue;
            }
            for chunk in decoder.push(&bytes) {
                done |= apply(chunk?, &mut reply, on_text);
            }
            if reply.text.len() > limit {
                tracing::warn!(%url, limit, "the reply passed its limit; the rest is not read");
                reply.cut = true;
                reply.finished = true;
                break;
            }
        }
        if is_json {
            // A server that ignored `stream: true` and answered in one piece.
            let text = String::from_utf8_lossy(&whole);
            apply(wire.parse_whole(&text)?, &mut reply, on_text);
            // One whole JSON answer is complete by itself.
            reply.finished = true;
        } else if !done && !reply.cut {
            for chunk in decoder.finish() {
                apply(chunk?, &mut reply, on_text);
            }
        }
        if !reply.finished {
            // A dropped connection or a crashed server looks like the end of a stream; only an
            // end marker says the reply is whole.
            return Err(ProviderError::Request {
                url: url.to_owned(),
                reason: format!(
                    "the server closed the stream early ({} bytes of text, no end marker)",
                    reply.text.len()
                ),
            });
        }
        Ok(reply)
    }
}
