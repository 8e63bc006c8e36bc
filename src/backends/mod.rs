//! Our own on-demand backends: one llama-server per model from `backends.models`, started on first use,
//! grouped, evicted (least recently used, `backends.maxRunning`), stopped when idle, restarted after a crash.
//! One manager task owns every backend's state; one task per backend owns its process.

mod crash_loop;
pub mod discovery;
mod instance;
mod manager;
pub mod memory;
mod metadata;
pub mod persist;
pub mod plan;

pub use metadata::MetadataCache;

use crate::config::SharedConfig;
use crate::core::activity::Gates;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Instant;
use thiserror::Error;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

/// Transitions (owned by the manager):
/// Stopped | Error -> Starting (a request or a load) -> Ready (health answered) | Error (exited early, deadline);
/// Ready -> Stopping (unload, idle, group swap, eviction; after in-flight requests drain) -> Stopped;
/// Ready -> Error (exited without being asked: a crash; the next request starts it again, with backoff).
/// Its process dying by itself 5 times in 5 minutes (at startup or later) leaves it in Error, reason
/// `crash loop`, refused at once until `models:reset` or a changed start ([`crash_loop`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendState {
    Stopped,
    Starting,
    Ready,
    Stopping,
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendStatus {
    pub state: BackendState,
    pub port: Option<u16>,
    pub pid: Option<u32>,
    pub error: Option<String>,
    pub exit_code: Option<i32>,
    pub last_lines: Vec<String>,
    /// Why it last changed: `request`, `socket`, `idle`, `group swap`, `evicted`, `crash`, `crash loop`,
    /// `shutdown`.
    pub reason: Option<String>,
    /// How long the last start took (set when it became ready).
    pub load_ms: Option<u64>,
    /// The key the running process was started with (never serialized).
    #[serde(skip)]
    pub key: Option<crate::process::Secret>,
    #[serde(skip)]
    pub since: Instant,
}

impl BackendStatus {
    pub fn stopped() -> Self {
        Self {
            state: BackendState::Stopped,
            port: None,
            pid: None,
            error: None,
            exit_code: None,
            last_lines: Vec::new(),
            reason: None,
            load_ms: None,
            key: None,
            since: Instant::now(),
        }
    }

    /// Where the backend answers while it is ready, with its key.
    pub fn upstream(&self) -> Option<crate::process::Upstream> {
        let (port, key) = (self.port.filter(|_| self.state == BackendState::Ready)?, self.key.clone()?);
        Some(crate::process::Upstream { url: format!("http://127.0.0.1:{port}"), key })
    }
}

pub type Statuses = BTreeMap<String, BackendStatus>;

#[derive(Debug, Clone, Error, PartialEq)]
pub enum BackendError {
    #[error("no backend model named '{0}' (backends.models)")]
    NotConfigured(String),
    #[error("backend '{model}' failed to start: {error}{}", lines_suffix(.lines))]
    Failed { model: String, error: String, lines: Vec<String> },
    #[error(
        "backend '{model}' needs about {} (weights {} + KV cache {} for {} tokens + margin) but only {} is free (available RAM + free VRAM), even after stopping the other backends",
        memory::gib(need.total_bytes), memory::gib(need.weights_bytes), memory::gib(need.kv_cache_bytes), need.context, memory::gib(*free)
    )]
    NotEnoughMemory { model: String, need: memory::Need, free: u64 },
    #[error(
        "backend '{model}' crashed {} times within {} min and is not started again (crash loop) until models:reset or a change of its spawn command, path or mmproj; last: {error}{}",
        crash_loop::CRASHES, crash_loop::WINDOW.as_secs() / 60, lines_suffix(.lines)
    )]
    CrashLoop { model: String, error: String, lines: Vec<String> },
    #[error(
        "backend '{model}' cannot start without stopping pinned model(s) {} ({why}); unpin or unload them first",
        pinned.join(", ")
    )]
    Pinned { model: String, pinned: Vec<String>, why: &'static str },
    #[error("backend '{0}' was stopped before it became ready")]
    Stopped(String),
    #[error("the backend manager is not running")]
    Closed,
}

fn lines_suffix(lines: &[String]) -> String {
    let last: Vec<&str> = lines.iter().rev().take(5).rev().map(String::as_str).collect();
    if last.is_empty() { String::new() } else { format!("; last output: {}", last.join(" | ")) }
}

type Reply<T> = oneshot::Sender<Result<T, BackendError>>;

/// Where a ready backend answers, with a claim that keeps it from being stopped until the request is admitted.
pub struct Ready {
    pub upstream: crate::process::Upstream,
    pub claim: crate::core::activity::Claim,
}

enum Command {
    Ensure { model: String, reason: &'static str, reply: Reply<Ready> },
    Stop { model: String, reason: &'static str, reply: Reply<()> },
    StopAll { reason: &'static str, reply: Reply<Vec<String>> },
    Reset { model: String, reply: Reply<()> },
    Preview { model: String, reply: Reply<plan::Plan> },
}

/// Cheap to clone; lives in `AppState`.
#[derive(Clone)]
pub struct BackendsHandle {
    tx: mpsc::Sender<Command>,
    statuses: watch::Receiver<Statuses>,
}

impl BackendsHandle {
    /// Starts the model's backend if needed (making room first) and waits until it is ready.
    pub async fn ensure_ready(&self, model: &str, reason: &'static str) -> Result<Ready, BackendError> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(Command::Ensure { model: model.into(), reason, reply }).await.map_err(|_| BackendError::Closed)?;
        answer.await.map_err(|_| BackendError::Closed)?
    }

    /// Asks for a stop after the model's requests in flight finished; returns at once.
    pub async fn stop(&self, model: &str, reason: &'static str) -> Result<(), BackendError> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(Command::Stop { model: model.into(), reason, reply }).await.map_err(|_| BackendError::Closed)?;
        answer.await.map_err(|_| BackendError::Closed)?
    }

    /// Asks every running backend to stop (each after its requests in flight); the ids asked.
    pub async fn stop_all(&self, reason: &'static str) -> Result<Vec<String>, BackendError> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(Command::StopAll { reason, reply }).await.map_err(|_| BackendError::Closed)?;
        answer.await.map_err(|_| BackendError::Closed)?
    }

    /// Clears an `error` state, the crash backoff and the crash-loop guard, so the next request starts the
    /// backend at once.
    pub async fn reset(&self, model: &str) -> Result<(), BackendError> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(Command::Reset { model: model.into(), reply }).await.map_err(|_| BackendError::Closed)?;
        answer.await.map_err(|_| BackendError::Closed)?
    }

    /// What a start of `model` would do now (which backends it stops, or why it is refused); changes nothing.
    pub async fn preview(&self, model: &str) -> Result<plan::Plan, BackendError> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(Command::Preview { model: model.into(), reply }).await.map_err(|_| BackendError::Closed)?;
        answer.await.map_err(|_| BackendError::Closed)?
    }

    pub fn status(&self, model: &str) -> Option<BackendStatus> {
        self.statuses.borrow().get(model).cloned()
    }

    pub fn subscribe(&self) -> watch::Receiver<Statuses> {
        self.statuses.clone()
    }
}

/// Starts the manager; it stops every backend when `cancel` fires and then ends.
/// What the manager reads but does not own: the config, the proxy's per-model activity, the GGUF
/// metadata of model files, and the latest system sample (free memory).
pub struct Inputs {
    pub config: SharedConfig,
    pub gates: Gates,
    pub metadata: MetadataCache,
    pub latest: watch::Receiver<Option<crate::metrics::Sample>>,
}

pub fn spawn(inputs: Inputs, cancel: CancellationToken) -> (BackendsHandle, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(256);
    let (status_tx, statuses) = watch::channel(Statuses::new());
    let manager = manager::Manager::new(inputs, status_tx);
    let task = tokio::spawn(manager.run(rx, cancel));
    (BackendsHandle { tx, statuses }, task)
}
