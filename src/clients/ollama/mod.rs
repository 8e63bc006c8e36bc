//! Ollama's API on our port (`/api/*`) for every model we serve, for clients that speak only Ollama's:
//! chat, generate and embeddings (streamed as NDJSON like Ollama, through the `/v1` proxy's queues, keys and
//! telemetry), the model list (`/api/tags`), what is loaded and until when (`/api/ps`, `expires_at` from
//! our real unload deadline), a model's details (`/api/show`) and `/api/version`. Errors are Ollama's
//! `{"error": "..."}` with the status Ollama gives. They take the `/v1` API key (`security.apiKeys`).
//!
//! Names: Ollama's clients add a `:latest` tag to bare names; a name with it finds the model without it.

mod answer;
mod call;
mod listing;
mod translate;

use crate::app::AppState;
use axum::Router;
use axum::routing::{get, post};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/version", get(listing::version))
        .route("/api/tags", get(listing::tags))
        .route("/api/ps", get(listing::ps))
        .route("/api/show", post(listing::show))
        .route("/api/chat", post(call::chat))
        .route("/api/generate", post(call::generate))
        .route("/api/embed", post(call::embed))
        .route("/api/embeddings", post(call::embeddings))
}

/// A time (ms since the epoch) as Ollama writes its dates: RFC 3339 with milliseconds, in UTC.
fn rfc3339(ms: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_millis(at.max(SystemTime::UNIX_EPOCH)).to_string()
}

/// Now, as Ollama writes its `created_at`.
fn now() -> String {
    rfc3339(crate::core::clock::now_ms())
}

/// Our model id for a name an Ollama client sent (`smol:latest` is `smol`, unless a model is named so).
fn model_named(state: &AppState, name: &str) -> Option<crate::models::ModelView> {
    state.models.find(name).or_else(|| state.models.find(name.strip_suffix(":latest")?))
}
