//! Wires every module: state, HTTP routes, Socket.IO, background tasks, ordered shutdown.

use crate::config::{CliOverrides, Config, ConfigSource, LoadedConfig, SharedConfig};
use crate::db::{Db, DbError, NewLog};
use crate::error::ApiError;
use crate::lifecycle::LiveModels;
use crate::logs::LogWriter;
use crate::metrics::{Sample, SamplerTask};
use crate::proxy::Proxy;
use crate::settings::SettingsStore;
use crate::supervisor::RouterHandle;
use axum::Router;
use axum::routing::get;
use serde_json::Value;
use socketioxide::SocketIo;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// How long open connections get to finish once shutdown starts.
const DRAIN: Duration = Duration::from_secs(5);

#[derive(Debug, Error)]
pub enum AppError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("port {port} is already in use on {host} (change server.port in the init file or pass --port)")]
    PortInUse { host: String, port: u16 },
    #[error("cannot listen on {host}:{port} (server.host / server.port): {source}")]
    Bind { host: String, port: u16, source: std::io::Error },
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("http server failed: {0}")]
    Serve(std::io::Error),
}

/// Cheap to clone; handed to every handler.
#[derive(Clone)]
pub struct AppState {
    pub shared_config: SharedConfig,
    /// The command line, re-applied when a saved init file is loaded again.
    pub cli: CliOverrides,
    pub db: Db,
    pub settings: SettingsStore,
    pub started: Instant,
    pub io: Arc<OnceLock<SocketIo>>,
    pub router: RouterHandle,
    pub models_live: LiveModels,
    pub proxy: Proxy,
    pub backends: crate::backends::BackendsHandle,
    pub backend_metadata: crate::backends::MetadataCache,
    /// Where the public listener is bound (a token may not be removed while it is not loopback).
    pub listen_addr: std::net::SocketAddr,
    latest: watch::Receiver<Option<Sample>>,
}

impl AppState {
    /// A snapshot of the effective config.
    pub fn config(&self) -> Arc<Config> {
        self.shared_config.config()
    }

    pub fn config_source(&self) -> ConfigSource {
        self.shared_config.source()
    }

    pub fn latest_metrics_sample(&self) -> Option<Sample> {
        self.latest.borrow().clone()
    }

    pub fn latest_metrics(&self) -> Value {
        serde_json::to_value(self.latest_metrics_sample()).unwrap_or(Value::Null)
    }

    /// Rescans the models directory into SQLite and the backend model files into memory (reading GGUF
    /// metadata of new or changed files only) and returns the list. A missing models directory lists none.
    pub async fn refresh_models(&self) -> Result<Vec<Value>, ApiError> {
        let dir = PathBuf::from(&self.config().models.directory);
        if dir.is_dir() {
            let known = self.db.model_fingerprints().await?;
            let entries = tokio::task::spawn_blocking(move || crate::catalog::scan_with_metadata(&dir, &known))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .map_err(|e| ApiError::Internal(format!("cannot read models.directory: {e}")))?;
            self.db.sync_router_models(entries).await?;
        }
        self.discover_hf_models().await?;
        self.refresh_backend_metadata().await?;
        self.model_list().await
    }

    /// With `backends.hfDiscovery`, the Hugging Face cache's GGUF files become `auto` backend models (and
    /// those whose files went are dropped); the init file is updated only when the list changed.
    pub async fn discover_hf_models(&self) -> Result<(), ApiError> {
        let config = self.config();
        let hub = crate::backends::discovery::hf_hub_dir().filter(|d| d.is_dir());
        if !config.backends.hf_discovery
            && !config.backends.models.iter().any(|m| m.state == crate::config::ModelOrigin::Auto)
        {
            return Ok(());
        }
        let found = match hub.filter(|_| config.backends.hf_discovery) {
            Some(dir) => tokio::task::spawn_blocking(move || crate::backends::discovery::found_in_hub(&dir))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .map_err(|e| ApiError::Internal(format!("cannot read the Hugging Face cache: {e}")))?,
            None => Vec::new(),
        };
        crate::backends::persist::update_models(self, false, |current| {
            let next = crate::backends::discovery::merge_discovered(&current.backends.models, found);
            if let Some(next) = &next {
                tracing::info!(count = next.len(), "backend models follow the Hugging Face cache");
            }
            Ok(next)
        })
        .await?;
        Ok(())
    }

    pub async fn refresh_backend_metadata(&self) -> Result<(), ApiError> {
        let cache = self.backend_metadata.clone();
        let paths: Vec<String> = self.config().backends.models.iter().map(|m| m.path.clone()).collect();
        tokio::task::spawn_blocking(move || cache.refresh(&paths)).await.map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// The stored catalog with each model's live status from the router, plus models only the router
    /// knows (presets from `--models-preset` that are not files in `models.directory`).
    pub async fn model_list(&self) -> Result<Vec<Value>, ApiError> {
        let mut models = self.db.list_models().await?;
        for id in self.models_live.table.ids() {
            if !models.iter().any(|m| m["id"] == id.as_str()) {
                models.push(
                    serde_json::json!({"id": id, "source": "router", "path": null, "state": "auto", "preset": true}),
                );
            }
        }
        for model in &mut models {
            let live = model["id"].as_str().map(|id| self.models_live.table.get(id)).unwrap_or_default();
            model["status"] = serde_json::to_value(live.status).unwrap_or(Value::Null);
            model["progress"] = serde_json::json!(live.progress);
            model["error"] = serde_json::json!(live.error);
            if let Some(id) = model["id"].as_str().map(str::to_string) {
                let (ttl_sec, unload_at) = crate::lifecycle::idle_deadline(self, &id);
                model["ttlSec"] = serde_json::json!(ttl_sec);
                model["unloadAt"] = serde_json::json!(unload_at);
            }
        }
        let children = match self.router.status().pid {
            Some(pid) if models.iter().any(|m| m["status"] == "loaded") => {
                crate::metrics::process_memory::router_children(pid)
            }
            _ => Default::default(),
        };
        for model in &mut models {
            let pid = model["id"].as_str().and_then(|id| children.get(id));
            model["rssBytes"] = serde_json::json!(pid.and_then(|p| crate::metrics::process_memory::rss_bytes(*p)));
        }
        models.extend(self.backend_models());
        Ok(models)
    }
}

impl AppState {
    /// Starts (if needed) and waits for one of our own backends; its base URL. The model file's metadata
    /// is re-read first when it changed, so the memory check sees the file that will be loaded.
    pub async fn ensure_backend(&self, name: &str, reason: &'static str) -> Result<crate::backends::Ready, ApiError> {
        // Fast path: claimed first, then checked, so a stop deciding meanwhile sees the claim or is seen here.
        let claim = self.proxy.gates.claim(name);
        if let Some(upstream) = self.backends.status(name).and_then(|s| s.upstream()) {
            return Ok(crate::backends::Ready { upstream, claim });
        }
        drop(claim);
        let config = self.config();
        let max = usize::try_from(config.proxy.queue_size + config.performance.parallel_slots).unwrap_or(1).max(1);
        let _waiting = self.proxy.gates.wait_for_start(name, max)?;
        self.refresh_backend_metadata().await?;
        Ok(self.backends.ensure_ready(name, reason).await?)
    }

    /// `backends.models` with each backend's live status.
    pub fn backend_models(&self) -> Vec<Value> {
        let config = self.config();
        let free = self.free_memory();
        config.backends.models.iter().map(|m| self.backend_model_json(&config, m, free)).collect()
    }

    /// One of `backends.models` (by name or alias) as a Model, like [`Self::backend_models`].
    pub fn backend_model(&self, id: &str) -> Option<Value> {
        let config = self.config();
        let model = config.backends.model(id)?;
        Some(self.backend_model_json(&config, model, self.free_memory()))
    }

    fn free_memory(&self) -> Option<u64> {
        self.latest.borrow().as_ref().map(crate::backends::memory::free_bytes)
    }

    fn backend_model_json(&self, config: &Config, m: &crate::config::BackendModel, free: Option<u64>) -> Value {
        let status = self.backends.status(&m.name);
        let pid = status.as_ref().filter(|s| s.upstream().is_some()).and_then(|s| s.pid);
        let activity = crate::backends::Activity {
            last_active: self.proxy.gates.last_active(&m.name),
            busy: self.proxy.gates.busy(&m.name),
        };
        let mut model = crate::backends::model_json(&config.backends, m, status, activity);
        if let (Some(target), Value::Object(fields)) = (model.as_object_mut(), self.backend_metadata.fields(&m.path)) {
            target.extend(fields);
        }
        match self.backend_metadata.need(&config.backends, m) {
            Some(Ok(need)) => model["memory"] = serde_json::json!(need),
            Some(Err(err)) => {
                model["memory"] = Value::Null;
                model["metadataError"] = Value::String(err);
            }
            None => model["memory"] = Value::Null,
        }
        if let (Some(memory), Some(free)) = (model["memory"].as_object_mut(), free) {
            memory.insert("freeBytes".into(), free.into());
        }
        model["rssBytes"] = serde_json::json!(pid.and_then(crate::metrics::process_memory::rss_bytes));
        model
    }
}

/// What `main` hands over: the validated config, the data dir and the log queue.
pub struct Startup {
    pub loaded: LoadedConfig,
    pub cli: CliOverrides,
    pub data_dir: PathBuf,
    pub log_rx: mpsc::Receiver<NewLog>,
    pub log_dropped: Arc<AtomicU64>,
}

/// Runs until `cancel` fires, then shuts down in order: sockets, HTTP, tasks, log flush.
pub async fn run(startup: Startup, cancel: CancellationToken) -> Result<(), AppError> {
    let t = Instant::now();
    let db = Db::open(&startup.data_dir)?;
    tracing::info!(path = %db.path().display(), elapsed_ms = t.elapsed().as_millis() as u64, "database ready");
    let config = Arc::new(startup.loaded.config.clone());
    crate::serve::raise_open_files_limit();
    let listener = bind(&config).await?;
    let listen_addr = listener.local_addr().map_err(AppError::Serve)?;
    let shared_config = SharedConfig::new(startup.loaded);
    let settings = SettingsStore::load(db.clone(), &config).await?;
    let (latest_tx, latest_rx) = watch::channel(None);
    let task_cancel = cancel.child_token();
    let (router, router_task) = crate::supervisor::spawn(shared_config.clone(), task_cancel.clone());
    let (proxy, telemetry_rx) = Proxy::new()?;
    let backend_metadata = crate::backends::MetadataCache::default();
    let inputs = crate::backends::Inputs {
        config: shared_config.clone(),
        gates: proxy.gates.clone(),
        metadata: backend_metadata.clone(),
        latest: latest_rx.clone(),
    };
    let (backends, backends_task) = crate::backends::spawn(inputs, task_cancel.clone())?;
    let state = AppState {
        router,
        proxy,
        backends,
        backend_metadata,
        models_live: LiveModels::new()?,
        shared_config,
        cli: startup.cli,
        db: db.clone(),
        settings: settings.clone(),
        started: Instant::now(),
        io: Arc::new(OnceLock::new()),
        listen_addr,
        latest: latest_rx,
    };
    check_models_dir(&state).await;
    let (socket_layer, io) = crate::live::layer(state.clone());
    let _ = state.io.set(io.clone());
    let app = http_router(state.clone(), socket_layer);

    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(crate::boot::announce_router_status(state.clone(), task_cancel.clone()));
    tasks.spawn(crate::boot::start_router(state.clone()));
    tasks.spawn(crate::lifecycle::follow_router(state.clone(), task_cancel.clone()));
    tasks.spawn(crate::lifecycle::follow_backends(state.clone(), task_cancel.clone()));
    tasks.spawn(
        SamplerTask {
            db: db.clone(),
            state: state.clone(),
            settings: settings.subscribe(),
            latest: latest_tx,
            data_dir: startup.data_dir,
            cancel: task_cancel.clone(),
        }
        .run(),
    );
    tasks.spawn(crate::retention::run(db.clone(), settings, task_cancel.clone()));
    tasks.spawn(crate::proxy::idle::run(state.clone(), task_cancel.clone()));
    tasks.spawn(crate::proxy::telemetry::run(state.clone(), telemetry_rx, task_cancel.clone()));
    tasks.spawn(crate::proxy::stats::run(state.clone(), task_cancel.clone()));
    let writer_cancel = CancellationToken::new();
    let writer = tokio::spawn(
        LogWriter { rx: startup.log_rx, dropped: startup.log_dropped, db, state, cancel: writer_cancel.clone() }.run(),
    );

    if !crate::config::is_loopback(&config.server.host) && config.security.api_keys.is_empty() {
        tracing::warn!(
            host = %config.server.host,
            "security.apiKeys is empty: /v1 is open to anyone who can reach this address (the admin token guards only the dashboard)"
        );
    }
    println!("llama-dashboard listening on http://{listen_addr}");
    tracing::info!(addr = %listen_addr, startup_ms = t.elapsed().as_millis() as u64, "ready");
    serve(listener, app, io, cancel, crate::serve::Limits::of(&config)).await;
    task_cancel.cancel();
    while tasks.join_next().await.is_some() {}
    let _ = router_task.await;
    let _ = backends_task.await;
    tracing::info!("stopped");
    writer_cancel.cancel();
    let _ = writer.await;
    Ok(())
}

fn http_router(state: AppState, socket_layer: socketioxide::layer::SocketIoLayer) -> Router {
    let cors = crate::cors::layer(&state.config().security.cors_origins);
    Router::new()
        .route("/health", get(crate::http::health))
        .route("/metrics", get(crate::http::metrics))
        .merge(Proxy::routes())
        .merge(crate::admin::routes())
        .fallback(crate::assets::serve)
        .layer(socket_layer)
        .layer(cors)
        .layer(axum::middleware::from_fn_with_state(state.shared_config.clone(), crate::guard::guard))
        .with_state(state)
}

async fn bind(config: &Config) -> Result<TcpListener, AppError> {
    let (host, port) = (config.server.host.clone(), config.server.port);
    let addr = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    TcpListener::bind(&addr).await.map_err(|source| match source.kind() {
        std::io::ErrorKind::AddrInUse => AppError::PortInUse { host, port },
        _ => AppError::Bind { host, port, source },
    })
}

/// Serves until cancelled; then closes every socket and gives HTTP [`DRAIN`] to finish.
async fn serve(
    listener: TcpListener,
    app: Router,
    io: SocketIo,
    cancel: CancellationToken,
    limits: crate::serve::Limits,
) {
    let stop = async move {
        cancel.cancelled().await;
        io.close().await;
    };
    let drained = crate::serve::serve(listener, app, limits, stop).await;
    if tokio::time::timeout(DRAIN, drained).await.is_err() {
        tracing::warn!("connections still open after {DRAIN:?}; closing them");
    }
}

/// Boot step 3 of the guide: the models directory is checked and its contents logged, never fatal.
async fn check_models_dir(state: &AppState) {
    let config = state.config();
    let dir = &config.models.directory;
    if !std::path::Path::new(dir).is_dir() {
        tracing::warn!(dir, "models.directory does not exist; no models will be listed until it does");
        if let Err(err) = state.discover_hf_models().await {
            tracing::warn!(error = %err, "Hugging Face cache not scanned");
        }
        if let Err(err) = state.refresh_backend_metadata().await {
            tracing::warn!(error = %err, "backend model metadata not read");
        }
        return;
    }
    match state.refresh_models().await {
        Ok(models) => tracing::info!(dir, count = models.len(), "models directory scanned"),
        Err(err) => tracing::warn!(dir, error = %err, "models directory scan failed"),
    }
}
