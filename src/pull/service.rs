//! The pulls running in the background for the dashboard. [`Pulls`] owns them: each runs in a task of its
//! own with a cancel token that is a child of the service's (itself a child of the app's background-task
//! token), so shutdown cancels them all and [`Pulls::drain`] waits until each has ended: none outlives the
//! server. A file is pulled once at a time (the same repository and file again is `Busy`).
//!
//! Each pull broadcasts `models:pull:progress` about four times a second, then exactly one of
//! `models:pull:done` (after `finish` made the model known) or `models:pull:error` (code `CANCELLED`,
//! `HUB_ERROR` or `IO`). It leaves the list of running pulls before that last broadcast, so a client that
//! sees it may pull the same file again at once.

use super::download::{Tally, Watch};
use super::hub::{Clients, Hub};
use super::{Plan, PullError};
use crate::core::bus::{Bus, LiveEvent};
use crate::core::clock::now_ms;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How long `models:pull:cancel` waits for the pull's last broadcast before replying.
const CANCEL_SETTLE: Duration = Duration::from_secs(5);

/// What makes a downloaded model known (rescan or add to `backends.models`): its id, or why not.
pub type Finish = Box<dyn FnOnce(PathBuf) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send>> + Send>;

#[derive(Clone)]
pub struct Pulls(Arc<Inner>);

struct Inner {
    stop: CancellationToken,
    clients: OnceLock<Clients>,
    running: Mutex<BTreeMap<String, Running>>,
    tasks: Mutex<JoinSet<()>>,
    next: AtomicU64,
}

struct Running {
    repo: String,
    file: String,
    started_at: i64,
    cancel: CancellationToken,
    tally: Option<Tally>,
    total: u64,
    /// The bytes on disk, once the pull made its last broadcast.
    ended: watch::Receiver<Option<u64>>,
}

impl Pulls {
    /// `stop`: cancelled at shutdown (the app's background-task token).
    pub fn new(stop: CancellationToken) -> Self {
        Self(Arc::new(Inner {
            stop,
            clients: OnceLock::new(),
            running: Mutex::default(),
            tasks: Mutex::default(),
            next: AtomicU64::new(1),
        }))
    }

    /// The hub of `HF_ENDPOINT` / `HF_TOKEN`, over the service's one pair of HTTP clients.
    pub fn hub(&self) -> Result<Hub, PullError> {
        let clients = match self.0.clients.get() {
            Some(clients) => clients.clone(),
            None => {
                let clients = Clients::new()?;
                let _ = self.0.clients.set(clients.clone());
                clients
            }
        };
        Ok(Hub::from_env(clients))
    }

    /// Starts `plan` in the background; its id. `Busy` when that file is being pulled already.
    pub fn start(&self, hub: Hub, plan: Plan, bus: Bus, finish: Finish) -> Result<String, PullError> {
        // Checked under the tasks lock, which `drain` takes after the stop: no task starts unwaited for.
        let mut tasks = self.0.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        if self.0.stop.is_cancelled() {
            return Err(PullError::Busy("the server is shutting down".into()));
        }
        let cancel = self.0.stop.child_token();
        let (ended_tx, ended) = watch::channel(None);
        let id = {
            let mut running = self.running();
            if running.values().any(|r| r.repo == plan.repo && r.file == plan.file) {
                return Err(PullError::Busy(format!("{} of {} is being pulled already", plan.file, plan.repo)));
            }
            let id = format!("pull-{}", self.0.next.fetch_add(1, Ordering::Relaxed));
            let entry = Running {
                repo: plan.repo.clone(),
                file: plan.file.clone(),
                started_at: now_ms(),
                cancel: cancel.clone(),
                tally: None,
                total: plan.total_bytes(),
                ended,
            };
            running.insert(id.clone(), entry);
            id
        };
        while tasks.try_join_next().is_some() {}
        let job = Job { id: id.clone(), hub, plan, bus, finish, cancel, ended: ended_tx };
        tasks.spawn(job.run(self.clone()));
        Ok(id)
    }

    /// Cancels a running pull and waits (briefly) for its `models:pull:error`; the bytes it had, or
    /// `None` when no such pull runs.
    pub async fn cancel(&self, id: &str) -> Option<u64> {
        let (cancel, mut ended, bytes) = {
            let running = self.running();
            let r = running.get(id)?;
            (r.cancel.clone(), r.ended.clone(), r.tally.map_or(0, |t| t.bytes))
        };
        cancel.cancel();
        match tokio::time::timeout(CANCEL_SETTLE, ended.wait_for(Option::is_some)).await {
            Ok(Ok(end)) => Some(end.unwrap_or(bytes)),
            _ => Some(bytes),
        }
    }

    /// The pulls running now, oldest first.
    pub fn list(&self) -> Vec<Value> {
        let running = self.running();
        let mut list: Vec<(&String, &Running)> = running.iter().collect();
        list.sort_by_key(|(_, r)| r.started_at);
        list.into_iter().map(|(id, r)| describe(id, r)).collect()
    }

    /// Waits for the app's shutdown, then for every pull (cancelled by it) to end.
    pub async fn drain(self) {
        self.0.stop.cancelled().await;
        let mut tasks = std::mem::take(&mut *self.0.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        while tasks.join_next().await.is_some() {}
    }

    fn running(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Running>> {
        self.0.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn take(&self, id: &str) -> Option<Running> {
        self.running().remove(id)
    }
}

/// One pull's background task, with all it needs.
struct Job {
    id: String,
    hub: Hub,
    plan: Plan,
    bus: Bus,
    finish: Finish,
    cancel: CancellationToken,
    ended: watch::Sender<Option<u64>>,
}

impl Job {
    /// Downloads, makes the model known, and makes the one last broadcast (after leaving the running list).
    async fn run(self, pulls: Pulls) {
        let Job { id, hub, plan, bus, finish, cancel, ended } = self;
        let mut watch = Broadcast { pulls: pulls.clone(), id: id.clone(), plan: plan.clone(), bus: bus.clone() };
        let result = super::fetch(&hub, &plan, &cancel, &mut watch).await;
        let bytes = pulls.take(&id).and_then(|r| r.tally).map_or(0, |t| t.bytes);
        let base = json!({"pullId": id, "repo": plan.repo, "file": plan.file});
        let outcome = match result {
            Ok(path) => finish(path.clone()).await.map(|model| (path, model)).map_err(|e| ("IO", e)),
            Err(err) => Err((code_of(&err), err.to_string())),
        };
        match outcome {
            Ok((path, model_id)) => {
                tracing::info!(repo = %plan.repo, file = %plan.file, model = %model_id, "pull done");
                bus.publish(LiveEvent::PullDone(extend(base, json!({"path": path, "modelId": model_id}))));
            }
            Err((code, message)) => {
                tracing::warn!(repo = %plan.repo, file = %plan.file, code, %message, "pull ended without the model");
                bus.publish(LiveEvent::PullError(extend(
                    base,
                    json!({"code": code, "message": message, "bytes": bytes}),
                )));
            }
        }
        let _ = ended.send(Some(bytes));
    }
}

/// Publishes progress and keeps the latest tally for `models:pull:list` and `models:pull:cancel`.
struct Broadcast {
    pulls: Pulls,
    id: String,
    plan: Plan,
    bus: Bus,
}

impl Watch for Broadcast {
    fn resuming(&mut self, file: &str, at: u64) {
        tracing::info!(repo = %self.plan.repo, file, at, "pull resumes a partial download");
    }

    fn already(&mut self, _file: &str) {}

    fn progress(&mut self, tally: &Tally) {
        let Some(data) = self.pulls.running().get_mut(&self.id).map(|r| {
            r.tally = Some(*tally);
            r.total = tally.total;
            let mut data = describe(&self.id, r);
            data["resumedFrom"] = json!(tally.resumed_from);
            data
        }) else {
            return;
        };
        self.bus.publish(LiveEvent::PullProgress(data));
    }
}

fn describe(id: &str, r: &Running) -> Value {
    let bytes = r.tally.map_or(0, |t| t.bytes);
    json!({
        "pullId": id,
        "repo": r.repo,
        "file": r.file,
        "bytes": bytes,
        "totalBytes": r.total,
        "bytesPerSec": r.tally.map_or(0, |t| t.rate()),
        "etaSec": r.tally.and_then(|t| t.eta()),
        "startedAt": r.started_at,
    })
}

/// `CANCELLED`, `IO` (the cache could not be written) or `HUB_ERROR` (the hub refused or the download broke).
fn code_of(err: &PullError) -> &'static str {
    match err {
        PullError::Cancelled => "CANCELLED",
        PullError::Io(_) | PullError::NoCache => "IO",
        _ => "HUB_ERROR",
    }
}

fn extend(mut base: Value, more: Value) -> Value {
    if let (Some(base), Value::Object(more)) = (base.as_object_mut(), more) {
        base.extend(more);
    }
    base
}
