//! The llama.cpp side of `flotilla serve`: one thread owns the model and its context and runs
//! the decode loop; requests come in over a channel and their text goes back over each
//! request's own channel.

use super::batch::{Admitted, Feed, Refused, Scheduler};
use super::text::ReplyText;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::mpsc as std_mpsc;
use tokio::sync::mpsc;

/// How the engine is set up.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub model: PathBuf,
    /// Sequences decoded together.
    pub parallel: usize,
    /// Context of one request (prompt and reply), in tokens.
    pub ctx: u32,
    /// Requests that may wait for a sequence.
    pub queue: usize,
    /// Most tokens one decode step feeds (prompt chunks fill what generation leaves).
    pub batch: usize,
    pub threads: usize,
}

/// Sampling and length settings of one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub max_tokens: Option<u32>,
    pub temperature: f32,
    pub top_p: f32,
    pub seed: Option<u32>,
    pub stop: Vec<String>,
}

/// One chat completion to run.
#[derive(Debug)]
pub struct Job {
    /// `(role, content)` pairs.
    pub messages: Vec<(String, String)>,
    pub params: Params,
    pub out: mpsc::UnboundedSender<Out>,
}

/// What the engine tells a request, in this order: `Queued` or `Refused`; then `Text`s; then
/// `End` or `Failed`.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    Queued {
        prompt_tokens: usize,
    },
    Refused {
        status: u16,
        message: String,
    },
    Text(String),
    End {
        finish_reason: &'static str,
        prompt_tokens: usize,
        completion_tokens: u32,
    },
    Failed(String),
}

/// The running engine: send it jobs. Dropping every sender ends its thread.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    jobs: std_mpsc::Sender<Job>,
}

impl EngineHandle {
    /// Hands a job to the engine; false when its thread has ended.
    pub fn submit(&self, job: Job) -> bool {
        self.jobs.send(job).is_ok()
    }
}

/// Loads the model and starts the decode thread; returns once the model is loaded, or with
/// the reason it could not be.
pub fn spawn(options: EngineOptions) -> Result<EngineHandle, String> {
    super::check_model_file(&options.model)?;
    let model = options.model.clone();
    let (jobs, incoming) = std_mpsc::channel();
    let (ready_tx, ready_rx) = std_mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("llama-decode".into())
        .spawn(move || {
            let loaded = Loaded::new(&options);
            match loaded {
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
                Ok(loaded) => {
                    let _ = ready_tx.send(Ok(()));
                    if let Err(e) = loaded.run(&options, incoming) {
                        tracing::error!("the decode loop ended: {e}");
                    }
                }
            }
        })
        .map_err(|e| format!("cannot start the decode thread: {e}"))?;
    match ready_rx.recv() {
        Ok(Ok(())) => Ok(EngineHandle { jobs }),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!(
            "llama.cpp stopped while loading {}",
            model.display()
        )),
    }
}

struct Loaded {
    backend: LlamaBackend,
    model: LlamaModel,
    template: LlamaChatTemplate,
}

impl Loaded {
    fn new(options: &EngineOptions) -> Result<Self, String> {
        let backend =
            LlamaBackend::init().map_err(|e| format!("cannot start llama.cpp's backend: {e}"))?;
        let model = LlamaModel::load_from_file(
            &backend,
            &options.model,
            &LlamaModelParams::default(),
        )
        .map_err(|e| {
            format!(
                "llama.cpp could not load {} ({e}): the file is corrupt, cut short, or of a \
                     model llama.cpp does not know",
                options.model.display()
            )
        })?;
        let template = match model.chat_template(None) {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(
                    "{} has no chat template ({e}); using ChatML",
                    options.model.display()
                );
                LlamaChatTemplate::new("chatml").map_err(|e| e.to_string())?
            }
        };
        Ok(Self {
            backend,
            model,
            template,
        })
    }

    /// A context of `parallel` sequences of `ctx` tokens each, one KV stream per sequence.
    fn context(&self, options: &EngineOptions) -> Result<LlamaContext<'_>, String> {
        let parallel = options.parallel.max(1);
        let width = options.batch.max(1) + parallel;
        let threads = i32::try_from(options.threads.max(1)).unwrap_or(1);
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(
                options.ctx.max(64).saturating_mul(parallel as u32),
            ))
            .with_n_seq_max(parallel as u32)
            // A KV stream per sequence: each attends only to its own cells.
            .with_kv_unified(false)
            .with_n_batch(width as u32)
            .with_n_ubatch(width as u32)
            .with_n_threads(threads)
            .with_n_threads_batch(threads);
        self.model
            .new_context(&self.backend, params)
            .map_err(|e| format!("cannot create a llama.cpp context: {e}"))
    }

    /// The decode loop: takes jobs, frees the sequences of clients that left, admits waiting
    /// requests, decodes one step of every running sequence and samples; ends when the job
    /// channel closes with nothing left to do.
    fn run(
        &self,
        options: &EngineOptions,
        incoming: std_mpsc::Receiver<Job>,
    ) -> Result<(), String> {
        let parallel = options.parallel.max(1);
        let mut ctx = self.context(options)?;
        let mut batch = LlamaBatch::new(options.batch.max(1) + parallel, parallel as i32);
        let mut sched: Scheduler<Running> = Scheduler::new(parallel, options.queue, options.batch);
        let mut decoder = Decoder {
            model: &self.model,
            per_seq: options.ctx.max(64),
        };
        loop {
            if !self.take_jobs(&incoming, &mut decoder, &mut sched) {
                return Ok(());
            }
            release_gone(&mut sched, &mut ctx);
            for seq in sched.admit() {
                clear(&mut ctx, seq);
            }
            let feeds = sched.plan();
            if feeds.is_empty() {
                continue;
            }
            batch.clear();
            let added = feeds
                .iter()
                .try_for_each(|f| batch.add(LlamaToken(f.token), f.pos, &[f.seq as i32], f.logits));
            let started = std::time::Instant::now();
            let decoded = added
                .map_err(|e| e.to_string())
                .and_then(|()| ctx.decode(&mut batch).map_err(|e| e.to_string()));
            let decode_time = started.elapsed();
            if let Err(e) = decoded {
                fail_step(&mut sched, &mut ctx, &feeds, &e);
                continue;
            }
            let sampling = std::time::Instant::now();
            for (i, feed) in feeds.iter().enumerate().filter(|(_, f)| f.logits) {
                decoder.sample(&mut ctx, &mut sched, i as i32, feed);
            }
            tracing::trace!(
                tokens = feeds.len(),
                decode_us = decode_time.as_micros() as u64,
                sample_us = sampling.elapsed().as_micros() as u64,
                "step"
            );
        }
    }

    /// Every job waiting on the channel (waiting for one when idle); `false` when the channel
    /// has closed and nothing is left to do.
    fn take_jobs(
        &self,
        incoming: &std_mpsc::Receiver<Job>,
        decoder: &mut Decoder<'_>,
        sched: &mut Scheduler<Running>,
    ) -> bool {
        if sched.is_idle() {
            match incoming.recv() {
                Ok(job) => decoder.intake(job, sched, &self.template),
                Err(_) => return false,
            }
        }
        loop {
            match incoming.try_recv() {
                Ok(job) => decoder.intake(job, sched, &self.template),
                Err(std_mpsc::TryRecvError::Empty) => return true,
                Err(std_mpsc::TryRecvError::Disconnected) => return !sched.is_idle(),
            }
        }
    }
}

/// Clients that left: their sequences are free at once, their waiting requests dropped.
fn release_gone(sched: &mut Scheduler<Running>, ctx: &mut LlamaContext<'_>) {
    let gone: Vec<usize> = sched
        .active()
        .filter(|(_, a)| a.request.out.is_closed())
        .map(|(seq, _)| seq)
        .collect();
    for seq in gone {
        sched.release(seq);
        clear(ctx, seq);
    }
    sched.drop_waiting(|r| r.out.is_closed());
}

/// A step that could not be decoded: its sequences cannot go on and are told why; the others
/// are unaffected.
fn fail_step(
    sched: &mut Scheduler<Running>,
    ctx: &mut LlamaContext<'_>,
    feeds: &[crate::serve::batch::Feed],
    error: &str,
) {
    let mut seqs: Vec<usize> = feeds.iter().map(|f| f.seq).collect();
    seqs.dedup();
    for seq in seqs {
        if let Some(a) = sched.release(seq) {
            let _ = a
                .request
                .out
                .send(Out::Failed(format!("llama.cpp could not decode: {error}")));
        }
        clear(ctx, seq);
    }
}

/// Empties a sequence's KV cache.
fn clear(ctx: &mut LlamaContext<'_>, seq: usize) {
    if let Err(e) = ctx.clear_kv_cache_seq(u32::try_from(seq).ok(), None, None) {
        tracing::warn!(seq, "cannot clear the sequence: {e}");
    }
}

/// A request that holds or waits for a sequence.
struct Running {
    out: mpsc::UnboundedSender<Out>,
    /// None: greedy (temperature 0), the most likely token.
    sampler: Option<LlamaSampler>,
    text: ReplyText,
    max_tokens: u32,
    /// Text not yet sent, and when text was last sent: see [`SEND_EVERY`].
    unsent: String,
    sent_at: std::time::Instant,
}

/// Text goes to a request's connection at most this often. Each send wakes a thread of the
/// HTTP side, which takes a core from llama.cpp's threads in the middle of a step; with several
/// requests that cost more than the batch saved.
const SEND_EVERY: std::time::Duration = std::time::Duration::from_millis(40);

impl Running {
    /// Queues text, and sends what is queued when it has waited long enough (or `now`).
    fn send_text(&mut self, text: &str, now: bool) {
        self.unsent.push_str(text);
        if !self.unsent.is_empty() && (now || self.sent_at.elapsed() >= SEND_EVERY) {
            let _ = self.out.send(Out::Text(std::mem::take(&mut self.unsent)));
            self.sent_at = std::time::Instant::now();
        }
    }
}

struct Decoder<'m> {
    model: &'m LlamaModel,
    per_seq: u32,
}

impl Decoder<'_> {
    /// Templates and tokenizes a job, and queues it or says why not.
    fn intake(&mut self, job: Job, sched: &mut Scheduler<Running>, template: &LlamaChatTemplate) {
        let refuse = |status: u16, message: String| {
            let _ = job.out.send(Out::Refused { status, message });
        };
        let messages: Result<Vec<LlamaChatMessage>, _> = job
            .messages
            .iter()
            .map(|(role, content)| LlamaChatMessage::new(role.clone(), content.clone()))
            .collect();
        let prompt = messages
            .map_err(|e| format!("a message cannot be used: {e}"))
            .and_then(|m| {
                self.model
                    .apply_chat_template(template, &m, true)
                    .map_err(|e| format!("the model's chat template failed: {e}"))
            });
        let prompt = match prompt {
            Ok(p) => p,
            Err(e) => return refuse(400, e),
        };
        let tokens = self.model.vocab().tokenize(prompt.as_bytes(), true, true);
        if tokens.is_empty() {
            return refuse(400, "the prompt is empty".into());
        }
        let room = (self.per_seq as usize).saturating_sub(tokens.len());
        if room == 0 {
            return refuse(
                400,
                format!(
                    "the prompt is {} tokens, more than the context of {} tokens (flotilla serve --ctx)",
                    tokens.len(),
                    self.per_seq
                ),
            );
        }
        let max_tokens = job
            .params
            .max_tokens
            .map_or(room as u32, |m| m.min(room as u32));
        let prompt_tokens = tokens.len();
        let running = Running {
            out: job.out.clone(),
            sampler: sampler(&job.params),
            text: ReplyText::new(job.params.stop.clone()),
            max_tokens,
            unsent: String::new(),
            sent_at: std::time::Instant::now(),
        };
        let admitted = Admitted {
            request: running,
            prompt: tokens.into_iter().map(|t| t.0).collect(),
        };
        match sched.submit(admitted) {
            Ok(()) => {
                let _ = job.out.send(Out::Queued { prompt_tokens });
            }
            Err((Refused::QueueFull, _)) => refuse(
                503,
                format!(
                    "every sequence is busy and {} requests are waiting; try again shortly",
                    sched.waiting()
                ),
            ),
        }
    }

    /// Samples the token after `feed` (batch index `i`), sends its text, and ends the request
    /// when it is over.
    fn sample(
        &mut self,
        ctx: &mut LlamaContext<'_>,
        sched: &mut Scheduler<Running>,
        i: i32,
        feed: &Feed,
    ) {
        let seq = feed.seq;
        let Some(a) = sched.active_mut(seq) else {
            return;
        };
        let token = match a.request.sampler.as_mut() {
            Some(sampler) => sampler.sample(ctx, i),
            // An argmax over the logits, rather than llama.cpp's greedy sampler, which first
            // copies every candidate.
            None => LlamaToken(argmax(ctx.get_logits_ith(i))),
        };
        let vocab = self.model.vocab();
        let mut reason = None;
        if vocab.is_eog(token) {
            reason = Some("stop");
        } else {
            let piece = vocab.token_to_piece(token, false, None);
            let text = a.request.text.push(&piece);
            a.request.send_text(&text, false);
            if a.request.text.stopped() {
                reason = Some("stop");
            }
        }
        sched.sampled(seq, token.0);
        let Some(a) = sched.active_mut(seq) else {
            return;
        };
        if reason.is_none()
            && (a.generated >= a.request.max_tokens || a.used() + 1 >= self.per_seq as i32)
        {
            reason = Some("length");
        }
        let Some(finish_reason) = reason else {
            return;
        };
        let prompt_tokens = a.prompt_len();
        if let Some(mut done) = sched.release(seq) {
            let rest = done.request.text.finish();
            done.request.send_text(&rest, true);
            // The end-of-generation token is not counted, as llama.cpp's server does not.
            let completion_tokens = done.generated - u32::from(vocab.is_eog(token));
            let _ = done.request.out.send(Out::End {
                finish_reason,
                prompt_tokens,
                completion_tokens,
            });
        }
        clear(ctx, seq);
    }
}

/// The index of the largest value (the first of equals).
fn argmax(logits: &[f32]) -> i32 {
    let mut best = 0;
    for (i, &x) in logits.iter().enumerate() {
        if x > logits[best] {
            best = i;
        }
    }
    i32::try_from(best).unwrap_or(0)
}

/// The sampler chain of one request: none (greedy) at temperature 0, else top-k 40, top-p,
/// min-p 0.05, temperature and a seeded draw (llama.cpp's server defaults).
fn sampler(params: &Params) -> Option<LlamaSampler> {
    if params.temperature <= 0.0 {
        return None;
    }
    let seed = params.seed.unwrap_or_else(random_seed);
    Some(LlamaSampler::chain_simple([
        LlamaSampler::top_k(40),
        LlamaSampler::top_p(params.top_p.clamp(0.0, 1.0), 1),
        LlamaSampler::min_p(0.05, 1),
        LlamaSampler::temp(params.temperature),
        LlamaSampler::dist(seed),
    ]))
}

fn random_seed() -> u32 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now()) as u32
}
