//! `/api/version`, `/api/tags`, `/api/ps` and `/api/show` in Ollama's shapes.

use super::{model_named, rfc3339};
use crate::app::AppState;
use crate::error::ApiError;
use crate::models::{ModelStatus, ModelView};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The Ollama version whose API this answers like (clients check it before using newer fields).
const OLLAMA_VERSION: &str = "0.9.0";

pub async fn version() -> Json<Value> {
    Json(json!({"version": OLLAMA_VERSION}))
}

pub async fn tags(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(err) = crate::proxy::auth::check(&state.config(), &headers) {
        return err.into_ollama_response();
    }
    let mut models: Vec<Value> = state.models.list().iter().map(|m| described(m, false)).collect();
    models.extend(node_models(&state));
    Json(json!({"models": models})).into_response()
}

/// The models of the nodes that are up, as `node/model` (what a request names to be served there).
fn node_models(state: &AppState) -> Vec<Value> {
    let entry = |(node, m): (String, crate::nodes::NodeModel)| {
        let name = format!("{node}/{}", m.id);
        json!({"name": name, "model": name, "size": 0, "details": {"format": "gguf"}})
    };
    state.nodes.up_models().into_iter().map(entry).collect()
}

/// The loaded models, each with `expires_at`: when it will be unloaded if nothing uses it.
pub async fn ps(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(err) = crate::proxy::auth::check(&state.config(), &headers) {
        return err.into_ollama_response();
    }
    let loaded = state.models.list().into_iter().filter(|m| m.live.status == ModelStatus::Loaded);
    let models: Vec<Value> = loaded.map(|m| described(&m, true)).collect();
    Json(json!({"models": models})).into_response()
}

pub async fn show(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let shown = crate::proxy::auth::check(&state.config(), &headers).and_then(|()| {
        let name = name_in(&body)?;
        let model =
            model_named(&state, &name).ok_or_else(|| ApiError::NotFound(format!("model '{name}' not found")))?;
        Ok(details_of(&model))
    });
    match shown {
        Ok(body) => Json(body).into_response(),
        Err(err) => err.into_ollama_response(),
    }
}

/// `model` (or the older `name`) of a `/api/show` body.
fn name_in(body: &[u8]) -> Result<String, ApiError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::bad("body", format!("must be a JSON object: {e}")))?;
    let name = value.get("model").or_else(|| value.get("name")).and_then(Value::as_str).unwrap_or_default();
    if name.is_empty() {
        return Err(ApiError::bad("model", "required: the name of the model (see /api/tags)"));
    }
    Ok(name.to_string())
}

/// One entry of `/api/tags` (or, `running`, of `/api/ps`).
fn described(m: &ModelView, running: bool) -> Value {
    let mut entry = json!({
        "name": m.id,
        "model": m.id,
        "size": m.fact("sizeBytes").as_i64().unwrap_or(0),
        "details": model_details(m),
    });
    if running {
        entry["expires_at"] = json!(expires_at(m));
    } else if let Some(ms) = m.modified_at() {
        entry["modified_at"] = json!(rfc3339(ms));
    }
    entry
}

fn model_details(m: &ModelView) -> Value {
    let family = m.fact("architecture");
    json!({
        "format": "gguf",
        "family": family,
        "families": family.as_str().map(|f| vec![f.to_string()]),
        "parameter_size": m.fact("parameters").as_i64().map(parameter_size),
        "quantization_level": m.fact("quantization"),
    })
}

/// `/api/show`: the details, the GGUF facts as `model_info` under their GGUF keys, and what it can do.
fn details_of(m: &ModelView) -> Value {
    let arch = m.fact("architecture").as_str().unwrap_or("unknown").to_string();
    let mut info = serde_json::Map::new();
    info.insert("general.architecture".into(), json!(arch));
    if let Some(n) = m.fact("parameters").as_i64() {
        info.insert("general.parameter_count".into(), json!(n));
    }
    if let Some(n) = m.fact("contextLength").as_i64() {
        info.insert(format!("{arch}.context_length"), json!(n));
    }
    json!({
        "modelfile": "",
        "parameters": "",
        "template": "",
        "details": model_details(m),
        "model_info": info,
        "capabilities": ["completion"],
        "modified_at": m.modified_at().map(rfc3339),
    })
}

/// When the model will be unloaded if nothing uses it: our deadline; one TTL from now while it is busy;
/// far in the future when it is never unloaded for idleness (TTL 0), as Ollama shows `keep_alive: -1`.
fn expires_at(m: &ModelView) -> String {
    let now = crate::core::clock::now_ms();
    let at = match (m.live.unload_at, m.live.ttl_sec) {
        (Some(at), _) => at,
        (None, ttl) if ttl > 0 => now + ttl * 1000,
        _ => NEVER_MS,
    };
    rfc3339(at)
}

/// 2318-01-01, the date Ollama shows for a model kept loaded forever.
const NEVER_MS: i64 = 10_981_785_600_000;

/// Ollama's parameter size: `135M`, `1.5B`, `8B`.
fn parameter_size(n: i64) -> String {
    let (value, unit) = if n >= 1_000_000_000 { (n as f64 / 1e9, "B") } else { (n as f64 / 1e6, "M") };
    let text = format!("{value:.1}");
    format!("{}{unit}", text.trim_end_matches(".0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_dates_read_as_ollama_writes_them() {
        assert_eq!(parameter_size(134_515_008), "134.5M");
        assert_eq!(parameter_size(8_030_261_248), "8B");
        assert_eq!(parameter_size(1_543_714_304), "1.5B");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_796_022_150_123), "2026-11-30T07:02:30.123Z");
        assert!(rfc3339(NEVER_MS).starts_with("2318-01-01"));
    }
}
