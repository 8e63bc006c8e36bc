//! `models:import`: adds every GGUF under a directory to `backends.models` as `manual` models and saves the
//! init file. Only directories inside configured roots can be read: `models.directory`, the Hugging Face
//! cache, and `backends.importRoots`.

use super::payload::Params;
use crate::app::AppState;
use crate::backends::{discovery, persist};
use crate::config::ModelOrigin;
use crate::error::ApiError;
use serde_json::{Value, json};
use std::path::PathBuf;

pub async fn models_import(state: &AppState, p: &Params) -> Result<Value, ApiError> {
    let dir = p.opt_str("dir", 4096)?.ok_or_else(|| ApiError::bad("dir", "is required"))?;
    let dir = allowed_dir(state, &dir)?;
    let scan_dir = dir.clone();
    let found = tokio::task::spawn_blocking(move || discovery::found_in(&scan_dir, ModelOrigin::Manual))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::bad("dir", format!("cannot be read: {e}")))?;
    let mut models = state.config().backends.models.clone();
    let added = discovery::merge_imported(&mut models, found);
    let saved = if added.is_empty() { None } else { persist::save_models(state, models, true).await? };
    tracing::info!(dir = %dir.display(), added = added.len(), "models imported");
    let list = state.refresh_models().await?;
    super::broadcast(state, "models:updated", json!({"models": list})).await;
    Ok(json!({
        "dir": dir.display().to_string(),
        "added": added,
        "saved": saved.map(|p| p.display().to_string()),
        "total": state.config().backends.models.len(),
    }))
}

fn allowed_dir(state: &AppState, dir: &str) -> Result<PathBuf, ApiError> {
    let canonical = std::fs::canonicalize(dir).map_err(|_| ApiError::bad("dir", "does not exist or cannot be read"))?;
    if !canonical.is_dir() {
        return Err(ApiError::bad("dir", "must be a directory"));
    }
    let config = state.config();
    let roots = std::iter::once(PathBuf::from(&config.models.directory))
        .chain(discovery::hf_hub_dir())
        .chain(config.backends.import_roots.iter().map(PathBuf::from));
    let inside = roots.filter_map(|r| std::fs::canonicalize(r).ok()).any(|root| canonical.starts_with(&root));
    if !inside {
        return Err(ApiError::bad(
            "dir",
            "must be inside models.directory, the Hugging Face cache or one of backends.importRoots",
        ));
    }
    Ok(canonical)
}
