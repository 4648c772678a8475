//! Replies to temperature-0 requests, kept to answer the very same request again without
//! asking the server. `flotilla eval` turns this on: its one-shot request and the pipeline's
//! temperature-0 candidate are the same request, so the pipeline is compared with the one-shot
//! reply itself. A server decoding several sequences in one batch does not repeat a greedy reply
//! bit for bit, and without the memo "the pipeline lost a task one call solved" could be that
//! noise rather than the pipeline.

use super::ChatReply;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The most replies kept; the oldest goes first.
pub const CAPACITY: usize = 4096;

#[derive(Debug, Default)]
pub struct GreedyMemo {
    kept: Mutex<Kept>,
    hits: AtomicUsize,
}

#[derive(Debug, Default)]
struct Kept {
    replies: HashMap<String, ChatReply>,
    order: VecDeque<String>,
}

impl GreedyMemo {
    /// The key of a request body that a memo may answer: only greedy ones (temperature 0).
    pub fn key(body: &Value) -> Option<String> {
        let greedy = body
            .get("temperature")
            .or_else(|| body.get("options").and_then(|o| o.get("temperature")))
            .and_then(Value::as_f64)
            == Some(0.0);
        greedy.then(|| body.to_string())
    }

    /// The reply given before to the request with this key.
    pub fn get(&self, key: &str) -> Option<ChatReply> {
        let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let reply = kept.replies.get(key).cloned();
        if reply.is_some() {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        reply
    }

    /// Keeps a reply the server finished; a reply cut short or empty is not kept, so asking
    /// again can still get a whole one.
    pub fn put(&self, key: String, reply: &ChatReply) {
        if !reply.finished || reply.cut || reply.text.trim().is_empty() {
            return;
        }
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        if kept.replies.contains_key(&key) {
            return;
        }
        while kept.order.len() >= CAPACITY {
            match kept.order.pop_front() {
                Some(old) => {
                    kept.replies.remove(&old);
                }
                None => break,
            }
        }
        kept.order.push_back(key.clone());
        kept.replies.insert(key, reply.clone());
    }

    /// How many requests were answered from the memo.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reply(text: &str) -> ChatReply {
        ChatReply {
            text: text.to_owned(),
            finished: true,
            ..ChatReply::default()
        }
    }

    #[test]
    fn only_greedy_requests_have_a_key() {
        assert!(GreedyMemo::key(&json!({"temperature": 0.0, "messages": []})).is_some());
        assert!(GreedyMemo::key(&json!({"options": {"temperature": 0.0}})).is_some());
        assert!(GreedyMemo::key(&json!({"temperature": 0.7, "seed": 1})).is_none());
        assert!(GreedyMemo::key(&json!({"messages": []})).is_none());
    }

    #[test]
    fn the_same_request_gets_the_same_reply_and_another_request_none() {
        let memo = GreedyMemo::default();
        let a = GreedyMemo::key(&json!({"temperature": 0.0, "m": "a"})).unwrap_or_default();
        let b = GreedyMemo::key(&json!({"temperature": 0.0, "m": "b"})).unwrap_or_default();
        memo.put(a.clone(), &reply("def f(): pass"));
        assert_eq!(memo.get(&a).map(|r| r.text), Some("def f(): pass".into()));
        assert_eq!(memo.get(&b), None);
        assert_eq!(memo.hits(), 1);
    }

    #[test]
    fn unfinished_cut_or_empty_replies_are_not_kept() {
        let memo = GreedyMemo::default();
        let mut unfinished = reply("def f(");
        unfinished.finished = false;
        let mut cut = reply("x");
        cut.cut = true;
        for (k, r) in [("1", unfinished), ("2", cut), ("3", reply("  \n"))] {
            memo.put(k.to_owned(), &r);
            assert_eq!(memo.get(k), None, "{k}");
        }
    }

    #[test]
    fn the_oldest_reply_goes_when_the_memo_is_full() {
        let memo = GreedyMemo::default();
        for i in 0..=CAPACITY {
            memo.put(i.to_string(), &reply("r"));
        }
        assert!(memo.get("0").is_none());
        assert!(memo.get("1").is_some());
        assert!(memo.get(&CAPACITY.to_string()).is_some());
    }
}
