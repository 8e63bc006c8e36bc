//! Key/value dashboard settings (values stored as JSON text).

use super::{Db, DbError, now_ms};
use serde_json::{Map, Value};

impl Db {
    pub async fn load_settings(&self) -> Result<Map<String, Value>, DbError> {
        self.call(|c| {
            let mut stmt = c.prepare("SELECT key, value_json FROM settings")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            let mut map = Map::new();
            for row in rows {
                let (key, json) = row?;
                map.insert(key, serde_json::from_str(&json)?);
            }
            Ok(map)
        })
        .await
    }

    /// Writes all pairs in one transaction: either every change lands or none.
    pub async fn save_settings(&self, changes: Map<String, Value>) -> Result<(), DbError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let now = now_ms();
            for (key, value) in changes {
                tx.execute(
                    "INSERT INTO settings (key, value_json, updated_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT(key) DO UPDATE SET value_json = excluded.value_json, updated_at = excluded.updated_at",
                    rusqlite::params![key, value.to_string(), now],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }
}
