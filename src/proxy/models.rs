//! `GET /v1/models` and `GET /v1/models/{id}` in OpenAI's shape, for every model the dashboard lists.
//! Extension fields: `status`, `aliases`, `ttl_sec`, `unload_at` (ms), and `meta` from the GGUF.

use crate::app::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match models(&state, &headers).await {
        Ok(data) => Json(json!({"object": "list", "data": data})).into_response(),
        Err(err) => err.into_response(),
    }
}

pub async fn get(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let found = models(&state, &headers).await.and_then(|all| {
        all.into_iter()
            .find(|m| m["id"] == id.as_str() || m["aliases"].as_array().is_some_and(|a| a.iter().any(|x| x == &id)))
            .ok_or(ApiError::ModelNotFound(id))
    });
    match found {
        Ok(model) => Json(model).into_response(),
        Err(err) => err.into_response(),
    }
}

async fn models(state: &AppState, headers: &HeaderMap) -> Result<Vec<Value>, ApiError> {
    super::auth::check(&state.config(), headers)?;
    Ok(state.model_list().await?.iter().map(|m| openai_model(state, m)).collect())
}

fn openai_model(state: &AppState, m: &Value) -> Value {
    let id = m["id"].as_str().unwrap_or_default();
    let aliases = state.models_live.table.get(id).aliases;
    json!({
        "id": id,
        "object": "model",
        "created": m["modifiedAt"].as_i64().map_or(0, |ms| ms / 1000),
        "owned_by": "llama-dashboard",
        "status": m["status"],
        "aliases": aliases,
        "ttl_sec": m["ttlSec"],
        "unload_at": m["unloadAt"],
        "meta": {
            "architecture": m["architecture"],
            "parameters": m["parameters"],
            "quantization": m["quantization"],
            "context_length": m["contextLength"],
            "size_bytes": m["sizeBytes"],
        },
    })
}
