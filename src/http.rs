//! Operator endpoints: `/health` (JSON) and `/metrics` (Prometheus text).

use crate::app::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let db_ok = state.db.call(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?)).await.is_ok();
    let status = if db_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = json!({
        "status": if db_ok { "ok" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "uptimeMs": state.started.elapsed().as_millis() as u64,
        "database": if db_ok { "ok" } else { "unavailable" },
    });
    (status, Json(body))
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let latest = state.latest_metrics_sample();
    let clients = crate::live::client_count(&state);
    let mut text = crate::metrics::prometheus::render(latest.as_ref(), state.started.elapsed().as_secs_f64(), clients);
    state.proxy.render_metrics(&mut text);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text)
}
