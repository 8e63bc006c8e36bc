//! Per-model idle unload for router-mode models (llama.cpp's router has none): once a second, every
//! loaded model with nothing in flight or queued whose idle time passed its TTL is unloaded.

use crate::app::AppState;
use crate::db::now_ms;
use crate::lifecycle::{Action, ModelStatus};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const TICK: Duration = Duration::from_secs(1);

pub async fn run(state: AppState, cancel: CancellationToken) {
    if let Ok(ttls) = state.db.model_ttls().await {
        state.proxy.set_ttls(ttls);
    }
    loop {
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = cancel.cancelled() => return,
        }
        if state.router.status().running() {
            unload_idle(&state).await;
        }
    }
}

async fn unload_idle(state: &AppState) {
    let default_ttl = state.config().models.idle_timeout_sec;
    let table = &state.models_live.table;
    for id in table.ids() {
        let live = table.get(&id);
        if live.status != ModelStatus::Loaded {
            continue;
        }
        match state.proxy.unload_at(&id, &live, default_ttl) {
            Some(at) if at <= now_ms() => {}
            _ => continue,
        }
        let ttl = state.proxy.ttl_sec(&id, default_ttl);
        tracing::info!(model = %id, ttl, "unloading model idle for {ttl} s");
        if let Err(err) = crate::lifecycle::request(state, &id, Action::Unload, "idle").await {
            tracing::warn!(model = %id, error = %err, "idle unload failed");
        }
    }
}
