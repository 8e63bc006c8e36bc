//! GGUF metadata of backend model files, kept in memory and re-read only when a file's size or
//! modification time changed (the same rule as the models directory's catalog).

use crate::gguf::{ModelSummary, read_metadata};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

#[derive(Clone)]
struct Cached {
    size: u64,
    modified: Option<std::time::SystemTime>,
    summary: Result<ModelSummary, String>,
}

#[derive(Clone, Default)]
pub struct MetadataCache(Arc<RwLock<HashMap<String, Cached>>>);

impl MetadataCache {
    /// Blocking: reads the header of each new or changed file among `paths`; missing files are noted.
    pub fn refresh(&self, paths: &[String]) {
        for path in paths {
            let file = std::fs::metadata(path);
            let (size, modified) = match &file {
                Ok(m) => (m.len(), m.modified().ok()),
                Err(_) => (0, None),
            };
            let known = self.0.read().ok().and_then(|c| c.get(path).map(|e| (e.size, e.modified)));
            if known == Some((size, modified)) && file.is_ok() {
                continue;
            }
            let summary = match file {
                Ok(_) => read_metadata(Path::new(path)).map(|info| info.summary).map_err(|e| e.to_string()),
                Err(err) => Err(format!("cannot read {path}: {err}")),
            };
            if let Ok(mut cache) = self.0.write() {
                cache.insert(path.clone(), Cached { size, modified, summary });
            }
        }
    }

    /// The file's size and summary, when it was read and is a readable GGUF.
    pub fn summary(&self, path: &str) -> Option<(u64, ModelSummary)> {
        let cache = self.0.read().ok()?;
        let cached = cache.get(path)?;
        cached.summary.as_ref().ok().map(|s| (cached.size, s.clone()))
    }

    /// The model's estimated memory need for its spawn command (see [`super::memory`]): `None` when its
    /// metadata is unknown, an error when the estimate overflows.
    pub fn need(
        &self,
        config: &crate::config::BackendsConfig,
        model: &crate::config::BackendModel,
    ) -> Option<Result<super::memory::Need, String>> {
        let (size, summary) = self.summary(&model.path)?;
        let projector = model.mmproj.as_ref().and_then(|p| std::fs::metadata(p).ok()).map_or(0, |m| m.len());
        Some(super::memory::estimate(&summary, size.saturating_add(projector), &config.spawn_of(model).command))
    }

    /// The Model fields a GGUF header gives (`sizeBytes`, `architecture`, ...), or `metadataError`.
    pub fn fields(&self, path: &str) -> Value {
        let Some(cached) = self.0.read().ok().and_then(|c| c.get(path).cloned()) else { return json!({}) };
        match cached.summary {
            Ok(s) => json!({
                "sizeBytes": cached.size,
                "architecture": s.architecture,
                "parameters": s.parameters,
                "quantization": s.quantization,
                "contextLength": s.context_length,
                "metadata": s,
                "metadataError": null,
            }),
            Err(err) => json!({"sizeBytes": cached.size, "metadataError": err}),
        }
    }
}
