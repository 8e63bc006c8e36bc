//! `GET /v1/models` and `GET /v1/models/{id}` in OpenAI's shape, for every model the dashboard lists.
//! Extension fields: `status`, `aliases`, `ttl_sec`, `unload_at` (ms), and `meta` from the GGUF.

use crate::app::AppState;
use crate::error::ApiError;
use crate::models::ModelView;
use crate::unrouted::Segment;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match models(&state, &headers).await {
        Ok(data) => Json(json!({"object": "list", "data": data})).into_response(),
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

async fn models(state: &AppState, headers: &HeaderMap) -> Result<Vec<Value>, ApiError> {
    super::auth::check(&state.config(), headers)?;
    Ok(state.models.list().iter().map(openai_model).collect())
}

fn openai_model(m: &ModelView) -> Value {
    json!({
        "id": m.id,
        "object": "model",
        "created": m.modified_at().map_or(0, |ms| ms / 1000),
        "owned_by": "llama-dashboard",
        "status": m.live.status,
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
