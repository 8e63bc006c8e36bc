//! The proxy's handle: the pooled upstream clients, the request recorder and the `/metrics` series.

use super::prometheus::RequestMetrics;
use super::telemetry::Recorder;
use crate::core::activity::Gates;
use crate::db::NewRequest;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::mpsc;

/// Cheap to clone; lives in `AppState`.
#[derive(Clone)]
pub struct Proxy {
    /// The admin pass-through to a backend's own endpoints.
    pub loopback: crate::process::Loopback,
    /// The router and its model processes (`send`): pooled, and without a pool for a retry after the
    /// router restarted, which must not pick another pooled connection to the process that went away (the
    /// new one listens on the same address).
    pub hyper: crate::process::Pool,
    pub unpooled: crate::process::Pool,
    pub recorder: Recorder,
    pub metrics: RequestMetrics,
    /// The client for own backends, with `backends.connectionTimeoutSec` / `readTimeoutSec`; rebuilt
    /// when those change.
    backend_client: Arc<RwLock<Option<(Timeouts, reqwest::Client)>>>,
}

/// (connection, read) timeouts in seconds.
type Timeouts = (i64, i64);

impl Proxy {
    /// No overall timeouts: generations and cold starts take as long as they take.
    pub fn new(drops: crate::core::drops::Drops) -> (Self, mpsc::Receiver<NewRequest>) {
        let loopback = crate::process::Loopback::new(Duration::from_secs(5), None);
        let connect = Duration::from_secs(5);
        let (hyper, unpooled) = (crate::process::pool(connect, 256), crate::process::pool(connect, 0));
        let (recorder, rx) = Recorder::new(drops);
        let metrics = RequestMetrics::default();
        let proxy = Self { loopback, hyper, unpooled, recorder, metrics, backend_client: Arc::default() };
        (proxy, rx)
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
        let built = crate::process::loopback_client()
            .connect_timeout(Duration::from_secs(key.0.max(1) as u64))
            .read_timeout(Duration::from_secs(key.1.max(1) as u64))
            .build()
            .unwrap_or_default();
        if let Ok(mut cached) = self.backend_client.write() {
            *cached = Some((key, built.clone()));
        }
        built
    }

    /// The per-model series of `/metrics`.
    pub fn render_metrics(&self, gates: &Gates, out: &mut String) {
        let queues: Vec<_> = gates.stats().into_iter().map(|q| (q.model, q.active, q.queued)).collect();
        self.metrics.render(out, &queues);
    }
}
