//! Writes a new `backends.models` list into the init file in use (only that key changes: the rest of the
//! file stays as the user wrote it), keeping a `.json.bak` backup and writing atomically, then reloads
//! the file with env and CLI overrides. Running on built-in defaults, the list changes in memory only,
//! unless `create` asks for `./llama-router.init.json` to be written.

use crate::app::AppState;
use crate::config::{self, BackendModel, ConfigSource, DEFAULT_CONFIG_FILE, LoadedConfig};
use crate::error::ApiError;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Where the list went: the file written, or `None` for memory only.
pub async fn save_models(
    state: &AppState,
    models: Vec<BackendModel>,
    create: bool,
) -> Result<Option<PathBuf>, ApiError> {
    let path = match state.config_source() {
        ConfigSource::File(path) => path,
        ConfigSource::Defaults if create => PathBuf::from(DEFAULT_CONFIG_FILE),
        ConfigSource::Defaults => {
            let mut next = (*state.config()).clone();
            next.backends.models = models;
            state.shared_config.replace(LoadedConfig { config: next, source: ConfigSource::Defaults });
            return Ok(None);
        }
    };
    let target = path.clone();
    let saved = tokio::task::spawn_blocking(move || write_models(&target, &models))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(format!("cannot write {}: {e}", path.display())))?;
    let cli = config::CliOverrides { config: Some(saved.path.clone()), ..state.cli.clone() };
    let loaded = config::load(&cli, &|key| std::env::var(key).ok())
        .map_err(|e| ApiError::Internal(format!("{} was written but does not load: {e}", saved.path.display())))?;
    state.shared_config.replace(loaded);
    tracing::info!(path = %saved.path.display(), "backends.models saved");
    Ok(Some(saved.path))
}

/// Blocking: replaces `backends.models` in the JSON file at `path` (created when missing).
pub fn write_models(path: &Path, models: &[BackendModel]) -> std::io::Result<config::Saved> {
    let mut raw: Value = match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map_err(std::io::Error::other)?,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => json!({}),
        Err(err) => return Err(err),
    };
    if !raw.is_object() {
        return Err(std::io::Error::other("the init file is not a JSON object"));
    }
    if !raw["backends"].is_object() {
        raw["backends"] = json!({});
    }
    raw["backends"]["models"] = serde_json::to_value(models).map_err(std::io::Error::other)?;
    config::write_with_backup(path, &raw)
}
