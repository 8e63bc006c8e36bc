//! The actor that owns the native llama-server router process. Callers hold a [`RouterHandle`];
//! only this task touches the child, so start/stop/crash handling never race.

use super::drain::{DRAIN_LIMIT, Drain};
use super::status::{RouterState, RouterStatus};
use crate::config::{Config, SharedConfig, router_args};
use crate::db::now_ms;
use crate::process::child::{self, RunningChild};
use crate::process::health::{NotReady, Probe, wait_ready};
use crate::process::model_ports::ModelPorts;
use crate::process::restart::{Backoff, exit_code};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;

const STOP_GRACE: Duration = Duration::from_secs(5);
const HEALTH_POLL: Duration = Duration::from_millis(100);

#[derive(Debug, Error, Clone, PartialEq)]
pub enum SupervisorError {
    #[error("llama-server not found: set router.serverPath, LLAMA_SERVER_BIN, or put llama-server on PATH")]
    BinaryNotFound,
    #[error("router.port {0} is already in use; stop what holds it or change router.port")]
    PortInUse(u16),
    #[error("llama-server failed to start: {0}")]
    StartFailed(String),
    #[error("the router supervisor is not running")]
    Gone,
}

enum Command {
    Start(oneshot::Sender<Result<RouterStatus, SupervisorError>>),
    Stop(oneshot::Sender<RouterStatus>),
    /// A stop then a start, as one command: the router is coming up again throughout.
    Restart(oneshot::Sender<Result<RouterStatus, SupervisorError>>),
}

/// Cheap to clone; every call goes through the actor.
#[derive(Clone)]
pub struct RouterHandle {
    tx: mpsc::Sender<Command>,
    pub(super) status: watch::Receiver<RouterStatus>,
    /// Whether the actor will have the router running without anyone asking again (see `coming_up`).
    pub(super) coming: watch::Receiver<bool>,
    changes: broadcast::Sender<RouterStatus>,
    ports: ModelPorts,
    pub(super) drain: Drain,
}

impl RouterHandle {
    /// The last lines the process of a router-mode model wrote (for its crash history).
    pub fn model_lines(&self, id: &str) -> Vec<String> {
        self.ports.last_lines(id)
    }

    pub fn status(&self) -> RouterStatus {
        self.status.borrow().clone()
    }

    /// Where the router answers while it is running, with its key (no copy of the whole status).
    pub fn upstream(&self) -> Option<crate::process::Upstream> {
        self.status.borrow().upstream()
    }

    pub fn subscribe(&self) -> watch::Receiver<RouterStatus> {
        self.status.clone()
    }

    /// Every status the router goes through, in order (a watch keeps only the latest, so a quick
    /// stopping → stopped → starting would reach a slow reader as one change). A receiver that lags
    /// gets `Lagged` and should read [`Self::status`] instead.
    pub fn changes(&self) -> broadcast::Receiver<RouterStatus> {
        self.changes.subscribe()
    }

    /// Starts (with the startup retry policy) and waits until it answers or fails.
    pub async fn start(&self) -> Result<RouterStatus, SupervisorError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Command::Start(tx)).await.map_err(|_| SupervisorError::Gone)?;
        rx.await.map_err(|_| SupervisorError::Gone)?
    }

    /// Lets the requests in flight finish (bounded), then stops.
    pub async fn stop(&self) -> Result<RouterStatus, SupervisorError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Command::Stop(tx)).await.map_err(|_| SupervisorError::Gone)?;
        rx.await.map_err(|_| SupervisorError::Gone)
    }

    /// A handle over the given channels with no actor behind it (commands answer `Gone`).
    #[cfg(test)]
    pub(super) fn detached(status: watch::Receiver<RouterStatus>, coming: watch::Receiver<bool>) -> Self {
        let (tx, _) = mpsc::channel(1);
        Self { tx, status, coming, changes: broadcast::channel(1).0, ports: ModelPorts::default(), drain: Drain::new() }
    }

    /// Lets the requests in flight finish (bounded), stops, then starts with the startup retry policy;
    /// requests arriving meanwhile wait for the new process (`running_within`).
    pub async fn restart(&self) -> Result<RouterStatus, SupervisorError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Command::Restart(tx)).await.map_err(|_| SupervisorError::Gone)?;
        rx.await.map_err(|_| SupervisorError::Gone)?
    }
}

/// Spawns the actor; it stops the child when `cancel` fires and then ends. With `router.enabled` and
/// `startup.autoStart` the router counts as coming up from here on: the boot flow starts it once we listen.
pub fn spawn(config: SharedConfig, cancel: CancellationToken) -> (RouterHandle, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(16);
    let (status_tx, status_rx) = watch::channel(RouterStatus::stopped());
    let boot = config.config();
    let (coming_tx, coming_rx) = watch::channel(boot.router.enabled && boot.startup.auto_start);
    let (changes, _) = broadcast::channel(STATUS_CHANGES_KEPT);
    let actor = Actor {
        config,
        rx,
        status: status_tx,
        coming: coming_tx,
        changes: changes.clone(),
        child: None,
        restart_at: None,
        backoff: Backoff::default(),
        ports: ModelPorts::default(),
        drain: Drain::new(),
        cancel,
    };
    let (ports, drain) = (actor.ports.clone(), actor.drain.clone());
    let handle = RouterHandle { tx, status: status_rx, coming: coming_rx, changes, ports, drain };
    (handle, tokio::spawn(actor.run()))
}

/// Status changes a slow `router:status` announcer may fall behind by before it reads the latest instead.
const STATUS_CHANGES_KEPT: usize = 64;

struct Actor {
    config: SharedConfig,
    rx: mpsc::Receiver<Command>,
    status: watch::Sender<RouterStatus>,
    /// True from a start or restart asked (or a crash restart scheduled) until it ran or failed for good,
    /// so that a request arriving before `Starting` or between a restart's stop and start waits.
    coming: watch::Sender<bool>,
    changes: broadcast::Sender<RouterStatus>,
    child: Option<RunningChild>,
    restart_at: Option<Instant>,
    /// Crashes and failed restarts in a row; a crash after a stable run ([`crate::process::restart::STABLE_RUN`])
    /// starts it over. It alone decides when to give up (`startup.retryAttempts` restarts in a row), so
    /// crashes weeks apart never add up; the status's `restarts` keeps counting for display.
    backoff: Backoff,
    /// Whose each output line is, shared across restarts so a model's last lines survive its process.
    ports: ModelPorts,
    drain: Drain,
    cancel: CancellationToken,
}

impl Actor {
    /// Read at every start, so a saved init file applies on the next (re)start.
    fn config(&self) -> Arc<Config> {
        self.config.config()
    }

    async fn run(mut self) {
        loop {
            let restart_at = self.restart_at;
            tokio::select! {
                cmd = self.rx.recv() => match cmd {
                    Some(Command::Start(reply)) => { let _ = reply.send(self.start_with_retries().await); }
                    Some(Command::Stop(reply)) => {
                        self.drain().await;
                        self.coming.send_replace(false);
                        self.stop().await;
                        self.drain.open();
                        let _ = reply.send(self.status.borrow().clone());
                    }
                    Some(Command::Restart(reply)) => {
                        self.coming.send_replace(true);
                        self.drain().await;
                        self.stop().await;
                        let started = self.start_with_retries().await;
                        self.drain.open();
                        let _ = reply.send(started);
                    }
                    None => break,
                },
                code = wait_exit(&mut self.child) => self.on_crash(code).await,
                _ = sleep_until(restart_at.unwrap_or_else(far_future)), if restart_at.is_some() => {
                    self.restart_at = None;
                    match self.start_once().await {
                        Ok(()) => { self.coming.send_replace(false); }
                        Err(err) => {
                            tracing::warn!(error = %err, "router restart failed");
                            self.schedule_restart(None);
                        }
                    }
                }
                _ = self.cancel.cancelled() => break,
            }
        }
        self.coming.send_replace(false);
        self.stop().await;
    }

    /// Before a stop or restart someone asked for: no new request is sent to the router, and those in
    /// flight may finish, at most [`DRAIN_LIMIT`] (or until shutdown).
    async fn drain(&mut self) {
        if self.child.is_none() {
            return;
        }
        let still_out = tokio::select! {
            out = self.drain.close_and_wait(DRAIN_LIMIT) => out,
            () = self.cancel.cancelled() => self.drain.leases_out(),
        };
        if still_out > 0 {
            tracing::warn!(still_out, "requests still running after {DRAIN_LIMIT:?}; stopping the router anyway");
        }
    }

    /// A start someone asked for: a fresh restart budget, then `startup.retryAttempts` retries.
    async fn start_with_retries(&mut self) -> Result<RouterStatus, SupervisorError> {
        self.restart_at = None;
        if self.child.is_some() {
            self.coming.send_replace(false);
            return Ok(self.status.borrow().clone());
        }
        self.coming.send_replace(true);
        self.backoff.reset();
        let result = self.start_retrying().await;
        self.coming.send_replace(false);
        result
    }

    /// One start, then up to `startup.retryAttempts` more `startup.retryDelay` apart while it fails.
    async fn start_retrying(&mut self) -> Result<RouterStatus, SupervisorError> {
        let s = self.config().startup.clone();
        let mut result = self.start_once().await;
        for attempt in 1..=s.retry_attempts {
            match &result {
                Err(SupervisorError::StartFailed(_)) => {}
                _ => break,
            }
            tracing::warn!(attempt, "router start failed; retrying in {} ms", s.retry_delay);
            sleep(Duration::from_millis(s.retry_delay as u64)).await;
            result = self.start_once().await;
        }
        result.map(|_| self.status.borrow().clone())
    }

    async fn start_once(&mut self) -> Result<(), SupervisorError> {
        let started = std::time::Instant::now();
        let binary = resolve_binary(&self.config()).ok_or(SupervisorError::BinaryNotFound);
        let outcome = match binary {
            Ok(binary) => self.launch(&binary).await,
            Err(err) => Err(err),
        };
        match &outcome {
            Ok(()) => tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "router ready"),
            Err(err) => {
                // A start that got as far as a process already recorded its exit code and last lines.
                let (code, lines) = match err {
                    SupervisorError::StartFailed(_) => {
                        let s = self.status.borrow();
                        (s.exit_code, s.last_lines.clone())
                    }
                    _ => (None, Vec::new()),
                };
                self.publish_failure(RouterState::Failed, err.to_string(), code, lines)
            }
        }
        outcome
    }

    async fn launch(&mut self, binary: &std::path::Path) -> Result<(), SupervisorError> {
        let config = self.config();
        let (host, port) = (config.router.host.clone(), config.router.port);
        if std::net::TcpListener::bind((host.as_str(), port)).is_err() {
            return Err(SupervisorError::PortInUse(port));
        }
        let args = without_missing_presets(router_args(&config), config.models.presets_file.as_deref());
        tracing::info!(binary = %binary.display(), args = %args.join(" "), "starting llama-server router");
        let key = crate::process::Secret::random()
            .map_err(|e| SupervisorError::StartFailed(format!("no random key: {e}")))?;
        let client = crate::process::Loopback::new(Duration::from_secs(2), Some(Duration::from_secs(2)));
        let mut running = child::spawn(binary, &args, self.ports.clone(), &key)
            .map_err(|e| SupervisorError::StartFailed(e.to_string()))?;
        self.publish(|s| {
            s.state = RouterState::Starting;
            s.pid = Some(running.pid);
            s.error = None;
        });
        let url = format!("http://{host}:{port}");
        let deadline = Duration::from_millis(config.startup.timeout as u64);
        match ready_or_stopped(&mut running, &client, &url, &key, deadline).await {
            Ok(()) => {
                self.publish(|s| {
                    s.state = RouterState::Running;
                    s.url = Some(url);
                    s.key = Some(key);
                    s.started_at = Some(now_ms());
                    s.exit_code = None;
                    s.last_lines.clear();
                });
                self.child = Some(running);
                Ok(())
            }
            Err((reason, code)) => {
                let lines = running.final_lines().await;
                self.publish_failure(RouterState::Failed, reason.clone(), code, lines);
                Err(SupervisorError::StartFailed(reason))
            }
        }
    }

    async fn stop(&mut self) {
        self.restart_at = None;
        let Some(mut running) = self.child.take() else { return };
        self.publish(|s| s.state = RouterState::Stopping);
        let code = child::stop(&mut running, STOP_GRACE).await;
        tracing::info!(exit_code = ?code, "router stopped");
        self.publish(|s| {
            *s = RouterStatus { exit_code: code, restarts: s.restarts, ..RouterStatus::stopped() };
        });
    }

    async fn on_crash(&mut self, code: Option<i32>) {
        let lines = match self.child.take() {
            Some(mut crashed) => crashed.final_lines().await,
            None => Vec::new(),
        };
        let reason =
            format!("llama-server exited unexpectedly (exit code {})", code.map_or("none".into(), |c| c.to_string()));
        tracing::error!(exit_code = ?code, last_line = lines.last().map(String::as_str).unwrap_or(""), "{reason}");
        let ran_for = self.status.borrow().started_at.map(|at| Duration::from_millis((now_ms() - at).max(0) as u64));
        self.publish_failure(RouterState::Crashed, reason, code, lines);
        self.schedule_restart(ran_for);
    }

    /// `ran_for`: how long the router had been running before it crashed (`None` for a failed start).
    /// Gives up after `startup.retryAttempts` restarts in a row (see [`Backoff::exhausted`]).
    fn schedule_restart(&mut self, ran_for: Option<Duration>) {
        self.backoff.record_crash(std::time::Instant::now(), ran_for);
        let attempts = u32::try_from(self.config().startup.retry_attempts).unwrap_or(0);
        if self.backoff.exhausted(attempts) {
            let in_a_row = self.backoff.crashes();
            tracing::error!(in_a_row, "router keeps failing; not restarting again (use router:start)");
            self.coming.send_replace(false);
            self.publish(|s| s.state = RouterState::Failed);
            return;
        }
        let backoff = self.backoff.delay();
        tracing::warn!(in_ms = backoff.as_millis() as u64, "restarting the router");
        self.coming.send_replace(true);
        self.publish(|s| s.restarts += 1);
        self.restart_at = Some(Instant::now() + backoff);
    }

    /// Changes the status and announces the new one to [`RouterHandle::changes`] (nobody listening is fine).
    fn publish(&self, change: impl FnOnce(&mut RouterStatus)) {
        self.status.send_modify(change);
        let _ = self.changes.send(self.status.borrow().clone());
    }

    fn publish_failure(&self, state: RouterState, error: String, code: Option<i32>, lines: Vec<String>) {
        self.publish(|s| {
            s.state = state;
            s.pid = None;
            s.url = None;
            s.key = None;
            s.started_at = None;
            s.exit_code = code;
            s.error = Some(error);
            s.last_lines = lines;
        });
    }
}

/// Resolves when the running child exits; pending forever when there is none.
async fn wait_exit(child: &mut Option<RunningChild>) -> Option<i32> {
    match child {
        Some(running) => running.child.wait().await.ok().and_then(exit_code),
        None => std::future::pending().await,
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}

/// Waits until the router answers `/health` within `deadline`; otherwise stops it and says why, with
/// its exit code. Never cancelled: a start always runs to an outcome, and shutdown waits for it.
async fn ready_or_stopped(
    running: &mut RunningChild,
    client: &crate::process::Loopback,
    url: &str,
    key: &crate::process::Secret,
    deadline: Duration,
) -> Result<(), (String, Option<i32>)> {
    let health = format!("{url}/health");
    let probe = Probe { client, url: &health, key, every: HEALTH_POLL };
    let Err(not_ready) = wait_ready(running, &probe, deadline, std::future::pending::<()>()).await else {
        return Ok(());
    };
    let stopped = child::stop(running, STOP_GRACE).await;
    Err(match not_ready {
        NotReady::Exited { code, .. } => (
            format!("llama-server exited during startup (exit code {})", code.map_or("none".into(), |c| c.to_string())),
            code,
        ),
        NotReady::Deadline => (
            format!("llama-server did not answer {health} within {} ms (startup.timeout)", deadline.as_millis()),
            stopped,
        ),
        NotReady::Cancelled => ("llama-server start was cancelled".into(), stopped),
    })
}

/// llama-server refuses to start with a `--models-preset` file that does not exist; a configured file that
/// is not there yet (it can be written from the dashboard, `presets:save`) is left out until it is.
fn without_missing_presets(args: Vec<String>, presets: Option<&str>) -> Vec<String> {
    let Some(file) = presets.filter(|f| !std::path::Path::new(f).is_file()) else { return args };
    tracing::warn!(file, "models.presetsFile does not exist yet; starting the router without --models-preset");
    let mut out = Vec::with_capacity(args.len());
    let mut iter = args.into_iter();
    while let Some(arg) = iter.next() {
        if arg == "--models-preset" {
            iter.next();
        } else {
            out.push(arg);
        }
    }
    out
}

/// `router.serverPath`, then `$LLAMA_SERVER_BIN`, then `llama-server` on PATH, then the setup script's cache.
pub fn resolve_binary(config: &Config) -> Option<PathBuf> {
    let configured = config.router.server_path.as_ref().map(PathBuf::from);
    let from_env = std::env::var_os("LLAMA_SERVER_BIN").map(PathBuf::from);
    configured
        .into_iter()
        .chain(from_env)
        .chain(child::which("llama-server"))
        .chain(cached_binary())
        .find(|p| p.is_file())
}

fn cached_binary() -> Option<PathBuf> {
    let cache = std::env::var_os("LLAMA_DASHBOARD_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/llama-dashboard")))?;
    let mut found: Vec<PathBuf> = std::fs::read_dir(cache)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin/llama-server")))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop()
}
