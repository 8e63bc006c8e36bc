//! Follows our own backends' statuses: each change is stored as a lifecycle event (with why it happened)
//! and broadcast as `models:status`, and `models:updated` once a backend settled.

use super::record;
use crate::app::AppState;
use crate::backends::{BackendState, BackendStatus, Statuses};
use crate::db::NewModelEvent;
use serde_json::json;
use tokio_util::sync::CancellationToken;

pub async fn follow(state: AppState, cancel: CancellationToken) {
    let mut statuses = state.backends.subscribe();
    let mut previous = Statuses::new();
    loop {
        tokio::select! {
            changed = statuses.changed() => if changed.is_err() { return },
            _ = cancel.cancelled() => return,
        }
        let current = statuses.borrow_and_update().clone();
        let mut settled = false;
        for (id, now) in &current {
            let before = previous.get(id);
            if before.is_some_and(|b| b.state == now.state && b.error == now.error) {
                continue;
            }
            settled |= matches!(now.state, BackendState::Ready | BackendState::Stopped | BackendState::Error);
            store(&state, id, before, now).await;
            announce(&state, id, now).await;
        }
        if settled {
            crate::live::broadcast(
                &state,
                "models:updated",
                json!({"models": state.model_list().await.unwrap_or_default()}),
            )
            .await;
        }
        previous = current;
    }
}

async fn store(state: &AppState, id: &str, before: Option<&BackendStatus>, now: &BackendStatus) {
    let from = before.map_or(BackendState::Stopped, |b| b.state);
    // Statuses are followed through a watch channel, which may skip a short-lived state: the event
    // is told by the state reached and its reason, and a load's duration is carried by the status itself.
    let event = match (now.state, now.reason.as_deref()) {
        (BackendState::Starting, _) => "loading",
        (BackendState::Ready, _) => "loaded",
        (BackendState::Stopping, _) => "unload_requested",
        (BackendState::Stopped, _) => "unloaded",
        (BackendState::Error, Some("crash")) => "crashed",
        (BackendState::Error, Some("memory")) => "load_refused",
        (BackendState::Error, _) => "load_failed",
    };
    let duration_ms = match now.state {
        BackendState::Ready => now.load_ms.map(|ms| ms as i64),
        BackendState::Stopped if from == BackendState::Stopping => before.map(|b| b.since.elapsed().as_millis() as i64),
        _ => None,
    };
    let detail = now.error.clone().map(|e| match now.last_lines.last() {
        Some(line) => format!("{e}; last output: {line}"),
        None => e,
    });
    let e = NewModelEvent {
        model_id: id.into(),
        event,
        status: Some(now.state.model_status().into()),
        actor: now.reason.clone(),
        detail,
        duration_ms,
        exit_code: now.exit_code.map(i64::from),
    };
    record(state, e).await;
}

async fn announce(state: &AppState, id: &str, now: &BackendStatus) {
    let model = state.backend_model(id);
    let (ttl, unload_at) = model.map_or((json!(null), json!(null)), |m| (m["ttlSec"].clone(), m["unloadAt"].clone()));
    let data = json!({"id": id, "status": now.state.model_status(), "progress": null, "error": now.error,
        "ttlSec": ttl, "unloadAt": unload_at, "source": "backend"});
    crate::live::broadcast(state, "models:status", data).await;
}
