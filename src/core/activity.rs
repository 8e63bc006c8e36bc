//! Per-model admission: at most `limit` requests run at once (the model's parallel slots); up to
//! `queue_size` more wait in FIFO order (tokio's semaphore is fair) for at most the queue timeout.

use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
// tokio's clock (the std clock outside tests) so that the tests can pause it.
use tokio::time::Instant;

/// Why a request was not admitted to a model's slots; mapped to HTTP and socket errors at the edges.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AdmissionError {
    /// Every slot of the model is busy and its queue is full.
    #[error("model '{model}' is busy: {queued} requests already waiting (proxy.queueSize); retry later")]
    QueueFull { model: String, queued: usize, retry_after: u64 },
    /// Waited in the model's queue longer than `proxy.queueTimeoutMs`.
    #[error("model '{model}' stayed busy for {waited_ms} ms (proxy.queueTimeoutMs); retry later")]
    QueueTimeout { model: String, waited_ms: u64, retry_after: u64 },
    #[error("the model's queue is closed")]
    Closed,
}

/// How many recent queue waits the averages are taken over.
const RECENT_WAITS: usize = 200;

pub struct Limits {
    pub slots: usize,
    pub queue_size: usize,
    pub queue_timeout: Duration,
}

/// One model's slots and queue.
pub struct Gate {
    slots: Arc<Semaphore>,
    limit: usize,
    active: AtomicUsize,
    queued: AtomicUsize,
    waits_ms: Mutex<VecDeque<u64>>,
    /// When a request was last admitted or finished: the start of the model's idle time.
    last_active: Mutex<Instant>,
    changed: Arc<Notify>,
}

/// Held while a request runs (inside the response stream); frees the slot when dropped.
pub struct Admission {
    gate: Arc<Gate>,
    _permit: OwnedSemaphorePermit,
    pub waited: Duration,
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.gate.active.fetch_sub(1, Ordering::Relaxed);
        self.gate.touch();
        self.gate.changed.notify_one();
    }
}

/// Counts a waiting request until it is admitted, rejected, or its client goes away.
struct Waiting<'a>(&'a Gate);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.queued.fetch_sub(1, Ordering::Relaxed);
        self.0.changed.notify_one();
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueStats {
    pub model: String,
    pub active: usize,
    pub queued: usize,
    pub limit: usize,
    pub avg_wait_ms: f64,
    pub max_wait_ms: u64,
}

impl Gate {
    fn new(limit: usize, changed: Arc<Notify>) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(limit)),
            limit,
            active: AtomicUsize::new(0),
            queued: AtomicUsize::new(0),
            waits_ms: Mutex::new(VecDeque::with_capacity(RECENT_WAITS)),
            last_active: Mutex::new(Instant::now()),
            changed,
        }
    }

    pub fn busy(&self) -> bool {
        self.active.load(Ordering::Relaxed) + self.queued.load(Ordering::Relaxed) > 0
    }

    fn touch(&self) {
        if let Ok(mut at) = self.last_active.lock() {
            *at = Instant::now();
        }
    }

    async fn admit(self: Arc<Self>, model: &str, limits: &Limits) -> Result<Admission, AdmissionError> {
        let started = Instant::now();
        let permit = match self.slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => self.wait(model, limits, started).await?,
        };
        let waited = started.elapsed();
        self.active.fetch_add(1, Ordering::Relaxed);
        self.touch();
        self.record_wait(waited);
        self.changed.notify_one();
        Ok(Admission { gate: self, _permit: permit, waited })
    }

    async fn wait(
        &self,
        model: &str,
        limits: &Limits,
        started: Instant,
    ) -> Result<OwnedSemaphorePermit, AdmissionError> {
        let queued = self.queued.fetch_add(1, Ordering::Relaxed);
        let _waiting = Waiting(self);
        self.changed.notify_one();
        if queued >= limits.queue_size {
            return Err(AdmissionError::QueueFull { model: model.into(), queued, retry_after: self.retry_after() });
        }
        match tokio::time::timeout(limits.queue_timeout, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(AdmissionError::Closed),
            Err(_) => {
                // A wait that timed out counts towards the averages (and so towards Retry-After) too.
                self.record_wait(started.elapsed());
                let waited_ms = started.elapsed().as_millis() as u64;
                Err(AdmissionError::QueueTimeout { model: model.into(), waited_ms, retry_after: self.retry_after() })
            }
        }
    }

    fn record_wait(&self, waited: Duration) {
        if let Ok(mut waits) = self.waits_ms.lock() {
            if waits.len() == RECENT_WAITS {
                waits.pop_front();
            }
            waits.push_back(waited.as_millis() as u64);
        }
    }

    /// A rough "come back in": the recent average wait, at least a second.
    fn retry_after(&self) -> u64 {
        let avg_ms = self.stats("").avg_wait_ms;
        ((avg_ms / 1000.0).ceil() as u64).clamp(1, 60)
    }

    fn stats(&self, model: &str) -> QueueStats {
        let (avg_wait_ms, max_wait_ms) = match self.waits_ms.lock() {
            Ok(w) if !w.is_empty() => (w.iter().sum::<u64>() as f64 / w.len() as f64, *w.iter().max().unwrap_or(&0)),
            _ => (0.0, 0),
        };
        QueueStats {
            model: model.into(),
            active: self.active.load(Ordering::Relaxed),
            queued: self.queued.load(Ordering::Relaxed),
            limit: self.limit,
            avg_wait_ms,
            max_wait_ms,
        }
    }
}

/// Every model's gate. A gate whose limit no longer matches the config is replaced; requests
/// already admitted keep their slot in the old one.
#[derive(Clone, Default)]
pub struct Gates {
    map: Arc<Mutex<HashMap<String, Arc<Gate>>>>,
    /// Requests handed a ready backend's address and not admitted yet (see [`Claim`]).
    claims: Arc<Mutex<HashMap<String, usize>>>,
    /// Requests waiting for a backend to start (see [`Gates::wait_for_start`]).
    starting: Arc<Mutex<HashMap<String, usize>>>,
    pub changed: Arc<Notify>,
}

/// Counts a request as the model's from the moment it is told where the model runs until it is admitted
/// (or gives up), so that a stop that drains the model cannot slip in between.
pub struct Claim {
    claims: Arc<Mutex<HashMap<String, usize>>>,
    model: String,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Ok(mut claims) = self.claims.lock()
            && let Some(n) = claims.get_mut(&self.model)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                claims.remove(&self.model);
            }
        }
    }
}

impl Gates {
    pub async fn admit(&self, model: &str, limits: &Limits) -> Result<Admission, AdmissionError> {
        self.gate(model, limits.slots).admit(model, limits).await
    }

    fn gate(&self, model: &str, slots: usize) -> Arc<Gate> {
        let Ok(mut map) = self.map.lock() else { return Arc::new(Gate::new(slots, self.changed.clone())) };
        match map.get(model) {
            Some(gate) if gate.limit == slots => gate.clone(),
            _ => {
                let gate = Arc::new(Gate::new(slots, self.changed.clone()));
                map.insert(model.to_string(), gate.clone());
                gate
            }
        }
    }

    pub fn claim(&self, model: &str) -> Claim {
        if let Ok(mut claims) = self.claims.lock() {
            *claims.entry(model.to_string()).or_default() += 1;
        }
        Claim { claims: self.claims.clone(), model: model.to_string() }
    }

    /// Counts a request waiting for the model's backend to start, refusing it past `max` (a cold start
    /// takes seconds to minutes; requests must not pile up without bound meanwhile). The count is
    /// held until the returned guard is dropped.
    pub fn wait_for_start(&self, model: &str, max: usize) -> Result<Claim, AdmissionError> {
        let Ok(mut waiting) = self.starting.lock() else { return Err(AdmissionError::Closed) };
        let count = waiting.entry(model.to_string()).or_default();
        if *count >= max {
            return Err(AdmissionError::QueueFull { model: model.into(), queued: *count, retry_after: 5 });
        }
        *count += 1;
        Ok(Claim { claims: self.starting.clone(), model: model.to_string() })
    }

    /// Waits (at most `limit`) until no request is being served; true if none is.
    pub async fn drain(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.active_total() > 0 {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        true
    }

    /// Requests running, queued, or about to be admitted.
    pub fn busy(&self, model: &str) -> bool {
        let claimed = self.claims.lock().is_ok_and(|c| c.contains_key(model));
        claimed || self.map.lock().ok().and_then(|m| m.get(model).map(|g| g.busy())).unwrap_or(false)
    }

    /// When the model last started or finished a request through us; `None` if it never had one.
    pub fn last_active(&self, model: &str) -> Option<std::time::Instant> {
        let map = self.map.lock().ok()?;
        map.get(model).and_then(|g| g.last_active.lock().ok().map(|at| at.into_std()))
    }

    /// Requests of `model` being served and waiting in its queue now.
    pub fn load_of(&self, model: &str) -> (usize, usize) {
        let Ok(map) = self.map.lock() else { return (0, 0) };
        map.get(model).map_or((0, 0), |g| (g.active.load(Ordering::Relaxed), g.queued.load(Ordering::Relaxed)))
    }

    /// Requests running now, over all models.
    pub fn active_total(&self) -> usize {
        self.map.lock().map(|m| m.values().map(|g| g.active.load(Ordering::Relaxed)).sum()).unwrap_or(0)
    }

    pub fn stats(&self) -> Vec<QueueStats> {
        let Ok(map) = self.map.lock() else { return Vec::new() };
        let mut all: Vec<QueueStats> = map.iter().map(|(id, g)| g.stats(id)).collect();
        all.sort_by(|a, b| a.model.cmp(&b.model));
        all
    }
}

#[cfg(test)]
#[path = "activity_tests.rs"]
mod tests;
