//! The boot flow of the init-file guide after the server is up: start the router when
//! `startup.autoStart`, wait for it, preload `models.preloadModels`. Each step is logged with its duration.

use crate::app::AppState;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

pub async fn start_router(state: AppState) {
    let config = state.config();
    if !config.router.enabled || !config.startup.auto_start {
        tracing::info!("router not started at boot (router.enabled / startup.autoStart is false)");
        return;
    }
    let t = Instant::now();
    match state.router.start().await {
        Ok(status) => {
            tracing::info!(elapsed_ms = t.elapsed().as_millis() as u64, url = ?status.url, "router started");
            preload(&state).await;
        }
        Err(err) => tracing::error!(error = %err, "router did not start; the dashboard keeps running"),
    }
}

/// Loads `models.preloadModels` through the same path as `models:load` (recorded with actor `boot`).
async fn preload(state: &AppState) {
    for id in &state.config().models.preload_models {
        let t = Instant::now();
        match crate::lifecycle::request(state, id, crate::lifecycle::Action::Load, "boot").await {
            Ok(_) => tracing::info!(model = %id, elapsed_ms = t.elapsed().as_millis() as u64, "preload requested"),
            Err(err) => tracing::warn!(model = %id, error = %err, "preload failed"),
        }
    }
}

/// Broadcasts `router:status` for every state the router goes through, in order; after falling behind
/// (lagged) it sends the current one.
pub async fn announce_router_status(state: AppState, cancel: CancellationToken) {
    use tokio::sync::broadcast::error::RecvError;
    let mut changes = state.router.changes();
    loop {
        let live = tokio::select! {
            change = changes.recv() => match change {
                Ok(status) => status,
                Err(RecvError::Lagged(_)) => state.router.status(),
                Err(RecvError::Closed) => return,
            },
            _ = cancel.cancelled() => return,
        };
        let data = crate::live::handlers::router_status_of(&state, &live);
        crate::live::broadcast(&state, "router:status", data).await;
    }
}
