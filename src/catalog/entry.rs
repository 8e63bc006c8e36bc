//! A catalog entry: the file plus its GGUF metadata, read only when the file is new or changed.

use super::{ModelFile, scan};
use crate::gguf::{ModelSummary, read_metadata};
use std::collections::HashMap;
use std::path::Path;

/// What the database last saw of a model file: (path, size, modified).
pub type Fingerprint = (String, u64, Option<i64>);

pub struct CatalogEntry {
    pub file: ModelFile,
    /// `None`: unchanged since the last scan, keep the stored metadata. `Some(Err)`: unreadable GGUF.
    pub metadata: Option<Result<ModelSummary, String>>,
}

/// Blocking: walks `dir` and reads the header of each new or changed file (~1 ms each).
pub fn scan_with_metadata(dir: &Path, known: &HashMap<String, Fingerprint>) -> std::io::Result<Vec<CatalogEntry>> {
    Ok(scan(dir)?
        .into_iter()
        .map(|file| {
            let fingerprint = (file.path.to_string_lossy().into_owned(), file.size_bytes, file.modified_at);
            let changed = known.get(&file.id) != Some(&fingerprint);
            let metadata =
                changed.then(|| read_metadata(&file.path).map(|info| info.summary).map_err(|e| e.to_string()));
            if let Some(Err(err)) = &metadata {
                tracing::warn!(model = %file.id, error = %err, "model file has unreadable GGUF metadata");
            }
            CatalogEntry { file, metadata }
        })
        .collect())
}
