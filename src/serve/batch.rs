//! Continuous batching, without the model: which requests hold a KV-cache sequence, which wait,
//! and what one decode step feeds.
//!
//! Every step, each generating request feeds its last sampled token (one token each), and the
//! rest of the step's token budget goes to prompts, in chunks, oldest request first, so a long
//! prompt is spread over several steps instead of freezing the others. New requests take a
//! free sequence between steps; one that is cancelled gives its sequence back at once.

use std::collections::VecDeque;

/// A token id, as llama.cpp numbers them.
pub type Token = i32;

/// What one request asks of the engine, apart from the model.
#[derive(Debug)]
pub struct Admitted<R> {
    /// The request's own data (its sampler, its reply channel, …).
    pub request: R,
    /// The whole prompt, tokenized.
    pub prompt: Vec<Token>,
}

/// A request holding a sequence.
#[derive(Debug)]
pub struct Active<R> {
    pub request: R,
    prompt: Vec<Token>,
    /// Prompt tokens already in the KV cache.
    fed: usize,
    /// A sampled token not yet fed back.
    pending: Option<Token>,
    /// The sequence's next position.
    pos: i32,
    /// Tokens sampled so far.
    pub generated: u32,
}

impl<R> Active<R> {
    fn prefilling(&self) -> bool {
        self.fed < self.prompt.len()
    }

    /// Positions used in the sequence (prompt and generated tokens fed so far).
    pub fn used(&self) -> i32 {
        self.pos
    }

    pub fn prompt_len(&self) -> usize {
        self.prompt.len()
    }
}

/// Why a request was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Every sequence is busy and the queue is full.
    QueueFull,
}

/// One token of a step's batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feed {
    pub token: Token,
    pub pos: i32,
    /// The sequence (and slot) it belongs to.
    pub seq: usize,
    /// Whether the model's prediction after this token is wanted (the last token of a prompt,
    /// or a generated token).
    pub logits: bool,
}

#[derive(Debug)]
pub struct Scheduler<R> {
    slots: Vec<Option<Active<R>>>,
    queue: VecDeque<Admitted<R>>,
    queue_limit: usize,
    /// Most tokens one step feeds.
    budget: usize,
    /// The slot whose prompt goes first next step (round robin among prompts).
    next_prompt: usize,
}

impl<R> Scheduler<R> {
    /// `parallel` sequences, at most `queue_limit` requests waiting, `budget` tokens a step.
    pub fn new(parallel: usize, queue_limit: usize, budget: usize) -> Self {
        Self {
            slots: (0..parallel.max(1)).map(|_| None).collect(),
            queue: VecDeque::new(),
            queue_limit,
            budget: budget.max(1),
            next_prompt: 0,
        }
    }

    /// Queues a request (it takes a sequence at the next [`Self::admit`]).
    pub fn submit(&mut self, admitted: Admitted<R>) -> Result<(), (Refused, Admitted<R>)> {
        let free = self.slots.iter().filter(|s| s.is_none()).count();
        if self.queue.len() >= free + self.queue_limit {
            return Err((Refused::QueueFull, admitted));
        }
        self.queue.push_back(admitted);
        Ok(())
    }

    /// Gives waiting requests the free sequences, in the order they came; returns the
    /// sequences taken (their KV cache must be empty before the next step).
    pub fn admit(&mut self) -> Vec<usize> {
        let mut taken = Vec::new();
        for (seq, slot) in self.slots.iter_mut().enumerate() {
            if slot.is_some() {
                continue;
            }
            let Some(next) = self.queue.pop_front() else {
                break;
            };
            *slot = Some(Active {
                request: next.request,
                prompt: next.prompt,
                fed: 0,
                pending: None,
                pos: 0,
                generated: 0,
            });
            taken.push(seq);
        }
        taken
    }

    /// Drops waiting requests for which `gone` holds (a client that left before its turn).
    pub fn drop_waiting(&mut self, mut gone: impl FnMut(&R) -> bool) -> Vec<R> {
        let (left, kept): (Vec<_>, Vec<_>) = self.queue.drain(..).partition(|a| gone(&a.request));
        self.queue = kept.into();
        left.into_iter().map(|a| a.request).collect()
    }

    /// Ends the request on `seq`, freeing the sequence.
    pub fn release(&mut self, seq: usize) -> Option<Active<R>> {
        self.slots.get_mut(seq)?.take()
    }

    /// The active requests, with their sequences.
    pub fn active(&self) -> impl Iterator<Item = (usize, &Active<R>)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(seq, s)| s.as_ref().map(|a| (seq, a)))
    }

    pub fn active_mut(&mut self, seq: usize) -> Option<&mut Active<R>> {
        self.slots.get_mut(seq)?.as_mut()
    }

    pub fn waiting(&self) -> usize {
        self.queue.len()
    }

    pub fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.slots.iter().all(Option::is_none)
    }

    /// Records the token sampled for `seq`, to be fed next step.
    pub fn sampled(&mut self, seq: usize, token: Token) {
        if let Some(a) = self.active_mut(seq) {
            a.pending = Some(token);
            a.generated += 1;
        }
    }

    /// The tokens of the next step: each generating sequence's pending token, then prompt
    /// chunks until the budget is spent. Positions advance as if the step is decoded.
    pub fn plan(&mut self) -> Vec<Feed> {
        let mut feeds = Vec::new();
        for (seq, slot) in self.slots.iter_mut().enumerate() {
            let Some(a) = slot else { continue };
            if let Some(token) = a.pending.take() {
                feeds.push(Feed {
                    token,
                    pos: a.pos,
                    seq,
                    logits: true,
                });
                a.pos += 1;
            }
        }
        let n = self.slots.len();
        let start = self.next_prompt;
        for k in 0..n {
            let seq = (start + k) % n;
            let room = self.budget.saturating_sub(feeds.len());
            if room == 0 {
                break;
            }
            let Some(a) = self.slots[seq].as_mut() else {
                continue;
            };
            if !a.prefilling() {
                continue;
            }
            let end = (a.fed + room).min(a.prompt.len());
            for i in a.fed..end {
                feeds.push(Feed {
                    token: a.prompt[i],
                    pos: a.pos,
                    seq,
                    logits: i + 1 == a.prompt.len(),
                });
                a.pos += 1;
            }
            a.fed = end;
            // A prompt cut short by the budget goes first next step; otherwise the next one does.
            self.next_prompt = if a.prefilling() { seq } else { (seq + 1) % n };
        }
        feeds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(id: u32, prompt_len: usize) -> Admitted<u32> {
        Admitted {
            request: id,
            prompt: (0..prompt_len as i32)
                .map(|t| t + 100 * id as i32)
                .collect(),
        }
    }

    fn by_seq(feeds: &[Feed], seq: usize) -> Vec<Feed> {
        feeds.iter().copied().filter(|f| f.seq == seq).collect()
    }

    #[test]
    fn a_prompt_is_fed_whole_then_one_token_a_step() {
        let mut s = Scheduler::new(2, 4, 64);
        s.submit(req(1, 5)).unwrap();
        assert_eq!(s.admit(), vec![0]);
        let step = s.plan();
        assert_eq!(step.len(), 5);
        assert_eq!(
            step.iter().map(|f| f.pos).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4]
        );
        // Only the prompt's last token asks for logits.
        assert_eq!(step.iter().filter(|f| f.logits).count(), 1);
        assert!(step[4].logits);
        s.sampled(0, 7);
        let step = s.plan();
        assert_eq!(
            step,
            [Feed {
                token: 7,
                pos: 5,
                seq: 0,
                logits: true
            }]
        );
        // Nothing sampled yet: nothing to feed.
        assert!(s.plan().is_empty());
    }

    #[test]
    fn a_long_prompt_is_chunked_and_generation_goes_on_beside_it() {
        let mut s = Scheduler::new(2, 4, 8);
        s.submit(req(1, 3)).unwrap();
        s.admit();
        s.plan();
        s.sampled(0, 50);
        // A prompt of 20 tokens arrives while request 1 generates.
        s.submit(req(2, 20)).unwrap();
        assert_eq!(s.admit(), vec![1]);
        let mut prompt_fed = 0;
        let mut steps = 0;
        loop {
            let step = s.plan();
            assert!(step.len() <= 8, "a step stays within its budget");
            // Request 1 advances every step while the prompt is fed.
            assert_eq!(by_seq(&step, 0).len(), 1, "step {steps}: {step:?}");
            let chunk = by_seq(&step, 1);
            prompt_fed += chunk.len();
            steps += 1;
            s.sampled(0, 51);
            if chunk.last().is_some_and(|f| f.logits) {
                break;
            }
        }
        assert_eq!(prompt_fed, 20);
        assert_eq!(steps, 3, "20 tokens at 7 a step");
        // The prompt's positions are contiguous from 0.
    }

    #[test]
    fn prompts_share_the_budget_in_turn() {
        let mut s = Scheduler::new(3, 4, 10);
        for id in 1..=3 {
            s.submit(req(id, 25)).unwrap();
        }
        s.admit();
        let first = s.plan();
        // The first prompt fills the first step, and goes on first next step.
        assert_eq!(by_seq(&first, 0).len(), 10);
        let mut done_at = [0usize; 3];
        for step in 1..=8 {
            let feeds = s.plan();
            for f in feeds.iter().filter(|f| f.logits) {
                done_at[f.seq] = step;
            }
            for seq in 0..3 {
                let mine = by_seq(&feeds, seq);
                // Positions of one sequence are consecutive within a step.
                for pair in mine.windows(2) {
                    assert_eq!(pair[1].pos, pair[0].pos + 1);
                }
            }
        }
        // 75 tokens at 10 a step: all prompts done within 8 steps, in the order they came.
        assert!(done_at.iter().all(|&d| d > 0), "{done_at:?}");
        assert!(done_at[0] <= done_at[1] && done_at[1] <= done_at[2]);
    }

    #[test]
    fn the_queue_is_bounded_and_served_in_order() {
        let mut s = Scheduler::new(1, 2, 16);
        s.submit(req(1, 2)).unwrap();
        s.submit(req(2, 2)).unwrap();
        s.submit(req(3, 2)).unwrap();
        let (why, back) = s.submit(req(4, 2)).unwrap_err();
        assert_eq!(why, Refused::QueueFull);
        assert_eq!(back.request, 4);
        assert_eq!(s.admit(), vec![0]);
        assert_eq!(s.active().map(|(_, a)| a.request).collect::<Vec<_>>(), [1]);
        assert_eq!(s.waiting(), 2);
        // Request 1 ends: request 2 takes its sequence, from position 0.
        s.plan();
        assert_eq!(s.release(0).map(|a| a.request), Some(1));
        assert_eq!(s.admit(), vec![0]);
        assert_eq!(s.active().map(|(_, a)| a.request).collect::<Vec<_>>(), [2]);
        assert_eq!(s.plan()[0].pos, 0);
    }

    #[test]
    fn a_waiting_request_whose_client_left_is_dropped() {
        let mut s = Scheduler::new(1, 4, 16);
        for id in 1..=3 {
            s.submit(req(id, 2)).unwrap();
        }
        s.admit();
        assert_eq!(s.drop_waiting(|r| *r == 2), vec![2]);
        s.release(0);
        s.admit();
        assert_eq!(s.active().map(|(_, a)| a.request).collect::<Vec<_>>(), [3]);
        assert!(!s.is_idle());
        s.release(0);
        assert!(s.is_idle());
    }
}
