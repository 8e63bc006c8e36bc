//! Per-model settings chosen by the user (`models:update`), kept apart from the scanned catalog so a
//! rescan never loses them and presets (which have no file row) can have them too.

use super::{Db, DbError, now_ms};
use std::collections::{HashMap, HashSet};

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
        self.set_model_setting(id, Setting::TtlSec, ttl_sec.into()).await
    }

    /// The router-mode models the user pinned.
    pub async fn pinned_models(&self) -> Result<HashSet<String>, DbError> {
        self.call(|c| {
            let mut stmt = c.prepare("SELECT model_id FROM model_settings WHERE pinned = 1")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<Result<HashSet<_>, _>>()?)
        })
        .await
    }

    pub async fn set_model_pinned(&self, id: String, pinned: bool) -> Result<(), DbError> {
        self.set_model_setting(id, Setting::Pinned, i64::from(pinned).into()).await
    }

    /// One setting of one model, inserting its row when it has none.
    async fn set_model_setting(
        &self,
        id: String,
        setting: Setting,
        value: rusqlite::types::Value,
    ) -> Result<(), DbError> {
        let sql = match setting {
            Setting::TtlSec => {
                "INSERT INTO model_settings (model_id, ttl_sec, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(model_id) DO UPDATE SET ttl_sec = excluded.ttl_sec, updated_at = excluded.updated_at"
            }
            Setting::Pinned => {
                "INSERT INTO model_settings (model_id, pinned, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(model_id) DO UPDATE SET pinned = excluded.pinned, updated_at = excluded.updated_at"
            }
        };
        self.call(move |c| {
            c.execute(sql, rusqlite::params![id, value, now_ms()])?;
            Ok(())
        })
        .await
    }
}

/// The columns of `model_settings` a user sets.
enum Setting {
    TtlSec,
    Pinned,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pins_and_ttls_are_stored_apart_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        db.set_model_ttl("a".into(), Some(60)).await.unwrap();
        db.set_model_pinned("a".into(), true).await.unwrap();
        db.set_model_pinned("b".into(), true).await.unwrap();
        db.set_model_pinned("b".into(), false).await.unwrap();
        drop(db);
        let db = Db::open(dir.path()).unwrap();
        assert_eq!(db.pinned_models().await.unwrap(), HashSet::from(["a".to_string()]));
        assert_eq!(db.model_ttls().await.unwrap(), HashMap::from([("a".to_string(), 60)]), "a pin leaves the TTL");
    }
}
