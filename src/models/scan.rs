//! Scans: `models.directory` into SQLite and memory (GGUF headers of new or changed files only; the
//! database is written only when something changed), the Hugging Face cache into `backends.models`
//! (with `backends.hfDiscovery`), and the backend model files' GGUF metadata.

use super::{ModelError, Models};
use crate::catalog::Fingerprint;
use std::collections::HashMap;
use std::path::PathBuf;

/// What a scan changed in the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ScanCounts {
    pub added: usize,
    pub removed: usize,
    pub total: usize,
}

impl Models {
    /// Rescans everything and publishes the new list; the counts compare it with the list before.
    pub async fn scan(&self) -> Result<ScanCounts, ModelError> {
        let ids = |models: Vec<super::ModelView>| models.into_iter().map(|m| m.id).collect::<Vec<_>>();
        let before = ids(self.list());
        self.refresh().await?;
        let after = ids(self.list());
        self.publish_list();
        Ok(ScanCounts {
            added: after.iter().filter(|id| !before.contains(id)).count(),
            removed: before.iter().filter(|id| !after.contains(id)).count(),
            total: after.len(),
        })
    }

    /// Brings the catalog up to date with the disk and publishes the list when that changed it.
    pub async fn follow_disk(&self) -> Result<(), ModelError> {
        let before = super::to_json(&self.list());
        self.refresh().await?;
        if super::to_json(&self.list()) != before {
            self.publish_list();
        }
        Ok(())
    }

    /// Brings the catalog up to date with the disk. A missing models directory lists none of its files.
    pub async fn refresh(&self) -> Result<(), ModelError> {
        let _one_at_a_time = self.0.scanning.lock().await;
        let dir = PathBuf::from(&self.config().models.directory);
        if dir.is_dir() {
            self.scan_models_dir(dir).await?;
        }
        self.discover_hf_models().await?;
        self.refresh_backend_metadata().await
    }

    async fn scan_models_dir(&self, dir: PathBuf) -> Result<(), ModelError> {
        let known: HashMap<String, Fingerprint> = self
            .catalog()
            .iter()
            .map(|f| (f.row.id.clone(), (f.row.path.clone(), f.row.size_bytes as u64, f.row.modified_at)))
            .collect();
        let scan_known = known.clone();
        let entries = tokio::task::spawn_blocking(move || crate::catalog::scan_with_metadata(&dir, &scan_known))
            .await
            .map_err(|e| ModelError::Internal(e.to_string()))?
            .map_err(|e| ModelError::Internal(format!("cannot read models.directory: {e}")))?;
        let changed = entries.iter().any(|e| e.metadata.is_some())
            || known.keys().any(|id| !entries.iter().any(|e| &e.file.id == id));
        if changed {
            self.0.parts.db.sync_router_models(entries).await?;
            self.set_files(self.0.parts.db.list_models().await?);
            // The router reads its models directory only at start: a file added or deleted since needs it to
            // read it again, or it would refuse the new one and keep listing the gone one.
            if let Some(upstream) = self.0.parts.router.upstream() {
                super::router::reload(self, &upstream).await;
            }
        }
        Ok(())
    }

    /// With `backends.hfDiscovery`, the Hugging Face cache's GGUF files become `auto` backend models (and
    /// those whose files went are dropped); the init file is updated only when the list changed.
    async fn discover_hf_models(&self) -> Result<(), ModelError> {
        let config = self.config();
        if !config.backends.hf_discovery
            && !config.backends.models.iter().any(|m| m.state == crate::config::ModelOrigin::Auto)
        {
            return Ok(());
        }
        let hub = crate::backends::discovery::hf_hub_dir().filter(|d| d.is_dir());
        let found = match hub.filter(|_| config.backends.hf_discovery) {
            Some(dir) => tokio::task::spawn_blocking(move || crate::backends::discovery::found_in_hub(&dir))
                .await
                .map_err(|e| ModelError::Internal(e.to_string()))?
                .map_err(|e| ModelError::Internal(format!("cannot read the Hugging Face cache: {e}")))?,
            None => Vec::new(),
        };
        crate::backends::persist::update_models(&self.0.parts.config, false, |current| {
            let next = crate::backends::discovery::merge_discovered(&current.backends.models, found);
            if let Some(next) = &next {
                tracing::info!(count = next.len(), "backend models follow the Hugging Face cache");
            }
            Ok::<_, ModelError>(next)
        })
        .await?;
        Ok(())
    }

    /// Reads the GGUF headers of backend model files not read yet or changed since (memory estimates, facts).
    pub async fn refresh_backend_metadata(&self) -> Result<(), ModelError> {
        let cache = self.0.parts.metadata.clone();
        let paths: Vec<String> = self.config().backends.models.iter().map(|m| m.path.clone()).collect();
        tokio::task::spawn_blocking(move || cache.refresh(&paths))
            .await
            .map_err(|e| ModelError::Internal(e.to_string()))
    }

    /// Boot: the models directory is checked and its contents logged, never fatal.
    pub async fn first_scan(&self) {
        if let Err(err) = self.load_stored().await {
            tracing::warn!(error = %err, "stored catalog not read");
        }
        let config = self.config();
        let dir = &config.models.directory;
        let exists = std::path::Path::new(dir).is_dir();
        if !exists {
            tracing::warn!(dir, "models.directory does not exist; no models will be listed until it does");
        }
        match self.refresh().await {
            Ok(()) if exists => tracing::info!(dir, count = self.list().len(), "models directory scanned"),
            Ok(()) => {}
            Err(err) => tracing::warn!(dir, error = %err, "models directory scan failed"),
        }
    }
}
