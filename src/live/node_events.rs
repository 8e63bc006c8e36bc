//! `nodes:load` / `nodes:unload {node, model}`: a model on another machine of `nodes`, through that
//! node's own router API; the answer comes once the node accepted, the end arrives as `nodes:status`.

use super::payload::Params;
use crate::app::AppState;
use crate::error::ApiError;
use serde_json::{Value, json};

/// `nodes:load` / `nodes:unload {node, model}`: the node's own router API, answered once it accepted.
pub async fn change(state: &AppState, p: &Params, load: bool) -> Result<Value, ApiError> {
    let node = p.opt_str("node", 256)?.ok_or_else(|| ApiError::bad("node", "is required"))?;
    let model = p.opt_str("model", 512)?.ok_or_else(|| ApiError::bad("model", "is required"))?;
    let listed = state.nodes.list().into_iter().find(|n| n.name == node);
    let listed = listed.ok_or_else(|| ApiError::bad("node", format!("no node named '{node}' (nodes)")))?;
    if !listed.models.iter().any(|m| m.id == model) {
        return Err(ApiError::bad("model", format!("node '{node}' lists no model '{model}'")));
    }
    state.nodes.change(&node, &model, load).await?;
    let status = if load { "loading" } else { "unloading" };
    Ok(json!({"node": node, "model": model, "status": status}))
}
