//! llama.cpp's router API for every model we serve, router-mode and own backends alike:
//! - `GET /models`: the model list of `/v1/models` (each with llama.cpp's `status` object), except for a
//!   browser asking for a page (`Accept` naming `text/html`), which gets the dashboard's Models page.
//!   Clients written for llama.cpp send `Accept: */*` or `application/json`, so the page is never what
//!   they get.
//! - `POST /models/load` / `POST /models/unload` with `{"model": id}`: start loading or unloading and
//!   answer at once `{"success": true}`; progress shows in the list and on `/models/sse`. Refusals as
//!   llama.cpp words them (`model is not found`, `model is already running`, `model is not running`).
//! - `GET /models/sse`: `data: {"model", "event": "model_status", "data": {"status", ...}}` per change.
//!
//! They take the `/v1` API key (`security.apiKeys`): loading a model is what any `/v1` request may do.

use crate::app::AppState;
use crate::error::ApiError;
use crate::models::ModelStatus;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/models", get(list))
        .route("/models/load", post(load))
        .route("/models/unload", post(unload))
        .route("/models/sse", get(events))
}

/// A browser navigating to a page names `text/html` in `Accept`; API clients do not.
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/html"))
}

async fn list(State(state): State<AppState>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if wants_html(&headers) {
        return crate::assets::serve(method, uri).await;
    }
    match crate::proxy::auth::check(&state.config(), &headers) {
        Ok(()) => Json(crate::proxy::models::list_body(&state)).into_response(),
        Err(err) => err.into_response(),
    }
}

async fn load(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    respond(change(&state, &headers, &body, Change::Load).await)
}

async fn unload(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    respond(change(&state, &headers, &body, Change::Unload).await)
}

fn respond(result: Result<(), ApiError>) -> Response {
    match result {
        Ok(()) => Json(json!({"success": true})).into_response(),
        Err(err) => err.into_response(),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Change {
    Load,
    Unload,
}

async fn change(state: &AppState, headers: &HeaderMap, body: &[u8], change: Change) -> Result<(), ApiError> {
    crate::proxy::auth::check(&state.config(), headers)?;
    let name = model_named(body)?;
    let Some(model) = state.models.find(&name) else {
        return Err(match change {
            Change::Load => ApiError::NotFound("model is not found".into()),
            Change::Unload => ApiError::bad("model", "model is not found"),
        });
    };
    let status = model.live.status;
    match change {
        Change::Load if matches!(status, ModelStatus::Loaded | ModelStatus::Loading) => {
            Err(ApiError::bad("model", "model is already running"))
        }
        Change::Unload if matches!(status, ModelStatus::Unloaded | ModelStatus::Error) => {
            Err(ApiError::bad("model", "model is not running"))
        }
        Change::Load => state.models.load(&model.id, "llama.cpp API").await.map(drop).map_err(ApiError::from),
        Change::Unload => state.models.unload(&model.id, "llama.cpp API").await.map(drop).map_err(ApiError::from),
    }
}

/// The `model` of a `{"model": id, ...}` body (Open WebUI also sends `instance_id`, which is ignored).
fn model_named(body: &[u8]) -> Result<String, ApiError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::bad("body", format!("must be a JSON object: {e}")))?;
    match value.get("model") {
        Some(Value::String(name)) if !name.is_empty() => Ok(name.clone()),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            Err(ApiError::bad("model", "required: the id of the model (see GET /models)"))
        }
        Some(other) => Err(ApiError::bad("model", format!("must be a string, got {}", crate::error::json_kind(other)))),
    }
}

async fn events(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(err) = crate::proxy::auth::check(&state.config(), &headers) {
        return err.into_response();
    }
    let stream = super::sse::model_events(state.bus.subscribe());
    ([(header::CONTENT_TYPE, "text/event-stream"), (header::CACHE_CONTROL, "no-cache")], Body::from_stream(stream))
        .into_response()
}
