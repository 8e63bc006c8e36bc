//! `router:init:save`, under the config write lock: restore the redacted secrets by identity, refuse
//! changes to the program and file keys without the admin token, validate the effective config (with
//! env and CLI overrides) *before* anything is written, persist with a backup, put it in effect, and,
//! when its argv changed, restart the router once the requests in flight have finished (bounded). A save
//! that sends the `revision` its load returned is refused (`CONFLICT`) when the file changed since, so an
//! editor never overwrites a change it has not seen; one without a revision writes over whatever is there. The
//! dashboard itself stays up. Sockets admitted under an admin token that changed are disconnected after
//! the reply (by the bridge, see `super::session::drop_stale_sessions`).

use super::payload::Params;
use crate::app::AppState;
use crate::config::{self, Config, ConfigIssue, ConfigSource, DEFAULT_CONFIG_FILE, router_args};
use crate::error::ApiError;
use serde_json::{Value, json};
use std::path::PathBuf;

/// Keys that only take effect when llama-dashboard itself restarts.
/// API keys, the admin token, allowed hosts and proxy limits are read per request and apply at once.
const NEEDS_PROCESS_RESTART: [&str; 2] = ["server", "security.corsOrigins"];

pub async fn save(state: &AppState, p: &Params) -> Result<Value, ApiError> {
    let writing = state.config_store.lock_writes().await;
    let before = state.config();
    let mut submitted = Value::Object(p.required_object("config")?.clone());
    let path = init_file(state);
    if let Some(loaded) = p.opt_str("revision", 64)? {
        let current = revision_of(&path)?;
        if loaded != current {
            return Err(ApiError::Conflict(format!(
                "{} changed since it was loaded (revision {loaded}, now {current}): load it again and reapply the changes",
                path.display()
            )));
        }
    }
    let after = checked(state, &before, &mut submitted, &path)?;
    let target = path.clone();
    let saved = tokio::task::spawn_blocking(move || config::write_with_backup(&target, &submitted))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(format!("cannot write {}: {e}", path.display())))?;
    state
        .config_store
        .replace(config::LoadedConfig { config: after.clone(), source: ConfigSource::File(saved.path.clone()) });
    drop(writing);
    tracing::info!(path = %saved.path.display(), "init file saved");
    let router_changed = router_args(&before) != router_args(&after) || before.router != after.router;
    let restarted = router_changed && state.router.in_service();
    if restarted {
        state.router.restart().await.map_err(|e| ApiError::Router(e.to_string()))?;
    }
    if before.backends.models != after.backends.models {
        // A backend added, removed or edited here shows on every page at once, with its file's facts.
        state.models.refresh_backend_metadata().await?;
        state.models.publish_list();
    }
    let restart_needed: Vec<&str> =
        NEEDS_PROCESS_RESTART.into_iter().filter(|key| section(&before, key) != section(&after, key)).collect();
    Ok(json!({
        "saved": saved.path.display().to_string(),
        "revision": revision_of(&saved.path)?,
        "backup": saved.backup.map(|b| b.display().to_string()),
        "routerRestarted": restarted,
        "requiresRestart": restart_needed,
        "config": after.redacted(),
        "fileConfig": super::handlers::file_config(state).redacted(),
        "args": router_args(&after),
    }))
}

/// The init file in use, or the one a first save creates.
fn init_file(state: &AppState) -> PathBuf {
    match state.config_source() {
        ConfigSource::File(path) => path,
        ConfigSource::Defaults => PathBuf::from(DEFAULT_CONFIG_FILE),
    }
}

fn revision_of(path: &std::path::Path) -> Result<String, ApiError> {
    config::revision(path).map_err(|e| ApiError::Internal(format!("cannot read {}: {e}", path.display())))
}

/// The init file's revision for `router:init:load` (`unreadable` when it cannot be read: a save with it
/// is then refused until a load can read the file).
pub fn file_revision(state: &AppState) -> String {
    config::revision(&init_file(state)).unwrap_or_else(|_| "unreadable".into())
}

/// Everything that must hold before the file is touched; the effective config that will run.
fn checked(
    state: &AppState,
    before: &Config,
    submitted: &mut Value,
    path: &std::path::Path,
) -> Result<Config, ApiError> {
    config::restore_redacted_secrets(submitted, before)
        .map_err(|i| ApiError::bad(format!("config.{}", i.path), i.message))?;
    let file_config =
        config::config_from_value(submitted).map_err(|issues| invalid(&issues, "invalid configuration"))?;
    if let Some(issue) = protected_issues(state, before, &file_config).into_iter().next() {
        return Err(ApiError::forbidden(format!("config.{}", issue.path), issue.message));
    }
    let listening = state.listen_addr;
    if file_config.security.admin_token.is_none() && !listening.ip().is_loopback() {
        return Err(ApiError::forbidden(
            "config.security.adminToken",
            format!(
                "cannot be removed while llama-dashboard listens on {listening}, which is not a loopback address; move server.host to 127.0.0.1 and restart first"
            ),
        ));
    }
    let cli = config::CliOverrides { config: Some(path.to_path_buf()), ..state.config_store.cli().clone() };
    config::effective(submitted, &cli, &|key| std::env::var(key).ok())
        .map_err(|issues| invalid(&issues, "with the environment and command-line overrides it would not run"))
}

/// Without an admin token: the program and file keys that `file_config` would change, compared with
/// the file as it is now (see `config::protected_changes`).
pub fn protected_issues(state: &AppState, current: &Config, file_config: &Config) -> Vec<ConfigIssue> {
    if current.security.admin_token.is_some() {
        return Vec::new();
    }
    let on_disk = super::handlers::file_config(state);
    config::protected_changes(&on_disk, file_config, &crate::backends::discovery::roots(current))
}

fn invalid(issues: &[ConfigIssue], what: &str) -> ApiError {
    let first = issues.first().map(|i| format!("config.{}", i.path)).unwrap_or_else(|| "config".into());
    let all = issues.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
    ApiError::bad(first, format!("{what}: {all}"))
}

/// The value at a dotted key path (`server`, `security.corsOrigins`).
fn section(config: &Config, key: &str) -> Value {
    let pointer = format!("/{}", key.replace('.', "/"));
    serde_json::to_value(config).ok().and_then(|v| v.pointer(&pointer).cloned()).unwrap_or(Value::Null)
}
