//! Operator endpoints: `/health` (JSON) and `/metrics` (Prometheus text).

use crate::app::AppState;
use crate::core::drops::Drops;
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

/// Why the database cannot be used right now, if it cannot: its file is gone, another process holds the
/// write lock, it did not answer in time, or the last write of ours failed (a full disk). `SELECT 1` would
/// say yes to all of these: it touches no file.
async fn database_problem(db: &Db, drops: &Drops) -> Option<String> {
    let path = db.path().to_path_buf();
    let check = db.call(move |c| {
        if !std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            return Ok(Some(format!("the database file {} is gone", path.display())));
        }
        let previous: u32 = c.pragma_query_value(None, "busy_timeout", |r| r.get(0))?;
        c.busy_timeout(DATABASE_LOCK_WAIT)?;
        let used = c.transaction_with_behavior(TransactionBehavior::Immediate).and_then(|tx| {
            tx.query_row("SELECT count(*) FROM settings", [], |r| r.get::<_, i64>(0))?;
            tx.rollback()
        });
        c.busy_timeout(Duration::from_millis(u64::from(previous)))?;
        Ok(used.err().map(|err| format!("the write lock cannot be taken: {err}")))
    });
    match tokio::time::timeout(DATABASE_DEADLINE, check).await {
        Ok(Ok(None)) => drops.failing(),
        Ok(Ok(Some(problem))) => Some(problem),
        Ok(Err(err)) => Some(err.to_string()),
        Err(_) => Some(format!("the database did not answer within {} ms", DATABASE_DEADLINE.as_millis())),
    }
}

/// 200 `{status, version, uptimeMs, database}`; 503 with `status: "degraded"`, `database: "unavailable"`
/// and the `reason` while the database cannot be used (the proxy keeps serving meanwhile).
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let problem = database_problem(&state.db, &state.drops).await;
    let status = if problem.is_none() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let mut body = json!({
        "status": if problem.is_none() { "ok" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "uptimeMs": state.started.elapsed().as_millis() as u64,
        "database": if problem.is_none() { "ok" } else { "unavailable" },
    });
    if let Some(reason) = problem {
        body["reason"] = reason.into();
    }
    (status, Json(body))
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let latest = state.latest_sample();
    let clients = state.bus.audience();
    let mut text = crate::metrics::prometheus::render(latest.as_ref(), state.started.elapsed().as_secs_f64(), clients);
    crate::metrics::prometheus::render_drops(&mut text, &state.drops);
    state.proxy.render_metrics(&state.activity, &mut text);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text)
}
