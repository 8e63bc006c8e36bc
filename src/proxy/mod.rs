//! The OpenAI-compatible `/v1` proxy on our public port: requests are routed by `model` to the
//! upstream that serves it, admitted through the model's queue, streamed back untouched, recorded
//! (SQLite, `/metrics`, `requests:completed`).

pub mod auth;
pub mod forward;
pub mod handle;
mod headers;
mod incoming;
pub mod models;
mod prometheus;
mod remote;
pub use remote::NODE_HEADER;
mod send;
pub mod stats;
mod tap;
pub mod telemetry;
mod usage;

pub use handle::Proxy;

use crate::app::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get};

/// `/v1/models`, `/v1/models/{id}` and every other `/v1` path (forwarded).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/models", get(models::list))
        .route("/v1/models/{id}", get(models::get))
        .route("/v1/{*rest}", any(forward::handle))
        .layer(DefaultBodyLimit::disable())
}
