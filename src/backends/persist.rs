//! Writes a new `backends.models` list into the init file in use (only that key changes: the rest of the
//! file stays as the user wrote it). The edit runs on the current list under the config write lock, the
//! resulting file is validated with env and CLI overrides before it is written (backup, atomic, fsync),
//! and only then does the new config take effect. Running on built-in defaults, the list changes in
//! memory only, unless `create` asks for `./llama-router.init.json` to be written.

use crate::config::{self, BackendModel, Config, ConfigSource, DEFAULT_CONFIG_FILE, LoadedConfig, SharedConfig};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// The file with the new list would not load (with env and CLI overrides); nothing was written.
    #[error("{0}")]
    WouldNotLoad(String),
    #[error("cannot write the init file: {0}")]
    Write(String),
}

/// `edit` gets the current config and returns the new list, or `None` when nothing changes. Returns
/// the file written, or `None` for memory only or no change.
pub async fn update_models<E: From<PersistError>>(
    store: &SharedConfig,
    create: bool,
    edit: impl FnOnce(&Config) -> Result<Option<Vec<BackendModel>>, E>,
) -> Result<Option<PathBuf>, E> {
    let _writing = store.lock_writes().await;
    let current = store.config();
    let Some(models) = edit(&current)? else { return Ok(None) };
    let path = match store.source() {
        ConfigSource::File(path) => path,
        ConfigSource::Defaults if create => PathBuf::from(DEFAULT_CONFIG_FILE),
        ConfigSource::Defaults => {
            let mut next = (*current).clone();
            next.backends.models = models;
            store.replace(LoadedConfig { config: next, source: ConfigSource::Defaults });
            return Ok(None);
        }
    };
    let target = path.clone();
    let raw = blocking(move || with_models(&target, &models)).await?;
    let cli = config::CliOverrides { config: Some(path.clone()), ..store.cli().clone() };
    let next = config::effective(&raw, &cli, &|key| std::env::var(key).ok()).map_err(|issues| {
        let all = issues.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
        PersistError::WouldNotLoad(format!("{} would not load, so it was not written: {all}", path.display()))
    })?;
    let target = path.clone();
    let saved = blocking(move || config::write_with_backup(&target, &raw)).await?;
    store.replace(LoadedConfig { config: next, source: ConfigSource::File(saved.path.clone()) });
    tracing::info!(path = %saved.path.display(), "backends.models saved");
    Ok(Some(saved.path))
}

async fn blocking<T: Send + 'static>(
    job: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, PersistError> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| PersistError::Write(e.to_string()))?
        .map_err(|e| PersistError::Write(e.to_string()))
}

/// Blocking: replaces `backends.models` in the JSON file at `path` (created when missing) and writes it.
pub fn write_models(path: &Path, models: &[BackendModel]) -> std::io::Result<config::Saved> {
    config::write_with_backup(path, &with_models(path, models)?)
}

/// Blocking: the init file's JSON at `path` (empty when missing) with `backends.models` replaced.
fn with_models(path: &Path, models: &[BackendModel]) -> std::io::Result<Value> {
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
    Ok(raw)
}
