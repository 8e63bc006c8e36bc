//! The `models` table mirrors the catalog: one row per model we know of, with its metadata.

use super::{Db, DbError, now_ms};
use crate::catalog::ModelFile;

impl Db {
    /// Upserts the files found in the models directory and drops router-source rows whose file is gone.
    /// Unchanged rows are not rewritten, so listing often costs no database writes.
    pub async fn sync_router_models(&self, files: Vec<ModelFile>) -> Result<(), DbError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let now = now_ms();
            tx.execute("CREATE TEMP TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY)", [])?;
            tx.execute("DELETE FROM seen", [])?;
            for f in &files {
                tx.execute(
                    "INSERT INTO models (id, source, path, size_bytes, modified_at, created_at, updated_at)
                     VALUES (?1, 'router', ?2, ?3, ?4, ?5, ?5)
                     ON CONFLICT(id) DO UPDATE SET path = excluded.path, size_bytes = excluded.size_bytes,
                       modified_at = excluded.modified_at, updated_at = excluded.updated_at
                     WHERE path IS NOT excluded.path OR size_bytes IS NOT excluded.size_bytes
                       OR modified_at IS NOT excluded.modified_at",
                    rusqlite::params![f.id, f.path.to_string_lossy(), f.size_bytes as i64, f.modified_at, now],
                )?;
                tx.execute("INSERT OR IGNORE INTO seen (id) VALUES (?1)", [&f.id])?;
            }
            tx.execute("DELETE FROM models WHERE source = 'router' AND id NOT IN (SELECT id FROM seen)", [])?;
            tx.commit()?;
            Ok(())
        })
        .await
    }
}

impl Db {
    /// Every known model as the contract's Model object, sorted by id.
    pub async fn list_models(&self) -> Result<Vec<serde_json::Value>, DbError> {
        self.call(|c| {
            let mut stmt = c.prepare(
                "SELECT id, source, path, size_bytes, architecture, parameters, quantization, context_length,
                        group_name, state, last_used_at, modified_at FROM models ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(serde_json::json!({
                    "id": r.get::<_, String>(0)?,
                    "source": r.get::<_, String>(1)?,
                    "path": r.get::<_, String>(2)?,
                    "sizeBytes": r.get::<_, i64>(3)?,
                    "architecture": r.get::<_, Option<String>>(4)?,
                    "parameters": r.get::<_, Option<i64>>(5)?,
                    "quantization": r.get::<_, Option<String>>(6)?,
                    "contextLength": r.get::<_, Option<i64>>(7)?,
                    "group": r.get::<_, Option<String>>(8)?,
                    "state": r.get::<_, String>(9)?,
                    "lastUsed": r.get::<_, Option<i64>>(10)?,
                    "modifiedAt": r.get::<_, Option<i64>>(11)?,
                    "status": "unloaded",
                }))
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}
