//! What every HTTP handler and socket event gets: handles to the services, nothing else. Domain logic
//! lives in the services (`models`, `settings`, ...); background tasks take only the handles they use.

use crate::config::{Config, ConfigSource, SharedConfig};
use crate::core::activity::Gates;
use crate::core::bus::Bus;
use crate::core::drops::Drops;
use crate::db::Db;
use crate::metrics::Sample;
use crate::models::Models;
use crate::proxy::handle::Proxy;
use crate::settings::SettingsStore;
use crate::supervisor::RouterHandle;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;

/// Cheap to clone: one reference count (axum clones the state for every request and middleware layer).
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

pub struct Services {
    /// The effective config, its source and the command line (re-applied on reload).
    pub config_store: SharedConfig,
    pub db: Db,
    pub settings: SettingsStore,
    pub models: Models,
    pub router: RouterHandle,
    pub proxy: Proxy,
    /// Per-model requests running and queued (shared by the proxy, the backends and the idle rule).
    pub activity: Gates,
    pub bus: Bus,
    /// Telemetry that could not be stored, by kind (shown in `/metrics`).
    pub drops: Drops,
    pub latest: watch::Receiver<Option<Sample>>,
    pub started: Instant,
    /// Where the public listener is bound (a token may not be removed while it is not loopback).
    pub listen_addr: SocketAddr,
    /// Downloads from the Hugging Face hub running in the background (`models:pull`).
    pub pulls: crate::pull::service::Pulls,
    /// The other machines of `nodes`, as last looked at.
    pub nodes: crate::nodes::Nodes,
}

impl Services {
    /// A snapshot of the effective config.
    pub fn config(&self) -> Arc<Config> {
        self.config_store.config()
    }

    pub fn config_source(&self) -> ConfigSource {
        self.config_store.source()
    }

    pub fn latest_sample(&self) -> Option<Sample> {
        self.latest.borrow().clone()
    }
}
