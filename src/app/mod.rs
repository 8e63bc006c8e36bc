//! The composition root: builds the services, spawns the background tasks, serves, and shuts down in
//! order. The only module that knows every other one.
//!
//! Shutdown (first SIGTERM / Ctrl-C): stop accepting and close the dashboard's sockets; let open HTTP
//! requests (`/v1` streams included) finish, for at most `server.shutdownTimeoutSec`; then stop the
//! background tasks; then stop the router and the backends; then store the request rows still queued
//! (those of streams the deadline cut included); then store the last log lines. Each stage has its own
//! token, so none starts before the one before it ended. A second signal exits at once.

pub mod boot;
mod reload;
pub mod routes;
pub mod shutdown;
mod state;

pub use reload::reload;
pub use state::{AppState, Services};

use crate::config::{CliOverrides, Config, LoadedConfig, SharedConfig};
use crate::core::activity::Gates;
use crate::core::bus::Bus;
use crate::core::drops::Drops;
use crate::db::{Db, DbError, NewLog};
use crate::logs::LogWriter;
use crate::metrics::SamplerTask;
use crate::models::Models;
use crate::proxy::handle::Proxy;
use crate::settings::SettingsStore;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Error)]
pub enum AppError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("port {port} is already in use on {host} (change server.port in the init file or pass --port)")]
    PortInUse { host: String, port: u16 },
    #[error("cannot listen on {host}:{port} (server.host / server.port): {source}")]
    Bind { host: String, port: u16, source: std::io::Error },
    #[error("http server failed: {0}")]
    Serve(std::io::Error),
    #[error("cannot set up the HTTP client for nodes: {0}")]
    NodesClient(#[from] reqwest::Error),
}

/// What `main` hands over: the validated config, the data dir and the log queue.
pub struct Startup {
    pub loaded: LoadedConfig,
    pub cli: CliOverrides,
    pub data_dir: PathBuf,
    pub log_rx: mpsc::Receiver<NewLog>,
    pub log_dropped: Arc<AtomicU64>,
}

/// Tokens of the shutdown stages after HTTP, in the order they are cancelled.
struct Stages {
    tasks: CancellationToken,
    children: CancellationToken,
    telemetry: CancellationToken,
    logs: CancellationToken,
}

impl Stages {
    fn new() -> Self {
        let token = CancellationToken::new;
        Self { tasks: token(), children: token(), telemetry: token(), logs: token() }
    }
}

/// How long requests cut by the children stopping get to end their records.
const CUT_REQUESTS_SETTLE: Duration = Duration::from_secs(2);

/// Runs until `stop` fires, then shuts down in order (see the module docs).
pub async fn run(startup: Startup, stop: CancellationToken) -> Result<(), AppError> {
    let t = Instant::now();
    let db = Db::open(&startup.data_dir)?;
    tracing::info!(path = %db.path().display(), elapsed_ms = t.elapsed().as_millis() as u64, "database ready");
    let config = Arc::new(startup.loaded.config.clone());
    crate::serve::raise_open_files_limit();
    let listener = bind(&config).await?;
    let listen_addr = listener.local_addr().map_err(AppError::Serve)?;
    let stages = Stages::new();
    let Built { state, latest_tx, telemetry_rx, children } =
        build(&startup.loaded, &startup.cli, db, listen_addr, &stages).await?;
    state.models.first_scan().await;
    let (socket_layer, io) = crate::live::layer(state.clone());
    let app = routes::with_sockets(state.clone(), socket_layer);

    let mut tasks = spawn_tasks(&state, &stages.tasks, latest_tx, startup.data_dir.clone());
    let telemetry = tokio::spawn(crate::proxy::telemetry::run(sinks(&state), telemetry_rx, stages.telemetry.clone()));
    tasks.spawn(crate::live::bridge::run(io.clone(), state.clone(), stages.tasks.clone()));
    let writer = tokio::spawn(
        LogWriter {
            rx: startup.log_rx,
            dropped: startup.log_dropped,
            db: state.db.clone(),
            bus: state.bus.clone(),
            drops: state.drops.clone(),
            cancel: stages.logs.clone(),
        }
        .run(),
    );
    warn_if_open(&config);
    println!("llama-dashboard listening on http://{listen_addr}");
    tracing::info!(addr = %listen_addr, startup_ms = t.elapsed().as_millis() as u64, "ready");

    let close_sockets = async move {
        stop.cancelled().await;
        io.close().await;
    };
    let drained = crate::serve::serve(listener, app, crate::serve::Limits::of(&config), close_sockets).await;
    let deadline = Duration::from_secs(u64::try_from(state.config().server.shutdown_timeout_sec).unwrap_or(0));
    tracing::info!(deadline_s = deadline.as_secs(), "stopped accepting; waiting for requests in flight");
    if tokio::time::timeout(deadline, drained).await.is_err() {
        tracing::warn!("requests still running after {deadline:?} (server.shutdownTimeoutSec); closing them");
    }
    stages.tasks.cancel();
    while tasks.join_next().await.is_some() {}
    stages.children.cancel();
    for child in children {
        let _ = child.await;
    }
    state.activity.drain(CUT_REQUESTS_SETTLE).await;
    stages.telemetry.cancel();
    let _ = telemetry.await;
    tracing::info!("stopped");
    stages.logs.cancel();
    let _ = writer.await;
    Ok(())
}

/// The services, wired, with the ends of their channels that the tasks take.
struct Built {
    state: AppState,
    latest_tx: watch::Sender<Option<crate::metrics::Sample>>,
    telemetry_rx: mpsc::Receiver<crate::db::NewRequest>,
    /// The router and backends actors, which run under the children stage.
    children: Vec<tokio::task::JoinHandle<()>>,
}

async fn build(
    loaded: &LoadedConfig,
    cli: &CliOverrides,
    db: Db,
    listen_addr: std::net::SocketAddr,
    stages: &Stages,
) -> Result<Built, AppError> {
    let config_store = SharedConfig::new(loaded.clone(), cli.clone());
    let (latest_tx, latest) = watch::channel(None);
    let activity = Gates::default();
    let bus = Bus::new();
    let (router, router_task) = crate::supervisor::spawn(config_store.clone(), stages.children.clone());
    let metadata = crate::backends::MetadataCache::default();
    let inputs = crate::backends::Inputs {
        config: config_store.clone(),
        gates: activity.clone(),
        metadata: metadata.clone(),
        latest: latest.clone(),
    };
    let (backends, backends_task) = crate::backends::spawn(inputs, stages.children.clone());
    let models = Models::new(crate::models::Parts {
        config: config_store.clone(),
        db: db.clone(),
        bus: bus.clone(),
        activity: activity.clone(),
        router: router.clone(),
        backends,
        metadata,
        latest: latest.clone(),
    });
    let drops = Drops::default();
    let (proxy, telemetry_rx) = Proxy::new(drops.clone());
    let settings = SettingsStore::load(db.clone(), &loaded.config).await?;
    let nodes = crate::nodes::Nodes::new(config_store.clone(), bus.clone())?;
    let state = AppState::new(Services {
        nodes,
        config_store,
        db,
        settings,
        models,
        router,
        proxy,
        activity,
        bus,
        drops,
        latest,
        started: Instant::now(),
        listen_addr,
        pulls: crate::pull::service::Pulls::new(stages.tasks.child_token()),
    });
    Ok(Built { state, latest_tx, telemetry_rx, children: vec![router_task, backends_task] })
}

/// The services wired as [`run`] wires them, with the stored catalog read and no background task
/// running: for tests that drive [`routes::router`] with `oneshot`. The router and backends actors idle
/// until asked.
pub async fn services(loaded: LoadedConfig, db: Db, listen_addr: std::net::SocketAddr) -> Result<AppState, AppError> {
    let stages = Stages::new();
    let built = build(&loaded, &CliOverrides::default(), db, listen_addr, &stages).await?;
    built.state.models.first_scan().await;
    Ok(built.state)
}

fn spawn_tasks(
    state: &AppState,
    cancel: &CancellationToken,
    latest: watch::Sender<Option<crate::metrics::Sample>>,
    data_dir: PathBuf,
) -> JoinSet<()> {
    let mut tasks = JoinSet::new();
    let (config, router) = (&state.config_store, &state.router);
    tasks.spawn(boot::announce_router_status(config.clone(), router.clone(), state.bus.clone(), cancel.clone()));
    tasks.spawn(boot::start_router(config.clone(), router.clone(), state.models.clone()));
    tasks.spawn(crate::models::router::follow(state.models.clone(), cancel.clone()));
    tasks.spawn(crate::models::follow_backends(state.models.clone(), cancel.clone()));
    tasks.spawn(crate::models::idle::run(state.models.clone(), cancel.clone()));
    tasks.spawn(crate::models::watch_dirs::run(state.models.clone(), cancel.clone()));
    tasks.spawn(
        SamplerTask {
            db: state.db.clone(),
            bus: state.bus.clone(),
            drops: state.drops.clone(),
            settings: state.settings.subscribe(),
            latest,
            data_dir,
            cancel: cancel.clone(),
        }
        .run(),
    );
    tasks.spawn(crate::retention::run(state.db.clone(), state.settings.clone(), cancel.clone()));
    tasks.spawn(state.pulls.clone().drain());
    tasks.spawn(state.nodes.clone().run(cancel.clone()));
    let (activity, db, bus) = (state.activity.clone(), state.db.clone(), state.bus.clone());
    tasks.spawn(crate::proxy::stats::run(activity, db, bus, cancel.clone()));
    let s = state.clone();
    tasks.spawn(shutdown::on_hangup(cancel.clone(), move || reload(s.clone())));
    tasks
}

fn sinks(state: &AppState) -> crate::proxy::telemetry::Sinks {
    crate::proxy::telemetry::Sinks {
        metrics: state.proxy.metrics.clone(),
        drops: state.drops.clone(),
        db: state.db.clone(),
        bus: state.bus.clone(),
        models: state.models.clone(),
    }
}

fn warn_if_open(config: &Config) {
    if !crate::config::is_loopback(&config.server.host) && config.security.api_keys.is_empty() {
        tracing::warn!(
            host = %config.server.host,
            "security.apiKeys is empty: /v1 is open to anyone who can reach this address (the admin token guards only the dashboard)"
        );
    }
}

async fn bind(config: &Config) -> Result<TcpListener, AppError> {
    let (host, port) = (config.server.host.clone(), config.server.port);
    let addr = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    TcpListener::bind(&addr).await.map_err(|source| match source.kind() {
        std::io::ErrorKind::AddrInUse => AppError::PortInUse { host, port },
        _ => AppError::Bind { host, port, source },
    })
}
