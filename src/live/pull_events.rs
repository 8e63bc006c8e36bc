//! `models:pull*`: browse a Hugging Face repository and pull from the dashboard (see docs/socket-events.md).
//! The hub work is in `crate::pull`; here are the payloads, the fit at the configured context, and what
//! makes a pulled model known without a restart: a rescan when `backends.hfDiscovery` lists the cache,
//! else an own backend model of origin `manual` (like `models:import`).

use super::payload::Params;
use crate::app::AppState;
use crate::backends::{discovery, memory, persist};
use crate::config::{Config, ModelOrigin};
use crate::error::ApiError;
use crate::pull::{PullError, Request, browse, service::Finish};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

pub async fn search(state: &AppState, p: &Params) -> Result<Value, ApiError> {
    let query = p.opt_str("query", 200)?.map(|q| q.trim().to_string()).filter(|q| !q.is_empty());
    let query = query.ok_or_else(|| ApiError::bad("query", "is required"))?;
    let models = state.pulls.hub().map_err(api)?.search(&query).await.map_err(api)?;
    Ok(json!({"query": query, "models": models}))
}

pub async fn files(state: &AppState, p: &Params) -> Result<Value, ApiError> {
    let request = request(p, None)?;
    let hub = state.pulls.hub().map_err(api)?;
    let args = context_args(&state.config());
    let fit = |header: &crate::pull::header::Header, size: u64| {
        let need = memory::estimate(&header.summary, size, &args).ok()?;
        Some(state.models.fit_new(need.total_bytes))
    };
    let listing = browse::files(&hub, &request.repo, fit).await.map_err(api)?;
    serde_json::to_value(listing).map_err(|e| ApiError::Internal(e.to_string()))
}

pub async fn start(state: &AppState, p: &Params) -> Result<Value, ApiError> {
    let file = p.opt_str("file", 1024)?;
    if let Some(name) = &file
        && !crate::pull::is_safe_name(name)
    {
        return Err(ApiError::bad("file", "must be a file name inside the repository"));
    }
    let mut request = request(p, file)?;
    if let Some(quant) = p.opt_str("quant", 64)? {
        if quant.is_empty() || !quant.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(ApiError::bad("quant", "must be a quant name such as Q4_K_M"));
        }
        request.quant = Some(quant);
    }
    let sidecars = p.opt_str_list("sidecars", 8, 1024)?;
    let hub = state.pulls.hub().map_err(api)?;
    let plan = crate::pull::plan(&hub, &request, &sidecars).await.map_err(api)?;
    let reply = json!({
        "repo": plan.repo,
        "file": plan.file,
        "sidecars": plan.sidecars,
        "totalBytes": plan.total_bytes(),
    });
    let id = state.pulls.start(hub, plan, state.bus.clone(), finisher(state.clone())).map_err(api)?;
    let mut reply = reply;
    reply["pullId"] = json!(id);
    Ok(reply)
}

pub async fn cancel(state: &AppState, p: &Params) -> Result<Value, ApiError> {
    let id = p.opt_str("pullId", 64)?.ok_or_else(|| ApiError::bad("pullId", "is required"))?;
    let bytes = state.pulls.cancel(&id).await.ok_or_else(|| ApiError::bad("pullId", "no such pull is running"))?;
    Ok(json!({"pullId": id, "cancelled": true, "bytes": bytes}))
}

pub async fn list(state: &AppState, _p: &Params) -> Result<Value, ApiError> {
    Ok(json!({"pulls": state.pulls.list()}))
}

/// `repo` (`user/repo`, or `user/repo:QUANT`), checked like the CLI's argument.
fn request(p: &Params, file: Option<String>) -> Result<Request, ApiError> {
    let repo = p.opt_str("repo", 200)?.ok_or_else(|| ApiError::bad("repo", "is required"))?;
    Request::parse(&repo, file).map_err(api)
}

/// The context a backend would get: `-c` / `--ctx-size` of `backends.defaultSpawn`, else
/// `performance.contextSize` when set; empty leaves the model's own.
fn context_args(config: &Config) -> Vec<String> {
    let command = &config.backends.default_spawn.command;
    let spawn = command.iter().position(|a| a == "-c" || a == "--ctx-size").and_then(|i| command.get(i + 1));
    match spawn {
        Some(context) => vec!["-c".into(), context.clone()],
        None if config.performance.context_size > 0 => vec!["-c".into(), config.performance.context_size.to_string()],
        None => Vec::new(),
    }
}

fn api(err: PullError) -> ApiError {
    match err {
        PullError::BadRepo(_) => ApiError::bad("repo", err.to_string()),
        PullError::BadFile(m) => ApiError::bad("file", m),
        PullError::NoQuant(m) => ApiError::bad("quant", m),
        PullError::BadSidecar(m) => ApiError::bad("sidecars", m),
        PullError::Busy(m) => ApiError::Conflict(m),
        PullError::Hub(m) | PullError::NoFile(m) => ApiError::Hub(m),
        PullError::Http(e) => ApiError::Hub(format!("the hub could not be reached: {e}")),
        PullError::NoCache | PullError::Io(_) | PullError::Cancelled => ApiError::Internal(err.to_string()),
    }
}

fn finisher(state: AppState) -> Finish {
    Box::new(move |path: PathBuf| Box::pin(async move { register(&state, &path).await }))
}

/// Makes the pulled model known and announced (`models:updated`); its id.
async fn register(state: &AppState, path: &Path) -> Result<String, String> {
    let link = path.to_string_lossy().into_owned();
    if !state.config().backends.hf_discovery {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let found = tokio::task::spawn_blocking(move || discovery::found_in(&dir, ModelOrigin::Manual))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("cannot read the pulled file: {e}"))?;
        let found: Vec<_> = found.into_iter().filter(|m| m.path == link).collect();
        persist::update_models(&state.config_store, true, |current| {
            let mut models = current.backends.models.clone();
            let added = discovery::merge_imported(&mut models, found);
            Ok::<_, ApiError>((!added.is_empty()).then_some(models))
        })
        .await
        .map_err(|e| e.to_string())?;
    }
    state.models.refresh().await.map_err(|e| e.to_string())?;
    state.models.publish_list();
    let listed = state.config().backends.models.iter().find(|m| m.path == link).map(|m| m.name.clone());
    listed.ok_or_else(|| format!("{link} was downloaded but is not listed as a model"))
}
