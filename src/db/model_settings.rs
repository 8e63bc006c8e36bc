//! Per-model settings chosen by the user (`models:update`), kept apart from the scanned catalog so a
//! rescan never loses them and presets (which have no file row) can have them too.

use super::{Db, DbError, now_ms};
use std::collections::HashMap;

impl Db {
    /// Every model's idle TTL override in seconds (`0` = never unload).
    pub async fn model_ttls(&self) -> Result<HashMap<String, i64>, DbError> {
        self.call(|c| {
            let mut stmt = c.prepare("SELECT model_id, ttl_sec FROM model_settings WHERE ttl_sec IS NOT NULL")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            Ok(rows.collect::<Result<HashMap<_, _>, _>>()?)
        })
        .await
    }

    /// Sets (or with `None` clears, back to the default) a model's idle TTL.
    pub async fn set_model_ttl(&self, id: String, ttl_sec: Option<i64>) -> Result<(), DbError> {
        self.call(move |c| {
            c.execute(
                "INSERT INTO model_settings (model_id, ttl_sec, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(model_id) DO UPDATE SET ttl_sec = excluded.ttl_sec, updated_at = excluded.updated_at",
                rusqlite::params![id, ttl_sec, now_ms()],
            )?;
            Ok(())
        })
        .await
    }
}
