//! The OpenAI-compatible `/v1` proxy on our public port: requests are routed by `model` to the
//! upstream that serves it, admitted through the model's queue, streamed back untouched, recorded
//! (SQLite, `/metrics`, `requests:completed`), and idle router-mode models are unloaded after their TTL.

mod auth;
mod forward;
mod gate;
mod headers;
pub mod idle;
mod incoming;
mod models;
mod prometheus;
mod resolve;
pub mod stats;
mod tap;
pub mod telemetry;
mod usage;

pub use gate::{Claim, Gates, QueueStats};

use crate::app::AppState;
use crate::db::{NewRequest, now_ms};
use crate::lifecycle::LiveModel;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get};
use prometheus::RequestMetrics;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use telemetry::Recorder;
use tokio::sync::mpsc;

/// Cheap to clone; lives in [`AppState`].
#[derive(Clone)]
pub struct Proxy {
    /// One pooled client for every upstream (loopback: no system proxy, no overall timeout, since
    /// generations and cold starts take as long as they take).
    pub client: reqwest::Client,
    pub gates: Gates,
    pub recorder: Recorder,
    pub metrics: RequestMetrics,
    /// Per-model idle TTL overrides in seconds, mirrored from SQLite.
    ttls: Arc<RwLock<HashMap<String, i64>>>,
    /// The client for own backends, with `backends.connectionTimeoutSec` / `readTimeoutSec`; rebuilt
    /// when those change.
    backend_client: Arc<RwLock<Option<(Timeouts, reqwest::Client)>>>,
}

/// (connection, read) timeouts in seconds.
type Timeouts = (i64, i64);

impl Proxy {
    pub fn new() -> Result<(Self, mpsc::Receiver<NewRequest>), reqwest::Error> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .tcp_nodelay(true)
            .pool_max_idle_per_host(256)
            .build()?;
        let (recorder, rx) = Recorder::new();
        let proxy = Self {
            client,
            gates: Gates::default(),
            recorder,
            metrics: RequestMetrics::default(),
            ttls: Arc::default(),
            backend_client: Arc::default(),
        };
        Ok((proxy, rx))
    }

    pub fn routes() -> Router<AppState> {
        Router::new()
            .route("/v1/models", get(models::list))
            .route("/v1/models/{id}", get(models::get))
            .route("/v1/{*rest}", any(forward::handle))
            .layer(DefaultBodyLimit::disable())
    }

    /// The client to forward to own backends with the configured timeouts.
    pub fn backend_client(&self, config: &crate::config::BackendsConfig) -> reqwest::Client {
        let key = (config.connection_timeout_sec, config.read_timeout_sec);
        if let Ok(cached) = self.backend_client.read()
            && let Some((k, client)) = cached.as_ref()
            && *k == key
        {
            return client.clone();
        }
        let built = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(key.0.max(1) as u64))
            .read_timeout(Duration::from_secs(key.1.max(1) as u64))
            .build()
            .unwrap_or_else(|_| self.client.clone());
        if let Ok(mut cached) = self.backend_client.write() {
            *cached = Some((key, built.clone()));
        }
        built
    }

    pub fn set_ttls(&self, ttls: HashMap<String, i64>) {
        if let Ok(mut map) = self.ttls.write() {
            *map = ttls;
        }
    }

    pub fn set_ttl(&self, id: &str, ttl_sec: Option<i64>) {
        if let Ok(mut map) = self.ttls.write() {
            match ttl_sec {
                Some(ttl) => map.insert(id.to_string(), ttl),
                None => map.remove(id),
            };
        }
    }

    /// The model's own TTL, else `default` (`models.idleTimeoutSec`); 0 means never unload.
    pub fn ttl_sec(&self, id: &str, default: i64) -> i64 {
        self.ttls.read().ok().and_then(|m| m.get(id).copied()).unwrap_or(default)
    }

    /// When a loaded, idle model will be unloaded (ms since the epoch); `None` if it is busy or never will be.
    pub fn unload_at(&self, id: &str, live: &LiveModel, default_ttl: i64) -> Option<i64> {
        let ttl = self.ttl_sec(id, default_ttl);
        if ttl <= 0 || live.status != crate::lifecycle::ModelStatus::Loaded || self.gates.busy(id) {
            return None;
        }
        let idle_since = self.gates.last_active(id).map_or(live.since, |at| at.max(live.since));
        let idle_ms = Instant::now().saturating_duration_since(idle_since).as_millis() as i64;
        Some(now_ms() - idle_ms + ttl * 1000)
    }

    /// Waits (at most `limit`) until no request is being served; true if none is.
    pub async fn drain(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.gates.active_total() > 0 {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        true
    }

    /// The per-model series of `/metrics`.
    pub fn render_metrics(&self, out: &mut String) {
        let queues: Vec<_> = self.gates.stats().into_iter().map(|q| (q.model, q.active, q.queued)).collect();
        self.metrics.render(out, &queues);
    }
}
