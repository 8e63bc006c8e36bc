//! What each request event does. Handlers read through `AppState` and return the reply's `data`.

use super::payload::Params;
use super::proxy_events;
use crate::app::AppState;
use crate::config::{ConfigSource, config_from_value, router_args};
use crate::core::bus::LiveEvent;
use crate::db::{LogQuery, now_ms};
use crate::error::ApiError;
use crate::models::{ModelKind, ModelView};
use serde_json::{Value, json};

/// Every request event this server answers.
pub const EVENTS: [&str; 36] = [
    "models:list",
    "models:get",
    "models:scan",
    "models:load",
    "models:unload",
    "models:update",
    "models:import",
    "models:reset",
    "models:plan",
    "models:delete",
    "models:pull:search",
    "models:pull:files",
    "models:pull",
    "models:pull:cancel",
    "models:pull:list",
    "router:init:load",
    "router:init:validate",
    "router:init:save",
    "router:init:status",
    "router:status",
    "router:start",
    "router:stop",
    "router:restart",
    "metrics:get",
    "metrics:history",
    "logs:get",
    "settings:get",
    "settings:update",
    "requests:list",
    "requests:stats",
    "requests:history",
    "presets:get",
    "presets:save",
    "nodes:list",
    "nodes:load",
    "nodes:unload",
];

/// A reply's `data`: JSON built by the handler, or the model list, serialized straight from memory.
#[derive(serde::Serialize)]
#[serde(untagged)]
pub enum Data {
    Json(Value),
    Models { models: Vec<crate::models::Listed> },
}

pub async fn handle(state: &AppState, event: &str, p: &Params) -> Result<Data, ApiError> {
    // The list comes from memory, never from the disk: with `models.autoDiscovery` the catalog follows the
    // model directories by itself (`models::watch_dirs`); without it the list is the catalog read at start or
    // at the last `models:scan` / `POST /admin/rescan` (for slow or very large model stores).
    if event == "models:list" {
        return Ok(Data::Models { models: state.models.listing() });
    }
    handle_json(state, event, p).await.map(Data::Json)
}

async fn handle_json(state: &AppState, event: &str, p: &Params) -> Result<Value, ApiError> {
    match event {
        "models:get" => models_get(state, p).await,
        "models:scan" => models_scan(state).await,
        "models:load" => {
            let id = find_model(state, p)?.id;
            Ok(json!(state.models.load(&id, "socket").await?))
        }
        "models:unload" => {
            let id = find_model(state, p)?.id;
            Ok(json!(state.models.unload(&id, "socket").await?))
        }
        "models:update" => models_update(state, p).await,
        "models:import" => super::backend_events::models_import(state, p).await,
        "models:reset" => {
            let id = find_model(state, p)?.id;
            Ok(json!(state.models.reset(&id).await?))
        }
        "models:plan" => super::plan_events::models_plan(state, p).await,
        "models:delete" => super::plan_events::models_delete(state, p).await,
        "models:pull:search" => super::pull_events::search(state, p).await,
        "models:pull:files" => super::pull_events::files(state, p).await,
        "models:pull" => super::pull_events::start(state, p).await,
        "models:pull:cancel" => super::pull_events::cancel(state, p).await,
        "models:pull:list" => super::pull_events::list(state, p).await,
        "requests:list" => proxy_events::requests_list(state, p).await,
        "requests:stats" => proxy_events::requests_stats(state, p).await,
        "requests:history" => proxy_events::requests_history(state, p).await,
        "presets:get" => super::presets::get(state).await,
        "presets:save" => super::presets::save(state, p).await,
        "router:init:load" => Ok(init_load(state)),
        "router:init:validate" => init_validate(state, p),
        "router:init:save" => crate::live::init_save::save(state, p).await,
        "router:init:status" | "router:status" => Ok(router_status(state)),
        "router:start" => router_control(state, RouterAction::Start).await,
        "router:stop" => router_control(state, RouterAction::Stop).await,
        "router:restart" => router_control(state, RouterAction::Restart).await,
        "metrics:get" => Ok(json!({"metrics": state.latest_sample()})),
        "metrics:history" => metrics_history(state, p).await,
        "logs:get" => logs_get(state, p).await,
        "settings:get" => Ok(json!({"settings": state.settings.current()})),
        "settings:update" => settings_update(state, p).await,
        "nodes:list" => Ok(json!({"nodes": state.nodes.list()})),
        "nodes:load" => super::node_events::change(state, p, true).await,
        "nodes:unload" => super::node_events::change(state, p, false).await,
        other => Err(ApiError::UnknownEvent(other.to_string())),
    }
}

/// Pushed to each socket on connect so a page can draw itself without asking.
pub async fn snapshot(state: &AppState) -> Result<Value, ApiError> {
    Ok(json!({
        "models": crate::models::to_json(&state.models.list()),
        "router": router_status(state),
        "metrics": state.latest_sample(),
        "settings": state.settings.current(),
        "nodes": state.nodes.list(),
        "serverTime": now_ms(),
    }))
}

/// `config` is what runs (file, env and CLI overrides); `fileConfig` is the file alone with defaults,
/// which is what an editor should show and save, so that overrides are not written into the file.
/// `protected` says whether the program and file keys can be changed from here, and why not.
/// `revision` names the file's bytes: a save that sends it back is refused if the file changed since.
fn init_load(state: &AppState) -> Value {
    let (path, source) = config_origin(state);
    let config = state.config();
    json!({
        "revision": super::init_save::file_revision(state),
        "config": config.redacted(),
        "fileConfig": file_config(state).redacted(),
        "configPath": path,
        "source": source,
        "protected": crate::config::protection(&config),
    })
}

/// The init file alone (no env or CLI overrides), with defaults for what it leaves out.
pub fn file_config(state: &AppState) -> crate::config::Config {
    match state.config_source() {
        ConfigSource::File(p) => {
            let file_only = crate::config::CliOverrides { config: Some(p), ..Default::default() };
            crate::config::load(&file_only, &|_| None).map(|l| l.config).unwrap_or_else(|_| (*state.config()).clone())
        }
        ConfigSource::Defaults => crate::config::Config::default(),
    }
}

fn config_origin(state: &AppState) -> (Option<String>, &'static str) {
    match state.config_source() {
        ConfigSource::File(p) => (Some(p.display().to_string()), "file"),
        ConfigSource::Defaults => (None, "defaults"),
    }
}

/// Secrets sent back as placeholders (as `router:init:load` shows them) count as the stored values, and
/// program or file keys that a save would refuse without the admin token are listed, as on save.
fn init_validate(state: &AppState, p: &Params) -> Result<Value, ApiError> {
    let mut config = Value::Object(p.required_object("config")?.clone());
    let current = state.config();
    if let Err(issue) = crate::config::restore_redacted_secrets(&mut config, &current) {
        return Ok(json!({"valid": false, "errors": [issue], "args": []}));
    }
    Ok(match config_from_value(&config) {
        Ok(valid) => {
            let refused = super::init_save::protected_issues(state, &current, &valid);
            json!({"valid": refused.is_empty(), "errors": refused, "args": router_args(&valid)})
        }
        Err(issues) => json!({"valid": false, "errors": issues, "args": []}),
    })
}

/// The init settings plus the live state of the router process.
pub fn router_status(state: &AppState) -> Value {
    router_status_of(state, &state.router.status())
}

/// `router:status` for one status the router went through.
pub fn router_status_of(state: &AppState, live: &crate::supervisor::RouterStatus) -> Value {
    crate::supervisor::router_status_json(live, &state.config(), config_origin(state).0)
}

async fn metrics_history(state: &AppState, p: &Params) -> Result<Value, ApiError> {
    let since = p.opt_i64("since", 0, i64::MAX)?.unwrap_or(0);
    let until = p.opt_i64("until", 0, i64::MAX)?.unwrap_or(i64::MAX);
    if since > until {
        return Err(ApiError::bad("since", "must not be after until"));
    }
    let limit = p.opt_i64("limit", 1, 10_000)?.unwrap_or(500);
    Ok(json!({"samples": state.db.sample_history(since, until, limit).await?}))
}

async fn logs_get(state: &AppState, p: &Params) -> Result<Value, ApiError> {
    let query = LogQuery {
        limit: p.opt_i64("limit", 1, 1_000)?.unwrap_or(100),
        max_level: p.one_of("level", &crate::db::LOG_LEVELS)?.and_then(|l| crate::db::level_number(&l)),
        source: p.opt_str("source", 128)?,
        model: p.opt_str("model", 256)?,
        before: p.opt_i64("before", 1, i64::MAX)?,
        search: p.opt_str("search", 256)?,
    };
    let (logs, has_more) = state.db.query_logs(query).await?;
    Ok(json!({"logs": logs, "hasMore": has_more}))
}

async fn settings_update(state: &AppState, p: &Params) -> Result<Value, ApiError> {
    let changes = p.required_object("settings")?;
    let settings = state.settings.update(changes).await?;
    tracing::info!(keys = ?changes.keys().collect::<Vec<_>>(), "settings updated");
    let data = json!({"settings": settings});
    state.bus.publish(LiveEvent::SettingsUpdated(data.clone()));
    Ok(data)
}

enum RouterAction {
    Start,
    Stop,
    Restart,
}

/// Start / stop / restart and wait for the outcome; a failure is a `ROUTER_ERROR` carrying the reason.
async fn router_control(state: &AppState, action: RouterAction) -> Result<Value, ApiError> {
    let result = match action {
        RouterAction::Start => state.router.start().await,
        RouterAction::Stop => state.router.stop().await,
        RouterAction::Restart => state.router.restart().await,
    };
    result.map_err(|err| ApiError::Router(err.to_string()))?;
    Ok(router_status(state))
}

/// The model named by the `id` field; it must be listed, so no client string reaches the filesystem.
pub fn find_model(state: &AppState, p: &Params) -> Result<ModelView, ApiError> {
    let id = p.opt_str("id", 512)?.ok_or_else(|| ApiError::bad("id", "is required"))?;
    state.models.get(&id).ok_or(ApiError::ModelNotFound(id))
}

async fn models_update(state: &AppState, p: &Params) -> Result<Value, ApiError> {
    let model = find_model(state, p)?;
    match model.source {
        ModelKind::Backend => super::backend_events::models_update(state, p, &model.id).await,
        ModelKind::Router => proxy_events::models_update(state, p, model.id).await,
    }
}

async fn models_get(state: &AppState, p: &Params) -> Result<Value, ApiError> {
    let model = find_model(state, p)?;
    let events = state.db.model_events(model.id.clone(), 50).await?;
    Ok(json!({"model": model, "events": events}))
}

async fn models_scan(state: &AppState) -> Result<Value, ApiError> {
    Ok(json!(state.models.scan().await?))
}
