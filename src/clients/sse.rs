//! `GET /models/sse`: our model changes as llama.cpp's router streams them, one
//! `data: {"model", "event", "data"}` line per change. A status change is `model_status`; a change of the
//! list itself (a model added or removed), or events this client fell too far behind to get, is
//! `models_reload` for model `*`, after which a client reads `GET /models` again.

use crate::core::bus::{LiveEvent, Published};
use crate::models::ModelStatus;
use axum::body::Bytes;
use futures_util::Stream;
use serde_json::{Value, json};
use std::convert::Infallible;
use tokio::sync::broadcast::{self, error::RecvError};

pub fn model_events(events: broadcast::Receiver<Published>) -> impl Stream<Item = Result<Bytes, Infallible>> {
    futures_util::stream::unfold(events, |mut events| async move {
        loop {
            let line = match events.recv().await {
                Ok(published) => match translate(&published.event) {
                    Some(line) => line,
                    None => continue,
                },
                Err(RecvError::Lagged(_)) => reload(),
                Err(RecvError::Closed) => return None,
            };
            return Some((Ok(Bytes::from(format!("data: {line}\n\n"))), events));
        }
    })
}

fn translate(event: &LiveEvent) -> Option<Value> {
    match event {
        LiveEvent::ModelsStatus(update) => status_event(update),
        LiveEvent::ModelsUpdated(_) => Some(reload()),
        _ => None,
    }
}

fn reload() -> Value {
    json!({"model": "*", "event": "models_reload", "data": {}})
}

/// A `models:status` payload (`{id, status, progress, error, ...}`) as llama.cpp's `model_status`.
fn status_event(update: &Value) -> Option<Value> {
    let id = update.get("id")?.as_str()?;
    let status: ModelStatus = serde_json::from_value(update.get("status")?.clone()).ok()?;
    let progress = update.get("progress").and_then(Value::as_f64);
    let error = update.get("error").and_then(Value::as_str);
    // The list's status object, with its `value` named `status` as this stream names it.
    let Value::Object(mut data) = crate::proxy::models::status_object(status, progress, error) else { return None };
    let value = data.remove("value")?;
    data.insert("status".into(), value);
    Some(json!({"model": id, "event": "model_status", "data": data}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_changes_read_as_llamacpp_model_status_events() {
        let loading = json!({"id": "smol", "status": "loading", "progress": 0.5, "error": null, "ttlSec": 0});
        assert_eq!(
            translate(&LiveEvent::ModelsStatus(loading)),
            Some(json!({"model": "smol", "event": "model_status", "data": {"status": "loading", "progress": 0.5}}))
        );
        let failed = json!({"id": "b", "status": "error", "error": "exited with 1", "source": "backend"});
        assert_eq!(
            translate(&LiveEvent::ModelsStatus(failed)),
            Some(json!({"model": "b", "event": "model_status",
                        "data": {"status": "unloaded", "failed": true, "error": "exited with 1"}}))
        );
        assert_eq!(translate(&LiveEvent::ModelsUpdated(json!({"models": []}))), Some(reload()));
        assert_eq!(translate(&LiveEvent::MetricsUpdate(json!({}))), None);
        assert_eq!(translate(&LiveEvent::ModelsStatus(json!({"status": "loaded"}))), None, "no id");
    }
}
