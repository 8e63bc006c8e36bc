//! The one owner of every backend's state, so callers never race: a request waits on a reply while the
//! manager makes room (what to stop, refuse or start is [`plan`]'s decision), starts the process, and
//! answers every waiter once the backend is ready or has failed. Stops of ready backends wait for their
//! requests in flight.

use super::crash_loop::{CrashLoop, StartConfig};
use super::instance::{self, Event, Outcome, Spec};
use super::memory;
use super::plan::{self, FreeMemory, PlanInput, SlotView};
use super::{BackendError, BackendState, BackendStatus, Command, Inputs, MetadataCache, Ready, Reply, Statuses};
use crate::config::{BackendModel, Config, SharedConfig};
use crate::core::activity::Gates;
use crate::metrics::Sample;
use crate::process::restart::Backoff;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

const TICK: Duration = Duration::from_secs(1);
/// How long a stop waits for the backend's requests in flight.
const DRAIN_LIMIT: Duration = Duration::from_secs(60);
const SHUTDOWN_LIMIT: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Slot {
    status: Option<BackendStatus>,
    generation: u64,
    stop: Option<oneshot::Sender<()>>,
    waiters: Vec<Reply<Ready>>,
    /// A start was asked for and not yet begun (waiting for room, or for a crash backoff).
    want_start: bool,
    start_reason: &'static str,
    ready_at: Option<Instant>,
    /// When it last stopped (ms since the epoch): memory a metrics sample taken before still counts as used.
    stopped_at_ms: Option<i64>,
    /// Crashes after being ready; a start waits out its delay.
    backoff: Backoff,
    /// Every crash, at startup or later; once tripped, no start until a reset or a changed start.
    crash_loop: CrashLoop,
    /// What a request for it is answered while the guard is tripped.
    crash_loop_error: Option<BackendError>,
    /// What its last start ran, to tell a changed start from the one that kept crashing.
    started_with: Option<StartConfig>,
    /// Ports handed to its process while it starts, so no other backend starting at once takes them.
    reserved_ports: Vec<u16>,
}

impl Slot {
    fn state(&self) -> BackendState {
        self.status.as_ref().map_or(BackendState::Stopped, |s| s.state)
    }

    fn occupies(&self) -> bool {
        matches!(self.state(), BackendState::Starting | BackendState::Ready | BackendState::Stopping)
    }

    fn forget_crashes(&mut self) {
        self.backoff.reset();
        self.crash_loop.reset();
        self.crash_loop_error = None;
    }
}

pub struct Manager {
    config: SharedConfig,
    gates: Gates,
    metadata: MetadataCache,
    latest: watch::Receiver<Option<Sample>>,
    client: crate::process::Loopback,
    slots: HashMap<String, Slot>,
    events_tx: mpsc::Sender<Event>,
    events_rx: Option<mpsc::Receiver<Event>>,
    statuses: watch::Sender<Statuses>,
    generation: u64,
}

impl Manager {
    pub fn new(inputs: Inputs, statuses: watch::Sender<Statuses>) -> Self {
        let Inputs { config, gates, metadata, latest } = inputs;
        let client = crate::process::Loopback::new(Duration::from_secs(2), Some(Duration::from_secs(2)));
        let (events_tx, events_rx) = mpsc::channel(64);
        Self {
            config,
            gates,
            metadata,
            latest,
            client,
            slots: HashMap::new(),
            events_tx,
            events_rx: Some(events_rx),
            statuses,
            generation: 0,
        }
    }

    pub async fn run(mut self, mut commands: mpsc::Receiver<Command>, cancel: CancellationToken) {
        let Some(mut events) = self.events_rx.take() else { return };
        let mut tick = tokio::time::interval(TICK);
        loop {
            tokio::select! {
                Some(command) = commands.recv() => self.on_command(command),
                Some(event) = events.recv() => self.on_event(event),
                _ = tick.tick() => self.on_tick(),
                _ = cancel.cancelled() => break,
            }
        }
        self.shutdown(&mut events).await;
    }

    fn on_command(&mut self, command: Command) {
        let config = self.config.config();
        match command {
            Command::Ensure { model, reason, reply } => match config.backends.model(&model) {
                Some(spec) => self.ensure(&config, spec.clone(), reason, reply),
                None => {
                    let _ = reply.send(Err(BackendError::NotConfigured(model)));
                }
            },
            Command::StopAll { reason, reply } => {
                let running: Vec<String> = self
                    .slots
                    .iter()
                    .filter(|(_, s)| matches!(s.state(), BackendState::Starting | BackendState::Ready))
                    .map(|(id, _)| id.clone())
                    .collect();
                for id in &running {
                    self.request_stop(id, reason);
                }
                let _ = reply.send(Ok(running));
            }
            Command::Stop { model, reason, reply } => {
                let id = config.backends.model(&model).map_or(model, |m| m.name.clone());
                self.request_stop(&id, reason);
                let _ = reply.send(Ok(()));
            }
            Command::Preview { model, reply } => {
                let answer = match config.backends.model(&model) {
                    Some(spec) => Ok(self.preview(&config, spec)),
                    None => Err(BackendError::NotConfigured(model)),
                };
                let _ = reply.send(answer);
            }
            Command::Reset { model, reply } => {
                if let Some(slot) = self.slots.get_mut(&model) {
                    slot.forget_crashes();
                }
                if self.slots.get(&model).is_some_and(|s| s.state() == BackendState::Error) {
                    self.set(&model, |s| {
                        *s = BackendStatus { reason: Some("reset".into()), ..BackendStatus::stopped() }
                    });
                }
                let _ = reply.send(Ok(()));
            }
        }
    }

    fn ensure(&mut self, config: &Config, spec: BackendModel, reason: &'static str, reply: Reply<Ready>) {
        if let Some(err) = self.crash_loop_refusal(config, &spec) {
            let _ = reply.send(Err(err));
            return;
        }
        let slot = self.slots.entry(spec.name.clone()).or_default();
        if let Some(upstream) = slot.status.as_ref().and_then(BackendStatus::upstream) {
            let _ = reply.send(Ok(Ready { upstream, claim: self.gates.claim(&spec.name) }));
            return;
        }
        slot.waiters.push(reply);
        if slot.state() == BackendState::Starting {
            return;
        }
        slot.want_start = true;
        slot.start_reason = reason;
        self.make_room_and_start(config, &spec);
    }

    /// The crash-loop error while the backend's guard is tripped; `None` when it is not, or when what its
    /// start runs changed since (the guard is then lifted: the change may be the fix).
    fn crash_loop_refusal(&mut self, config: &Config, spec: &BackendModel) -> Option<BackendError> {
        let slot = self.slots.get_mut(&spec.name)?;
        if !slot.crash_loop.tripped() {
            return None;
        }
        if slot.started_with.as_ref() == Some(&start_config(config, spec)) {
            return slot.crash_loop_error.clone();
        }
        tracing::info!(model = %spec.name, "its spawn command, path or mmproj changed; crash-loop guard lifted");
        slot.forget_crashes();
        None
    }

    /// Makes room for the backend and starts it when there is room: the decisions are [`plan`]'s, made
    /// again on every request, ready, exit and tick while it is wanted.
    fn make_room_and_start(&mut self, config: &Config, spec: &BackendModel) {
        let plan = plan::plan(&self.views(config), &self.plan_input(config, &spec.name));
        for (id, reason) in plan.stop {
            self.request_stop(&id, reason.as_str());
        }
        if let Some(err) = plan.refuse {
            self.refuse(&spec.name, err);
        }
        if plan.start {
            self.start(config, spec);
        }
    }

    /// What a start of `spec` would do now, as if it were wanted and past any backoff (a tripped crash-loop
    /// guard refuses it, as a start would be); nothing is applied.
    fn preview(&self, config: &Config, spec: &BackendModel) -> plan::Plan {
        let slot = self.slots.get(&spec.name);
        let guarded =
            slot.filter(|s| s.crash_loop.tripped() && s.started_with.as_ref() == Some(&start_config(config, spec)));
        if let Some(err) = guarded.and_then(|s| s.crash_loop_error.clone()) {
            return plan::Plan { refuse: Some(err), ..plan::Plan::default() };
        }
        let mut views = self.views(config);
        let need = self.metadata.need(&config.backends, spec).and_then(Result::ok);
        match views.iter_mut().find(|v| v.id == spec.name) {
            Some(view) => {
                view.want_start = true;
                view.in_backoff = false;
            }
            None => views.push(SlotView {
                id: &spec.name,
                state: BackendState::Stopped,
                group: Some(spec.group_name()),
                reason: None,
                last_active: None,
                need,
                stopped_at_ms: None,
                want_start: true,
                in_backoff: false,
                pinned: spec.pinned,
            }),
        }
        plan::plan(&views, &self.plan_input(config, &spec.name))
    }

    fn plan_input<'a>(&self, config: &Config, wanted: &'a str) -> PlanInput<'a> {
        let memory = self
            .latest
            .borrow()
            .as_ref()
            .map(|s| FreeMemory { bytes: memory::free_bytes(s), sampled_at_ms: s.timestamp });
        PlanInput { wanted, max_running: config.backends.max_running, memory }
    }

    /// Every backend as [`plan`] sees it.
    fn views<'a>(&'a self, config: &'a Config) -> Vec<SlotView<'a>> {
        let now = Instant::now();
        let view = |(id, slot): (&'a String, &'a Slot)| {
            let model = config.backends.model(id);
            SlotView {
                id,
                state: slot.state(),
                group: model.map(BackendModel::group_name),
                reason: slot.status.as_ref().and_then(|s| s.reason.as_deref()),
                last_active: self.gates.last_active(id).into_iter().chain(slot.ready_at).max(),
                // Unknown metadata or an estimate that overflows: no memory check (llama-server reports what it finds).
                need: model.and_then(|m| self.metadata.need(&config.backends, m)?.ok()),
                stopped_at_ms: slot.stopped_at_ms,
                want_start: slot.want_start,
                in_backoff: !slot.backoff.passed(now),
                pinned: model.is_some_and(|m| m.pinned),
            }
        };
        self.slots.iter().map(view).collect()
    }

    /// Fails the waiters. Not enough memory marks the backend `error`; pinned models in the way do not
    /// (nothing is wrong with it: it may start once they are unpinned).
    fn refuse(&mut self, id: &str, err: BackendError) {
        tracing::warn!(model = %id, "{err}");
        self.fail_waiters(id, err.clone());
        if let BackendError::Pinned { .. } = err {
            if let Some(slot) = self.slots.get_mut(id) {
                slot.want_start = false;
            }
            return;
        }
        self.set(id, |s| {
            s.state = BackendState::Error;
            s.error = Some(err.to_string());
            s.reason = Some("memory".into());
        });
    }

    fn start(&mut self, config: &Config, spec: &BackendModel) {
        let spawn = config.backends.spawn_of(spec);
        let program = resolve_program(config, spawn.command.first().map(String::as_str).unwrap_or_default());
        let key = match crate::process::Secret::random() {
            Ok(key) => key,
            Err(err) => {
                let error = format!("no random key for the backend: {err}");
                self.refuse(&spec.name, BackendError::Failed { model: spec.name.clone(), error, lines: Vec::new() });
                return;
            }
        };
        self.generation += 1;
        let (stop_tx, stop_rx) = oneshot::channel();
        let instance = Spec {
            model: spec.name.clone(),
            generation: self.generation,
            program,
            args: spawn.command.iter().skip(1).cloned().collect(),
            path: spec.path.clone(),
            mmproj: spec.mmproj.clone(),
            ports: self.free_ports(config.backends.base_port),
            health_path: config.backends.health_endpoint.clone(),
            deadline: Duration::from_secs(config.backends.start_timeout_sec.max(1) as u64),
            key: key.clone(),
        };
        let generation = self.generation;
        let reserved = instance.ports.clone();
        let slot = self.slots.entry(spec.name.clone()).or_default();
        slot.started_with = Some(start_config(config, spec));
        slot.reserved_ports = reserved;
        slot.want_start = false;
        slot.generation = generation;
        slot.stop = Some(stop_tx);
        let reason = slot.start_reason;
        self.set(&spec.name, |s| {
            *s = BackendStatus {
                state: BackendState::Starting,
                reason: Some(reason.into()),
                key: Some(key),
                ..BackendStatus::stopped()
            }
        });
        tracing::info!(model = %spec.name, reason, "starting backend");
        tokio::spawn(instance::run(instance, self.client.clone(), self.events_tx.clone(), stop_rx));
    }

    /// Ports from `base` up that no backend of ours uses and nothing else listens on right now.
    fn free_ports(&self, base: u16) -> Vec<u16> {
        let ours: Vec<u16> = self
            .slots
            .values()
            .filter(|s| s.occupies())
            .flat_map(|s| s.status.as_ref().and_then(|st| st.port).into_iter().chain(s.reserved_ports.iter().copied()))
            .collect();
        (base..=u16::MAX)
            .filter(|p| !ours.contains(p))
            .filter(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
            .take(4)
            .collect()
    }

    fn request_stop(&mut self, id: &str, reason: &'static str) {
        let Some(slot) = self.slots.get_mut(id) else { return };
        let state = slot.state();
        if !matches!(state, BackendState::Starting | BackendState::Ready) {
            if slot.want_start {
                self.fail_waiters(id, BackendError::Stopped(id.into()));
            }
            return;
        }
        let Some(stop) = slot.stop.take() else { return };
        tracing::info!(model = %id, reason, "stopping backend");
        self.set(id, |s| {
            s.state = BackendState::Stopping;
            s.reason = Some(reason.into());
        });
        if state == BackendState::Starting {
            let _ = stop.send(());
            return;
        }
        let (gates, model) = (self.gates.clone(), id.to_string());
        tokio::spawn(async move {
            let deadline = Instant::now() + DRAIN_LIMIT;
            while gates.busy(&model) && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let _ = stop.send(());
        });
    }

    fn on_event(&mut self, event: Event) {
        let Some(slot) = self.slots.get(&event.model) else { return };
        if slot.generation != event.generation {
            return;
        }
        let id = event.model;
        match event.outcome {
            Outcome::Ready { port, pid } => self.on_ready(&id, port, pid),
            Outcome::Failed { error, exit_code, lines, exited } => self.on_failed(&id, error, exit_code, lines, exited),
            Outcome::Exited { exit_code, lines, requested } => self.on_exited(&id, exit_code, lines, requested),
        }
        self.start_pending();
    }

    fn on_ready(&mut self, id: &str, port: u16, pid: u32) {
        if let Some(slot) = self.slots.get_mut(id) {
            slot.ready_at = Some(Instant::now());
        }
        self.set(id, |s| {
            s.load_ms = Some(s.since.elapsed().as_millis() as u64);
            s.state = BackendState::Ready;
            s.port = Some(port);
            s.pid = Some(pid);
        });
        let upstream = self.slots.get(id).and_then(|s| s.status.as_ref()).and_then(BackendStatus::upstream);
        let Some(slot) = self.slots.get_mut(id) else { return };
        for waiter in slot.waiters.drain(..) {
            let ready = upstream.clone().map(|upstream| Ready { upstream, claim: self.gates.claim(id) });
            let _ = waiter.send(ready.ok_or_else(|| BackendError::Stopped(id.to_string())));
        }
        tracing::info!(model = %id, port, "backend ready");
    }

    /// A start that never became ready; `exited`: its process died by itself (a crash, for the guard).
    fn on_failed(&mut self, id: &str, error: String, exit_code: Option<i32>, lines: Vec<String>, exited: bool) {
        let Some(slot) = self.slots.get_mut(id) else { return };
        slot.stop = None;
        let stopped = slot.status.as_ref().is_some_and(|s| s.state == BackendState::Stopping);
        tracing::warn!(model = %id, exit_code, "backend failed to start: {error}");
        if !stopped && exited && self.trips_crash_loop(id, &error, exit_code, &lines) {
            return;
        }
        let Some(slot) = self.slots.get_mut(id) else { return };
        let err = if stopped {
            BackendError::Stopped(id.to_string())
        } else {
            BackendError::Failed { model: id.to_string(), error: error.clone(), lines: lines.clone() }
        };
        if !stopped || !slot.want_start {
            for waiter in slot.waiters.drain(..) {
                let _ = waiter.send(Err(err.clone()));
            }
        }
        self.set(id, |s| {
            *s = if stopped {
                BackendStatus { reason: s.reason.clone(), ..BackendStatus::stopped() }
            } else {
                BackendStatus {
                    state: BackendState::Error,
                    error: Some(error),
                    exit_code,
                    last_lines: lines,
                    reason: s.reason.clone(),
                    ..BackendStatus::stopped()
                }
            };
        });
    }

    fn on_exited(&mut self, id: &str, exit_code: Option<i32>, lines: Vec<String>, requested: bool) {
        let Some(slot) = self.slots.get_mut(id) else { return };
        let ran_for = slot.ready_at.map(|at| at.elapsed());
        slot.stop = None;
        slot.ready_at = None;
        slot.stopped_at_ms = Some(crate::db::now_ms());
        if requested {
            tracing::info!(model = %id, exit_code, "backend stopped");
            self.set(id, |s| *s = BackendStatus { reason: s.reason.clone(), ..BackendStatus::stopped() });
            return;
        }
        slot.backoff.record_crash(Instant::now(), ran_for);
        let error = format!("exited unexpectedly with code {}", exit_code.map_or("none".into(), |c| c.to_string()));
        tracing::warn!(model = %id, exit_code, "backend {error}");
        if self.trips_crash_loop(id, &error, exit_code, &lines) {
            return;
        }
        self.set(id, |s| {
            *s = BackendStatus {
                state: BackendState::Error,
                error: Some(error),
                exit_code,
                last_lines: lines,
                reason: Some("crash".into()),
                ..BackendStatus::stopped()
            }
        });
    }

    /// Counts a crash toward the backend's guard. When it trips, the backend is refused from now on: its
    /// waiters get the crash-loop error, its status says so (reason `crash loop`), and this returns true.
    fn trips_crash_loop(&mut self, id: &str, error: &str, exit_code: Option<i32>, lines: &[String]) -> bool {
        let Some(slot) = self.slots.get_mut(id) else { return false };
        if !slot.crash_loop.record(Instant::now()) {
            return false;
        }
        let err = BackendError::CrashLoop { model: id.to_string(), error: error.to_string(), lines: lines.to_vec() };
        slot.crash_loop_error = Some(err.clone());
        tracing::error!(model = %id, "{err}");
        self.fail_waiters(id, err.clone());
        self.set(id, |s| {
            *s = BackendStatus {
                state: BackendState::Error,
                error: Some(err.to_string()),
                exit_code,
                last_lines: lines.to_vec(),
                reason: Some("crash loop".into()),
                ..BackendStatus::stopped()
            }
        });
        true
    }

    /// Idle backends are stopped by the one idle task of every model kind (`models::idle`); the tick only
    /// retries starts that were waiting for room or for a crash backoff.
    fn on_tick(&mut self) {
        self.start_pending();
    }

    fn start_pending(&mut self) {
        let config = self.config.config();
        let pending: Vec<String> = self.slots.iter().filter(|(_, s)| s.want_start).map(|(id, _)| id.clone()).collect();
        for id in pending {
            match config.backends.model(&id).cloned() {
                Some(spec) => self.make_room_and_start(&config, &spec),
                None => self.fail_waiters(&id, BackendError::NotConfigured(id.clone())),
            }
        }
    }

    fn fail_waiters(&mut self, id: &str, err: BackendError) {
        if let Some(slot) = self.slots.get_mut(id) {
            slot.want_start = false;
            for waiter in slot.waiters.drain(..) {
                let _ = waiter.send(Err(err.clone()));
            }
        }
    }

    /// Changes a backend's status and publishes the new set.
    fn set(&mut self, id: &str, change: impl FnOnce(&mut BackendStatus)) {
        let slot = self.slots.entry(id.to_string()).or_default();
        let status = slot.status.get_or_insert_with(BackendStatus::stopped);
        let before = status.state;
        change(status);
        if status.state != before {
            status.since = Instant::now();
        }
        let snapshot: Statuses =
            self.slots.iter().filter_map(|(id, s)| s.status.clone().map(|st| (id.clone(), st))).collect();
        self.statuses.send_replace(snapshot);
    }

    /// Stops every backend at once (HTTP has drained already) and waits for them, bounded.
    async fn shutdown(&mut self, events: &mut mpsc::Receiver<Event>) {
        let mut running = 0;
        for slot in self.slots.values_mut() {
            if let Some(stop) = slot.stop.take() {
                let _ = stop.send(());
                running += 1;
            }
            for waiter in slot.waiters.drain(..) {
                let _ = waiter.send(Err(BackendError::Closed));
            }
        }
        let deadline = tokio::time::Instant::now() + SHUTDOWN_LIMIT;
        while running > 0 {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Some(Event { outcome: Outcome::Exited { .. } | Outcome::Failed { .. }, .. })) => running -= 1,
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
    }
}

/// What a start of `spec` runs under `config`.
fn start_config(config: &Config, spec: &BackendModel) -> StartConfig {
    StartConfig {
        command: config.backends.spawn_of(spec).command.clone(),
        path: spec.path.clone(),
        mmproj: spec.mmproj.clone(),
    }
}

/// A bare `llama-server` resolves like the router's binary; anything else is used as written.
fn resolve_program(config: &Config, program: &str) -> std::path::PathBuf {
    if program == "llama-server"
        && let Some(found) = crate::supervisor::resolve_binary(config)
    {
        return found;
    }
    std::path::PathBuf::from(program)
}
