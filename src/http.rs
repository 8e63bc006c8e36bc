//! Operator endpoints: `/health` (JSON) and `/metrics` (Prometheus text).

use crate::app::AppState;
use crate::db::Db;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use rusqlite::TransactionBehavior;
use serde_json::json;
use std::time::Duration;

/// How long `/health` waits for the database before it answers 503.
const DATABASE_DEADLINE: Duration = Duration::from_millis(1500);
/// How long the check waits for another writer's lock (the connection's own busy timeout is longer).
const DATABASE_LOCK_WAIT: Duration = Duration::from_millis(500);

/// Whether the database can be used right now: its file is still where we opened it, a table can be read
/// and the write lock can be taken (another process holding it would make every write of ours fail).
/// `SELECT 1` would say yes to all of these: it touches no file.
async fn database_ok(db: &Db) -> bool {
    let path = db.path().to_path_buf();
    let check = db.call(move |c| {
        if !std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            return Ok(false);
        }
        let previous: u32 = c.pragma_query_value(None, "busy_timeout", |r| r.get(0))?;
        c.busy_timeout(DATABASE_LOCK_WAIT)?;
        let used = c.transaction_with_behavior(TransactionBehavior::Immediate).and_then(|tx| {
            tx.query_row("SELECT count(*) FROM settings", [], |r| r.get::<_, i64>(0))?;
            tx.rollback()
        });
        c.busy_timeout(Duration::from_millis(u64::from(previous)))?;
        used?;
        Ok(true)
    });
    matches!(tokio::time::timeout(DATABASE_DEADLINE, check).await, Ok(Ok(true)))
}

pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let db_ok = database_ok(&state.db).await;
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
    let latest = state.latest_sample();
    let clients = state.bus.audience();
    let mut text = crate::metrics::prometheus::render(latest.as_ref(), state.started.elapsed().as_secs_f64(), clients);
    state.proxy.render_metrics(&state.activity, &mut text);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text)
}
