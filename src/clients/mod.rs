//! Other clients' APIs on our one port, each in the shape its clients were written for, over the same
//! models, queues, keys and telemetry as `/v1`: llama.cpp's router API (`/models`, `/models/load`,
//! `/models/unload`, `/models/sse`), as Open WebUI's llama.cpp connection and router scripts use it, and
//! Ollama's (`/api/*`), for clients that speak only Ollama's.

mod llamacpp;
mod ollama;
mod sse;

use crate::app::AppState;
use axum::Router;

pub use llamacpp::wants_html;

pub fn routes() -> Router<AppState> {
    llamacpp::routes().merge(ollama::routes())
}
