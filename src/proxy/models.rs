//! `GET /v1/models` and `GET /v1/models/{id}` in OpenAI's shape, for every model the dashboard lists.
//! Extension fields: `status` in llama.cpp's router's shape (`{"value": "loaded", ...}`, which Open WebUI
//! and other router clients read), `aliases`, `ttl_sec`, `unload_at` (ms), and `meta` from the GGUF. The
//! models of the nodes that are up follow as `node/model`, with `node` naming where they run.

use crate::app::AppState;
use crate::error::ApiError;
use crate::models::{ModelStatus, ModelView};
use crate::unrouted::Segment;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match super::auth::check(&state.config(), &headers) {
        Ok(()) => Json(list_body(&state)).into_response(),
        Err(err) => err.into_response(),
    }
}

pub async fn get(State(state): State<AppState>, Segment(id): Segment, headers: HeaderMap) -> Response {
    let found = super::auth::check(&state.config(), &headers)
        .and_then(|()| state.models.find(&id).map(|m| openai_model(&m)).ok_or(ApiError::ModelNotFound(id)));
    match found {
        Ok(model) => Json(model).into_response(),
        Err(err) => err.into_response(),
    }
}

/// The list as `GET /v1/models` answers it (for the other mounts of the same list).
pub fn list_body(state: &AppState) -> Value {
    let mut data: Vec<Value> = state.models.list().iter().map(openai_model).collect();
    data.extend(node_models(state));
    json!({"object": "list", "data": data})
}

/// The models of the nodes that are up, as `node/model`, owned by the node, in the status it reports.
fn node_models(state: &AppState) -> Vec<Value> {
    let up = state.nodes.list().into_iter().filter(|n| n.state == crate::nodes::NodeState::Up);
    up.flat_map(|node| {
        node.models.into_iter().map(move |m| {
            json!({
                "id": format!("{}/{}", node.name, m.id),
                "object": "model",
                "created": 0,
                "owned_by": node.name,
                "node": node.name,
                "status": {"value": m.status.as_deref().unwrap_or("unknown")},
            })
        })
    })
    .collect()
}

/// llama.cpp's router's `status` object: `value`, with `failed: true` and our `error` for a model that
/// failed, and `progress` (0..1) while it loads.
pub fn status_object(status: ModelStatus, progress: Option<f64>, error: Option<&str>) -> Value {
    let mut object = json!({"value": status.llamacpp()});
    if status == ModelStatus::Error {
        object["failed"] = json!(true);
    }
    if let Some(error) = error {
        object["error"] = json!(error);
    }
    if let Some(progress) = progress.filter(|_| status == ModelStatus::Loading) {
        object["progress"] = json!(progress);
    }
    object
}

fn openai_model(m: &ModelView) -> Value {
    json!({
        "id": m.id,
        "object": "model",
        "created": m.modified_at().map_or(0, |ms| ms / 1000),
        "owned_by": "llama-dashboard",
        "status": status_object(m.live.status, m.live.progress, m.live.error.as_deref()),
        "aliases": m.aliases,
        "ttl_sec": m.live.ttl_sec,
        "unload_at": m.live.unload_at,
        "meta": {
            "architecture": m.fact("architecture"),
            "parameters": m.fact("parameters"),
            "quantization": m.fact("quantization"),
            "context_length": m.fact("contextLength"),
            "size_bytes": m.fact("sizeBytes"),
        },
    })
}
