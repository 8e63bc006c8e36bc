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

/// Keys of a backend model that `models:update` may change (name and path identify it).
const UPDATABLE: [&str; 5] = ["group", "aliases", "state", "ttl", "spawn"];

/// `models:update` for one of our own backends: the changes are checked like the init file would be,
/// then `backends.models` is saved (backup, atomic) and applies from the next start of the backend.
pub async fn models_update(state: &AppState, p: &Params, id: &str) -> Result<Value, ApiError> {
    let changes = p.required_object("changes")?;
    if changes.is_empty() {
        return Err(ApiError::bad("changes", format!("must name a setting to change ({})", UPDATABLE.join(", "))));
    }
    if let Some(key) = changes.keys().find(|k| !UPDATABLE.contains(&k.as_str())) {
        return Err(ApiError::bad(
            format!("changes.{key}"),
            format!("cannot be changed (only {})", UPDATABLE.join(", ")),
        ));
    }
    let config = state.config();
    let mut models = config.backends.models.clone();
    let index = models.iter().position(|m| m.name == id).ok_or_else(|| ApiError::ModelNotFound(id.to_string()))?;
    let mut edited = serde_json::to_value(&models[index]).map_err(|e| ApiError::Internal(e.to_string()))?;
    for (key, value) in changes {
        edited[key] = value.clone();
    }
    models[index] = serde_json::from_value(edited).map_err(|e| ApiError::bad("changes", e.to_string()))?;
    let mut candidate = (*config).clone();
    candidate.backends.models = models.clone();
    let prefix = format!("backends.models[{index}].");
    if let Some(issue) = crate::config::validate(&candidate).into_iter().next() {
        let field = issue.path.strip_prefix(&prefix).map_or("changes".to_string(), |rest| format!("changes.{rest}"));
        return Err(ApiError::bad(field, issue.message));
    }
    persist::save_models(state, models, true).await?;
    let list = state.model_list().await?;
    let model = list.iter().find(|m| m["id"] == id).cloned().unwrap_or(Value::Null);
    super::broadcast(state, "models:updated", json!({"models": list})).await;
    Ok(json!({"model": model}))
}

/// `models:reset`: an `error` state back to `unloaded` (a backend's crash backoff is cleared too).
pub async fn models_reset(state: &AppState, id: &str, source: &Value) -> Result<Value, ApiError> {
    if source == "backend" {
        state.backends.reset(id).await?;
    } else if state.models_live.table.get(id).status == crate::lifecycle::ModelStatus::Error
        && let Some(t) = state.models_live.table.requested(id, crate::lifecycle::ModelStatus::Unloaded)
    {
        crate::lifecycle::publish(state, t, "socket").await;
    }
    let status =
        state.model_list().await?.into_iter().find(|m| m["id"] == id).map_or(Value::Null, |m| m["status"].clone());
    Ok(json!({"id": id, "status": status}))
}
