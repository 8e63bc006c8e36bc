//! One record per `/v1` request, however it ends. An [`Exchange`] follows the request from arrival to
//! the last byte; dropping it unfinished means the client went away. Records go through a bounded
//! channel to [`run`], which stores them in batches, feeds `/metrics` and broadcasts `requests:completed`.

use super::usage::Usage;
use crate::core::bus::LiveEvent;
use crate::core::drops::{Drops, Kind};
use crate::db::{NewRequest, now_ms};
use crate::error::ApiError;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const QUEUE: usize = 8192;
const BATCH: usize = 2048;
const BATCH_WINDOW: Duration = Duration::from_millis(20);

#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<NewRequest>,
    drops: Drops,
}

impl Recorder {
    pub fn new(drops: Drops) -> (Self, mpsc::Receiver<NewRequest>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        (Self { tx, drops }, rx)
    }

    fn record(&self, row: NewRequest) {
        if self.tx.try_send(row).is_err() && self.drops.count(Kind::Requests, 1) {
            let dropped = self.drops.total(Kind::Requests);
            tracing::warn!(dropped, "request telemetry queue full; records dropped");
        }
    }
}

/// A request in progress. Fields fill in as the request is resolved and answered.
pub struct Exchange {
    recorder: Recorder,
    pub row: NewRequest,
    started: Instant,
    first_byte: Option<Duration>,
    /// Set while the request waits for a slot, so a client that leaves the queue still has its wait recorded.
    queued_at: Option<Instant>,
    open: bool,
}

/// Client-chosen text (a path, a model name) kept in a row, a log line or a broadcast.
pub const MAX_RECORDED: usize = 256;

/// `text` cut to [`MAX_RECORDED`] characters, marked with `…` when cut.
pub fn capped(text: &str) -> String {
    match text.char_indices().nth(MAX_RECORDED) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

impl Exchange {
    /// `endpoint` is what the client sent: only its first [`MAX_RECORDED`] characters are stored and broadcast.
    pub fn start(recorder: Recorder, endpoint: &str, client: Option<String>) -> Self {
        let endpoint = capped(endpoint);
        let row = NewRequest { created_at: now_ms(), endpoint, client, ..Default::default() };
        Self { recorder, row, started: Instant::now(), first_byte: None, queued_at: None, open: true }
    }

    /// Moves the open record out (into the response stream); `self` is left closed.
    pub fn hand_off(&mut self) -> Self {
        let taken = Self {
            recorder: self.recorder.clone(),
            row: std::mem::take(&mut self.row),
            started: self.started,
            first_byte: self.first_byte,
            queued_at: None,
            open: self.open,
        };
        self.open = false;
        taken
    }

    pub fn queued(&mut self) {
        self.queued_at = Some(Instant::now());
    }

    /// The wait for a slot is over (admitted or refused).
    pub fn dequeued(&mut self) {
        if let Some(at) = self.queued_at.take() {
            self.row.queue_ms = at.elapsed().as_secs_f64() * 1000.0;
        }
    }

    pub fn first_byte(&mut self) {
        if self.first_byte.is_none() {
            self.first_byte = Some(self.started.elapsed());
        }
    }

    /// A request refused or failed before any response byte; not stored for bad credentials.
    pub fn failed(&mut self, err: &ApiError) {
        if matches!(err, ApiError::InvalidApiKey(_)) {
            self.open = false;
            return;
        }
        self.row.status_code = err.status().as_u16();
        let outcome = if err.status().is_server_error() && !matches!(err, ApiError::QueueTimeout { .. }) {
            "error"
        } else {
            "rejected"
        };
        self.finish(outcome, Some(err.to_string()), Usage::default());
    }

    /// Completes the record. TTFT is the first streamed byte; for a whole JSON body it is the
    /// total minus llama-server's generation time.
    pub fn finish(&mut self, outcome: &'static str, error: Option<String>, usage: Usage) {
        if !self.open {
            return;
        }
        self.open = false;
        self.dequeued();
        let total_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        let ttft_ms = match (self.row.stream, self.first_byte, usage.predicted_ms) {
            (true, Some(first), _) => Some(first.as_secs_f64() * 1000.0),
            (false, Some(_), Some(predicted)) => Some((total_ms - predicted).max(0.0)),
            _ => None,
        };
        let tokens_per_second = usage.tokens_per_second.or_else(|| {
            let generated = usage.completion_tokens? as f64;
            let secs = (total_ms - ttft_ms?) / 1000.0;
            (secs > 0.0 && generated > 0.0).then(|| generated / secs)
        });
        let mut row = std::mem::take(&mut self.row);
        row.outcome = outcome;
        row.error = error;
        row.total_ms = total_ms;
        row.ttft_ms = ttft_ms;
        row.prompt_tokens = usage.prompt_tokens;
        row.completion_tokens = usage.completion_tokens;
        row.tokens_per_second = tokens_per_second;
        self.recorder.record(row);
    }
}

/// nginx's "client closed request": the client left before any status was sent.
const CLIENT_CLOSED: u16 = 499;

impl Drop for Exchange {
    fn drop(&mut self) {
        if self.row.status_code == 0 {
            self.row.status_code = CLIENT_CLOSED;
        }
        self.finish("cancelled", Some("client disconnected before the response ended".into()), Usage::default());
    }
}

/// Stores records in batches until cancelled, then stores what is left.
/// What the telemetry task uses.
pub struct Sinks {
    pub metrics: super::prometheus::RequestMetrics,
    pub drops: Drops,
    pub db: crate::db::Db,
    pub bus: crate::core::bus::Bus,
    pub models: crate::models::Models,
}

pub async fn run(sinks: Sinks, mut rx: mpsc::Receiver<NewRequest>, cancel: CancellationToken) {
    let state = &sinks;
    loop {
        let first = tokio::select! {
            got = rx.recv() => got,
            _ = cancel.cancelled() => None,
        };
        let Some(first) = first else { break };
        // Under load, one transaction per window instead of one per request (a user never sees 20 ms).
        tokio::time::sleep(BATCH_WINDOW).await;
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(row) => batch.push(row),
                Err(_) => break,
            }
        }
        store(state, batch).await;
    }
    let mut rest = Vec::new();
    while let Ok(row) = rx.try_recv() {
        rest.push(row);
    }
    if !rest.is_empty() {
        store(state, rest).await;
    }
}

async fn store(state: &Sinks, batch: Vec<NewRequest>) {
    let mut served: Vec<String> = Vec::new();
    for row in &batch {
        state.metrics.observe(row);
        if let Some(m) = row.model.as_ref().filter(|m| row.resolved && !served.contains(m)) {
            served.push(m.clone());
        }
    }
    let count = batch.len() as u64;
    let rows = match state.db.insert_requests(batch).await {
        Ok(rows) => {
            state.drops.write_succeeded();
            rows
        }
        Err(err) => {
            if state.drops.write_failed(Kind::Requests, count, &err) {
                let dropped = state.drops.total(Kind::Requests);
                tracing::warn!(error = %err, dropped, "request telemetry not stored");
            }
            return;
        }
    };
    if state.bus.audience() == 0 {
        return;
    }
    for row in rows {
        state.bus.publish(LiveEvent::RequestsCompleted(json!({"request": row})));
    }
    for id in served {
        state.models.publish_status(&id);
    }
}
