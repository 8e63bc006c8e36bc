//! `models:import`: adds every GGUF under a directory to `backends.models` as `manual` models and saves the
//! init file. Only directories inside configured roots can be read: `models.directory`, the Hugging Face
//! cache, and `backends.importRoots`.

use super::payload::Params;
use crate::app::AppState;
use crate::backends::{discovery, persist};
use crate::config::ModelOrigin;
use crate::error::ApiError;
use crate::models::ModelStatus;
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
    let mut added = Vec::new();
    let saved = persist::update_models(&state.config_store, true, |current| {
        let mut models = current.backends.models.clone();
        added = discovery::merge_imported(&mut models, found);
        Ok::<_, ApiError>((!added.is_empty()).then_some(models))
    })
    .await?;
    tracing::info!(dir = %dir.display(), added = added.len(), "models imported");
    state.models.refresh().await?;
    state.models.publish_list();
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
    if !crate::config::inside_roots(&canonical, &discovery::roots(&state.config())) {
        return Err(ApiError::bad(
            "dir",
            "must be inside models.directory, the Hugging Face cache or one of backends.importRoots",
        ));
    }
    Ok(canonical)
}

/// Keys of a backend model that `models:update` may change (its path identifies its file: a new file is a new
/// backend). A rename needs it unloaded: a running process answers to its name.
const UPDATABLE: [&str; 8] = ["name", "group", "aliases", "state", "ttl", "spawn", "mmproj", "pinned"];

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
    let renamed = changes.get("name").and_then(Value::as_str).filter(|name| *name != id);
    if renamed.is_some()
        && state.models.get(id).is_some_and(|m| !matches!(m.live.status, ModelStatus::Unloaded | ModelStatus::Error))
    {
        return Err(ApiError::Conflict(format!("'{id}' is running; unload it before renaming it")));
    }
    persist::update_models(&state.config_store, true, |current| edited_models(current, id, changes).map(Some)).await?;
    if changes.contains_key("ttl") {
        state.models.forget_keep_alive(id);
    }
    let model = state.models.get(renamed.unwrap_or(id));
    state.models.publish_list();
    Ok(json!({"model": model}))
}

/// The list with `changes` applied to model `id`, checked like the init file would be. Without the admin
/// token a change of its command is refused (it names a program the server runs).
fn edited_models(
    current: &crate::config::Config,
    id: &str,
    changes: &serde_json::Map<String, Value>,
) -> Result<Vec<crate::config::BackendModel>, ApiError> {
    let mut models = current.backends.models.clone();
    let index = models.iter().position(|m| m.name == id).ok_or_else(|| ApiError::ModelNotFound(id.to_string()))?;
    let mut edited = serde_json::to_value(&models[index]).map_err(|e| ApiError::Internal(e.to_string()))?;
    for (key, value) in changes {
        edited[key] = value.clone();
    }
    models[index] = serde_json::from_value(edited).map_err(|e| ApiError::bad("changes", e.to_string()))?;
    let mut candidate = current.clone();
    candidate.backends.models = models.clone();
    let prefix = format!("backends.models[{index}].");
    let field = |path: &str| path.strip_prefix(&prefix).map_or("changes".to_string(), |rest| format!("changes.{rest}"));
    if let Some(issue) = crate::config::validate(&candidate).into_iter().next() {
        return Err(ApiError::bad(field(&issue.path), issue.message));
    }
    if current.security.admin_token.is_none()
        && let Some(issue) =
            crate::config::protected_changes(current, &candidate, &discovery::roots(current)).into_iter().next()
    {
        return Err(ApiError::forbidden(field(&issue.path), issue.message));
    }
    Ok(models)
}
