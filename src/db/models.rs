//! The `models` table mirrors the catalog: one row per model we know of, with its GGUF metadata.

use super::{Db, DbError, now_ms};
use crate::catalog::{CatalogEntry, Fingerprint};
use rusqlite::{Connection, params};
use std::collections::HashMap;

impl Db {
    /// What the last scan stored per router model, to re-read only changed files.
    pub async fn model_fingerprints(&self) -> Result<HashMap<String, Fingerprint>, DbError> {
        self.call(|c| {
            let mut stmt = c.prepare("SELECT id, path, size_bytes, modified_at FROM models WHERE source = 'router'")?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get::<_, i64>(2)? as u64, r.get(3)?))))?;
            Ok(rows.collect::<Result<HashMap<_, _>, _>>()?)
        })
        .await
    }

    /// Upserts the scanned models and drops router-source rows whose file is gone.
    /// Unchanged rows are not rewritten, so listing often costs no database writes.
    pub async fn sync_router_models(&self, entries: Vec<CatalogEntry>) -> Result<(), DbError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let ids: Vec<&str> = entries.iter().map(|e| e.file.id.as_str()).collect();
            let stale = stale_ids(&tx, &ids)?;
            for id in stale {
                tx.execute("DELETE FROM models WHERE id = ?1", [id])?;
            }
            for entry in &entries {
                if let Some(metadata) = &entry.metadata {
                    upsert(&tx, entry, metadata)?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// Records that a model was just loaded (shown as `lastUsed`).
    pub async fn touch_model(&self, id: String) -> Result<(), DbError> {
        self.call(move |c| {
            c.execute("UPDATE models SET last_used_at = ?1 WHERE id = ?2", params![now_ms(), id])?;
            Ok(())
        })
        .await
    }

    /// Every stored model, sorted by id.
    pub async fn list_models(&self) -> Result<Vec<ModelRow>, DbError> {
        self.call(|c| {
            let mut stmt = c.prepare(
                "SELECT id, path, size_bytes, architecture, parameters, quantization, context_length,
                        group_name, state, last_used_at, modified_at, metadata_json, metadata_error, projector
                 FROM models ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(ModelRow {
                    id: r.get(0)?,
                    path: r.get(1)?,
                    size_bytes: r.get(2)?,
                    architecture: r.get(3)?,
                    parameters: r.get(4)?,
                    quantization: r.get(5)?,
                    context_length: r.get(6)?,
                    group: r.get(7)?,
                    state: r.get(8)?,
                    last_used: r.get(9)?,
                    modified_at: r.get(10)?,
                    metadata: r.get(11)?,
                    metadata_error: r.get(12)?,
                    projector: r.get(13)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}

/// One row of `models`: a GGUF file of `models.directory` as the last scan read it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelRow {
    pub id: String,
    pub path: String,
    pub size_bytes: i64,
    pub architecture: Option<String>,
    pub parameters: Option<i64>,
    pub quantization: Option<String>,
    pub context_length: Option<i64>,
    pub group: Option<String>,
    pub state: String,
    /// When it was last loaded (ms).
    pub last_used: Option<i64>,
    pub modified_at: Option<i64>,
    /// The GGUF summary as JSON text.
    pub metadata: Option<String>,
    pub metadata_error: Option<String>,
    pub projector: Option<String>,
}

fn stale_ids(c: &Connection, present: &[&str]) -> Result<Vec<String>, DbError> {
    let mut stmt = c.prepare("SELECT id FROM models WHERE source = 'router'")?;
    let stored = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
    Ok(stored.into_iter().filter(|id| !present.contains(&id.as_str())).collect())
}

fn upsert(
    c: &Connection,
    entry: &CatalogEntry,
    metadata: &Result<crate::gguf::ModelSummary, String>,
) -> Result<(), DbError> {
    let f = &entry.file;
    let (summary, error) = match metadata {
        Ok(summary) => (Some(summary), None),
        Err(err) => (None, Some(err.clone())),
    };
    let summary_json = summary.map(serde_json::to_string).transpose()?;
    c.execute(
        "INSERT INTO models (id, source, path, size_bytes, modified_at, architecture, parameters, quantization,
                             context_length, metadata_json, metadata_error, projector, created_at, updated_at)
         VALUES (?1, 'router', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)
         ON CONFLICT(id) DO UPDATE SET path = excluded.path, size_bytes = excluded.size_bytes,
           modified_at = excluded.modified_at, architecture = excluded.architecture, parameters = excluded.parameters,
           quantization = excluded.quantization, context_length = excluded.context_length,
           metadata_json = excluded.metadata_json, metadata_error = excluded.metadata_error,
           projector = excluded.projector, updated_at = excluded.updated_at",
        params![
            f.id,
            f.path.to_string_lossy(),
            f.size_bytes as i64,
            f.modified_at,
            summary.and_then(|s| s.architecture.clone()),
            summary.map(|s| s.parameters as i64),
            summary.and_then(|s| s.quantization.clone()),
            summary.and_then(|s| s.context_length.map(|v| v as i64)),
            summary_json,
            error,
            f.projector.as_ref().map(|p| p.to_string_lossy().into_owned()),
            now_ms(),
        ],
    )?;
    Ok(())
}
