//! `router:init:save`: validate, persist with a backup, load it again with env and CLI overrides,
//! and, when its argv changed, restart the router once the requests in flight have finished
//! (bounded). The dashboard itself stays up.

use super::payload::Params;
use crate::app::AppState;
use crate::config::{self, ConfigSource, DEFAULT_CONFIG_FILE, router_args};
use crate::error::ApiError;
use serde_json::{Value, json};
use std::path::PathBuf;

/// Keys that only take effect when llama-dashboard itself restarts.
/// API keys, the admin token and proxy limits are read per request and apply at once.
const NEEDS_PROCESS_RESTART: [&str; 2] = ["server", "security.corsOrigins"];

/// How long a router restart waits for requests in flight to finish.
const DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

pub async fn save(state: &AppState, p: &Params) -> Result<Value, ApiError> {
    let before = state.config();
    let mut submitted = Value::Object(p.required_object("config")?.clone());
    config::restore_redacted_secrets(&mut submitted, &before);
    if let Err(issues) = config::config_from_value(&submitted) {
        let first = issues.first().map(|i| format!("config.{}", i.path)).unwrap_or_else(|| "config".into());
        let all = issues.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
        return Err(ApiError::bad(first, format!("invalid configuration: {all}")));
    }
    let path = match state.config_source() {
        ConfigSource::File(path) => path,
        ConfigSource::Defaults => PathBuf::from(DEFAULT_CONFIG_FILE),
    };
    let target = path.clone();
    let saved = tokio::task::spawn_blocking(move || config::write_with_backup(&target, &submitted))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(format!("cannot write {}: {e}", path.display())))?;
    let cli = config::CliOverrides { config: Some(saved.path.clone()), ..state.cli.clone() };
    let loaded = config::load(&cli, &|key| std::env::var(key).ok())
        .map_err(|e| ApiError::bad("config", format!("saved, but the effective config is invalid: {e}")))?;
    let after = loaded.config.clone();
    state.shared_config.replace(loaded);
    tracing::info!(path = %saved.path.display(), "init file saved");
    let router_changed = router_args(&before) != router_args(&after) || before.router != after.router;
    let restarted = router_changed && state.router.status().running();
    if restarted {
        if !state.proxy.drain(DRAIN_LIMIT).await {
            tracing::warn!("requests still running after {DRAIN_LIMIT:?}; restarting the router anyway");
        }
        state.router.restart().await.map_err(|e| ApiError::Router(e.to_string()))?;
    }
    let restart_needed: Vec<&str> =
        NEEDS_PROCESS_RESTART.into_iter().filter(|key| section(&before, key) != section(&after, key)).collect();
    Ok(json!({
        "saved": saved.path.display().to_string(),
        "backup": saved.backup.map(|b| b.display().to_string()),
        "routerRestarted": restarted,
        "requiresRestart": restart_needed,
        "config": after.redacted(),
        "args": router_args(&after),
    }))
}

/// The value at a dotted key path (`server`, `security.corsOrigins`).
fn section(config: &config::Config, key: &str) -> Value {
    let pointer = format!("/{}", key.replace('.', "/"));
    serde_json::to_value(config).ok().and_then(|v| v.pointer(&pointer).cloned()).unwrap_or(Value::Null)
}
