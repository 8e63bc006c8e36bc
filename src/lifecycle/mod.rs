//! Router-mode model lifecycle: load / unload requests, the live status followed from the router,
//! each transition stored as a lifecycle event and broadcast (`models:status`, `models:updated`).

mod backends;
mod follow;
mod table;

pub use backends::follow as follow_backends;
pub use follow::run as follow_router;
pub use table::{LiveModel, LiveTable, ModelStatus, Transition};

use crate::app::AppState;
use crate::db::NewModelEvent;
use crate::error::ApiError;
use serde_json::{Value, json};
use std::time::Duration;

/// Shared by handlers and the follower.
#[derive(Clone)]
pub struct LiveModels {
    pub table: LiveTable,
    client: reqwest::Client,
}

impl LiveModels {
    pub fn new() -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder().no_proxy().connect_timeout(Duration::from_secs(2)).build()?;
        Ok(Self { table: LiveTable::default(), client })
    }
}

pub enum Action {
    Load,
    Unload,
}

/// Asks the router to load or unload `id` (already checked to exist). Returns at once: progress and
/// the final state arrive as `models:status` broadcasts.
pub async fn request(state: &AppState, id: &str, action: Action, actor: &str) -> Result<Value, ApiError> {
    let upstream = state.router.upstream();
    let upstream =
        upstream.ok_or_else(|| ApiError::Router("the llama-server router is not running; start it first".into()))?;
    let (path, event, status) = match action {
        Action::Load => ("load", "load_requested", ModelStatus::Loading),
        Action::Unload => ("unload", "unload_requested", ModelStatus::Unloading),
    };
    record(state, NewModelEvent { model_id: id.into(), event, actor: Some(actor.into()), ..Default::default() }).await;
    let previous = state.models_live.table.get(id).status;
    // Marked before asking, so the router's own first report cannot overtake the request in the history.
    if let Some(t) = state.models_live.table.requested(id, status) {
        publish(state, t, actor).await;
    }
    if let Err(err) = post(state, &upstream, path, id).await {
        if let Some(t) = state.models_live.table.requested(id, previous) {
            announce(state, t).await;
        }
        let refused = NewModelEvent {
            model_id: id.into(),
            event: "request_failed",
            detail: Some(err.to_string()),
            ..Default::default()
        };
        record(state, refused).await;
        return Err(err);
    }
    let current = state.models_live.table.get(id).status;
    Ok(json!({"id": id, "status": current}))
}

async fn post(state: &AppState, upstream: &crate::supervisor::Upstream, path: &str, id: &str) -> Result<(), ApiError> {
    let sent =
        upstream.post(&state.models_live.client, &format!("/models/{path}")).json(&json!({"model": id})).send().await;
    let response = sent.map_err(|e| ApiError::Router(format!("router did not answer: {e}")))?;
    if response.status().is_success() {
        return Ok(());
    }
    let code = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let message = body["error"]["message"].as_str().unwrap_or("no message").to_string();
    Err(ApiError::Router(format!("router refused to {path} '{id}' ({code}): {message}")))
}

/// Stores the transition as a lifecycle event and broadcasts it.
pub async fn publish(state: &AppState, t: Transition, actor: &str) {
    let event = match (t.from, t.to) {
        (_, ModelStatus::Loading) if t.from != ModelStatus::Loading => Some("loading"),
        (_, ModelStatus::Loaded) => Some("loaded"),
        (_, ModelStatus::Unloaded) => Some("unloaded"),
        (ModelStatus::Loading, ModelStatus::Error) => Some("load_failed"),
        (_, ModelStatus::Error) => Some("crashed"),
        _ => None,
    };
    if let Some(event) = event {
        let status = serde_json::to_value(t.to).ok().and_then(|v| v.as_str().map(str::to_string));
        let e = NewModelEvent {
            model_id: t.id.clone(),
            event,
            status,
            actor: Some(actor.into()),
            detail: t.error.clone(),
            duration_ms: t.duration_ms,
            exit_code: t.exit_code,
        };
        record(state, e).await;
        match t.duration_ms {
            Some(ms) => tracing::info!(model = %t.id, event, "model {event} after {ms} ms"),
            None => tracing::info!(model = %t.id, event, "model {event}"),
        }
    }
    if t.to == ModelStatus::Loaded
        && let Err(err) = state.db.touch_model(t.id.clone()).await
    {
        tracing::warn!(error = %err, "lastUsed not stored");
    }
    announce(state, t).await;
}

/// Broadcasts `models:status`, and `models:updated` when a model settled.
async fn announce(state: &AppState, t: Transition) {
    let (ttl_sec, unload_at) = idle_deadline(state, &t.id);
    let data = json!({"id": t.id, "status": t.to, "progress": t.progress, "error": t.error,
        "ttlSec": ttl_sec, "unloadAt": unload_at});
    crate::live::broadcast(state, "models:status", data).await;
    if t.from != t.to && !matches!(t.to, ModelStatus::Loading | ModelStatus::Unloading) {
        match state.model_list().await {
            Ok(models) => crate::live::broadcast(state, "models:updated", json!({"models": models})).await,
            Err(err) => tracing::warn!(error = %err, "models:updated not sent"),
        }
    }
}

/// A model's idle TTL and when it will be unloaded if nothing uses it (ms since the epoch).
pub fn idle_deadline(state: &AppState, id: &str) -> (i64, Option<i64>) {
    let default_ttl = state.config().models.idle_timeout_sec;
    let live = state.models_live.table.get(id);
    (state.proxy.ttl_sec(id, default_ttl), state.proxy.unload_at(id, &live, default_ttl))
}

/// Re-sends a model's status with its new unload time (after a request moved it).
pub async fn announce_idle_deadline(state: &AppState, id: &str) {
    if let Some(m) = state.backend_model(id) {
        let data = json!({"id": id, "status": m["status"], "progress": null, "error": m["error"],
            "ttlSec": m["ttlSec"], "unloadAt": m["unloadAt"], "source": "backend"});
        crate::live::broadcast(state, "models:status", data).await;
        return;
    }
    let live = state.models_live.table.get(id);
    let (ttl_sec, unload_at) = idle_deadline(state, id);
    let data = json!({"id": id, "status": live.status, "progress": live.progress, "error": live.error,
        "ttlSec": ttl_sec, "unloadAt": unload_at});
    crate::live::broadcast(state, "models:status", data).await;
}

async fn record(state: &AppState, event: NewModelEvent) {
    if let Err(err) = state.db.insert_model_event(event).await {
        tracing::warn!(error = %err, "lifecycle event not stored");
    }
}
