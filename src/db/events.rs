//! Model lifecycle history: who asked for what, what happened, how long it took.

use super::{Db, DbError, now_ms};
use serde::Serialize;

#[derive(Debug, Clone, Default)]
pub struct NewModelEvent {
    pub model_id: String,
    /// load_requested, loading, loaded, unload_requested, unloaded, crashed, load_failed
    pub event: &'static str,
    pub status: Option<String>,
    /// Who asked: "socket", "boot", "router" (the router acting on its own), ...
    pub actor: Option<String>,
    pub detail: Option<String>,
    pub duration_ms: Option<i64>,
    pub exit_code: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelEvent {
    pub id: i64,
    pub model_id: String,
    pub event: String,
    pub status: Option<String>,
    pub actor: Option<String>,
    pub detail: Option<String>,
    pub duration_ms: Option<i64>,
    pub exit_code: Option<i64>,
    pub timestamp: i64,
}

impl Db {
    pub async fn insert_model_event(&self, e: NewModelEvent) -> Result<(), DbError> {
        self.call(move |c| {
            c.execute(
                "INSERT INTO model_events (model_id, event, status, actor, detail, duration_ms, exit_code, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                rusqlite::params![
                    e.model_id,
                    e.event,
                    e.status,
                    e.actor,
                    e.detail,
                    e.duration_ms,
                    e.exit_code,
                    now_ms()
                ],
            )?;
            Ok(())
        })
        .await
    }

    /// Newest first.
    pub async fn model_events(&self, model_id: String, limit: i64) -> Result<Vec<ModelEvent>, DbError> {
        self.call(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, model_id, event, status, actor, detail, duration_ms, exit_code, created_at
                 FROM model_events WHERE model_id = ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(rusqlite::params![model_id, limit], |r| {
                Ok(ModelEvent {
                    id: r.get(0)?,
                    model_id: r.get(1)?,
                    event: r.get(2)?,
                    status: r.get(3)?,
                    actor: r.get(4)?,
                    detail: r.get(5)?,
                    duration_ms: r.get(6)?,
                    exit_code: r.get(7)?,
                    timestamp: r.get(8)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}
