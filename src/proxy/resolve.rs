//! Which upstream serves a `model`: one of our own backends (`backends.models`, by name or alias; started
//! and waited for here), else a model the router reported (by id or alias) or the stored catalog.
//! Names are only ever compared with known ids, never used as paths; their length was capped when the
//! request was read (`incoming::MAX_MODEL_NAME`).

use crate::app::AppState;
use crate::error::ApiError;

pub struct Route {
    /// The model's id (the request may have used an alias).
    pub model: String,
    /// Where the upstream answers, and its key.
    pub upstream: crate::supervisor::Upstream,
    /// For an own backend: held until the request is admitted, so the backend is not stopped before.
    pub claim: Option<crate::proxy::Claim>,
}

pub async fn route(state: &AppState, name: &str, path: &str) -> Result<Route, ApiError> {
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(ApiError::bad("model", "must be a model id or alias (see GET /v1/models)"));
    }
    let config = state.config();
    if let Some(backend) = config.backends.model(name) {
        let endpoints = &config.backends.spawn_of(backend).proxy_endpoints;
        if !endpoints.iter().any(|prefix| path.starts_with(prefix.as_str())) {
            return Err(ApiError::NotFound(format!(
                "'{path}' is not forwarded to backend '{}' (proxyEndpoints)",
                backend.name
            )));
        }
        let ready = state.ensure_backend(&backend.name, "request").await?;
        return Ok(Route { model: backend.name.clone(), upstream: ready.upstream, claim: Some(ready.claim) });
    }
    let table = &state.models_live.table;
    let model = if table.contains(name) {
        name.to_string()
    } else if let Some(id) = table.id_for_alias(name) {
        id
    } else if in_catalog(state, name).await? {
        name.to_string()
    } else if looks_like_path(name) {
        return Err(ApiError::bad("model", "must be a model id or alias, not a path"));
    } else {
        return Err(ApiError::ModelNotFound(name.to_string()));
    };
    match state.router.upstream() {
        Some(upstream) => Ok(Route { model, upstream, claim: None }),
        None => Err(ApiError::Router(format!(
            "model '{model}' is served by the llama-server router, which is not running (start it from the dashboard or with router:start)"
        ))),
    }
}

async fn in_catalog(state: &AppState, name: &str) -> Result<bool, ApiError> {
    Ok(state.db.list_models().await?.iter().any(|m| m["id"] == name))
}

fn looks_like_path(name: &str) -> bool {
    name.contains(['/', '\\']) || name.contains("..") || name.starts_with('~') || name.starts_with('.')
}
