//! `GET /v1/models` and `GET /v1/models/{id}` in OpenAI's shape, for every model the dashboard lists.
//! Extension fields: `status` in llama.cpp's router's shape (`{"value": "loaded", ...}`, which Open WebUI
//! and other router clients read), `aliases`, `ttl_sec`, `unload_at` (ms), and `meta` from the GGUF (plus
//! `rss_bytes`, the memory its process holds while loaded). The
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
    let local = state.models.list();
    let mut data: Vec<Value> = local.iter().map(openai_model).collect();
    data.extend(node_models(state, &local));
    json!({"object": "list", "data": data})
}

/// The models of the nodes that are up: each as `node/model`, owned by the node, in the status it
/// reports; and once under its plain id (any place that serves it) when this server has no model of that
/// id, `loaded` when a node has it loaded, with `nodes` naming where it runs.
fn node_models(state: &AppState, local: &[ModelView]) -> Vec<Value> {
    let up = state.nodes.up_models();
    let mut plain: std::collections::BTreeMap<&str, (Vec<&str>, bool)> = Default::default();
    let mut out = Vec::new();
    for (node, m) in &up {
        let status = m.status.as_deref().unwrap_or("unknown");
        out.push(json!({
            "id": format!("{node}/{}", m.id),
            "object": "model",
            "created": 0,
            "owned_by": node,
            "node": node,
            "status": {"value": status},
        }));
        if !local.iter().any(|l| l.id == m.id) {
            let entry = plain.entry(m.id.as_str()).or_default();
            entry.0.push(node.as_str());
            entry.1 |= status == "loaded";
        }
    }
    out.extend(plain.into_iter().map(|(id, (nodes, loaded))| {
        json!({
            "id": id,
            "object": "model",
            "created": 0,
            "owned_by": "nodes",
            "nodes": nodes,
            "status": {"value": if loaded { "loaded" } else { "unloaded" }},
        })
    }));
    out
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
            "rss_bytes": m.rss_bytes,
        },
    })
}
