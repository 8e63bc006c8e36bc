//! Follows our own backends' statuses: each change is stored as a lifecycle event (with why it happened)
//! and published as `models:status`, and `models:updated` once a backend settled.

use super::status::backend_event;
use super::{ModelKind, ModelStatus, Models, StatusUpdate};
use crate::backends::{BackendState, BackendStatus, Statuses};
use crate::db::NewModelEvent;
use tokio_util::sync::CancellationToken;

pub async fn follow(models: Models, cancel: CancellationToken) {
    let mut statuses = models.0.parts.backends.subscribe();
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
            settled |= ModelStatus::from(now.state).settled();
            store(&models, id, before, now).await;
            announce(&models, id, now);
        }
        if settled {
            models.publish_list();
        }
        previous = current;
    }
}

async fn store(models: &Models, id: &str, before: Option<&BackendStatus>, now: &BackendStatus) {
    let from = before.map_or(BackendState::Stopped, |b| b.state);
    // A load's duration is carried by the status itself; an unload's is the time spent stopping.
    let duration_ms = match now.state {
        BackendState::Ready => now.load_ms.map(|ms| ms as i64),
        BackendState::Stopped if from == BackendState::Stopping => before.map(|b| b.since.elapsed().as_millis() as i64),
        _ => None,
    };
    let detail = now.error.clone().map(|e| match now.last_lines.last() {
        Some(line) => format!("{e}; last output: {line}"),
        None => e,
    });
    let status = serde_json::to_value(ModelStatus::from(now.state)).ok().and_then(|v| v.as_str().map(str::to_string));
    let e = NewModelEvent {
        model_id: id.into(),
        event: backend_event(now),
        status,
        actor: now.reason.clone(),
        detail,
        duration_ms,
        exit_code: now.exit_code.map(i64::from),
    };
    models.record(e).await;
}

fn announce(models: &Models, id: &str, now: &BackendStatus) {
    let config = models.config();
    let Some(m) = config.backends.model(id) else { return };
    let live = models.backend_live(&config, m, now);
    models.publish_update(&StatusUpdate { id: id.to_string(), live, source: ModelKind::Backend });
}
