//! The boot flow of the init-file guide after the server is up: start the router when
//! `startup.autoStart`, wait for it, preload `models.preloadModels`. Each step is logged with its duration.
//! Also the task that publishes every state the router goes through.

use crate::config::{ConfigSource, SharedConfig};
use crate::core::bus::{Bus, LiveEvent};
use crate::models::Models;
use crate::supervisor::{RouterHandle, router_status_json};
use std::time::Instant;
use tokio_util::sync::CancellationToken;

pub async fn start_router(config: SharedConfig, router: RouterHandle, models: Models) {
    let current = config.config();
    if !current.router.enabled || !current.startup.auto_start {
        tracing::info!("router not started at boot (router.enabled / startup.autoStart is false)");
        return;
    }
    let t = Instant::now();
    match router.start().await {
        Ok(status) => {
            tracing::info!(elapsed_ms = t.elapsed().as_millis() as u64, url = ?status.url, "router started");
            preload(&config, &models).await;
        }
        Err(err) => tracing::error!(error = %err, "router did not start; the dashboard keeps running"),
    }
}

/// Loads `models.preloadModels` through the same path as `models:load` (recorded with actor `boot`).
async fn preload(config: &SharedConfig, models: &Models) {
    for id in &config.config().models.preload_models {
        let t = Instant::now();
        match models.load(id, "boot").await {
            Ok(_) => tracing::info!(model = %id, elapsed_ms = t.elapsed().as_millis() as u64, "preload requested"),
            Err(err) => tracing::warn!(model = %id, error = %err, "preload failed"),
        }
    }
}

/// Publishes `router:status` for every state the router goes through, in order; after falling behind
/// (lagged) it publishes the current one.
pub async fn announce_router_status(config: SharedConfig, router: RouterHandle, bus: Bus, cancel: CancellationToken) {
    use tokio::sync::broadcast::error::RecvError;
    let mut changes = router.changes();
    loop {
        let live = tokio::select! {
            change = changes.recv() => match change {
                Ok(status) => status,
                Err(RecvError::Lagged(_)) => router.status(),
                Err(RecvError::Closed) => return,
            },
            _ = cancel.cancelled() => return,
        };
        let path = match config.source() {
            ConfigSource::File(p) => Some(p.display().to_string()),
            ConfigSource::Defaults => None,
        };
        bus.publish(LiveEvent::RouterStatus(router_status_json(&live, &config.config(), path)));
    }
}
