//! llama-router style operator endpoints, guarded by the admin token (Bearer or `X-Admin-Token`):
//! `POST /admin/reload` stops every own backend (each after its requests in flight), `POST /admin/rescan`
//! rescans the models directory (both change state, so neither answers a GET a page could trigger), and
//! `GET /<model>/health|props|slots` passes through to a running backend.

use crate::app::AppState;
use crate::error::ApiError;
use crate::unrouted::Segment;
use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/reload", post(reload))
        .route("/admin/rescan", post(rescan))
        .route("/{model}/health", get(|s, h, p| pass_through(s, h, p, "/health")))
        .route("/{model}/props", get(|s, h, p| pass_through(s, h, p, "/props")))
        .route("/{model}/slots", get(|s, h, p| pass_through(s, h, p, "/slots")))
}

async fn reload(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    crate::auth::check_admin(&state.config(), &headers)?;
    let stopping = state.models.stop_backends("admin reload").await?;
    tracing::info!(?stopping, "admin reload: stopping every backend");
    Ok(Json(json!({"success": true, "stopping": stopping})))
}

async fn rescan(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    crate::auth::check_admin(&state.config(), &headers)?;
    let counts = state.models.scan().await?;
    state.bus.recheck_sessions();
    Ok(Json(json!({"success": true, "added": counts.added, "removed": counts.removed, "total": counts.total})))
}

/// Forwards to the backend when it is running; a stopped one answers 503 with its status (never started here).
async fn pass_through(
    State(state): State<AppState>,
    headers: HeaderMap,
    Segment(model): Segment,
    endpoint: &'static str,
) -> Response {
    match forward(&state, &headers, &model, endpoint).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

async fn forward(state: &AppState, headers: &HeaderMap, model: &str, endpoint: &str) -> Result<Response, ApiError> {
    crate::auth::check_admin(&state.config(), headers)?;
    let config = state.config();
    let backend = config.backends.model(model).ok_or_else(|| ApiError::ModelNotFound(model.to_string()))?;
    let Some(upstream) = state.models.backend_upstream(&backend.name) else {
        let status = state.models.get(&backend.name).map(|m| m.live.status);
        let body = json!({"status": status.unwrap_or(crate::models::ModelStatus::Unloaded), "model": backend.name});
        return Ok((StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response());
    };
    let upstream = state
        .proxy
        .loopback
        .get(&upstream, endpoint)
        .await
        .map_err(|e| ApiError::Upstream(format!("backend '{}' did not answer: {e}", backend.name)))?;
    let mut response = Response::builder().status(upstream.status);
    if let Some(ct) = upstream.headers.get(axum::http::header::CONTENT_TYPE) {
        response = response.header(axum::http::header::CONTENT_TYPE, ct);
    }
    let bytes = upstream.bytes().await.map_err(|e| ApiError::Upstream(e.to_string()))?;
    response.body(Body::from(bytes)).map_err(|e| ApiError::Internal(e.to_string()))
}
