//! `/api/chat`, `/api/generate`, `/api/embed` and `/api/embeddings`: each translated into the OpenAI call
//! llama-server serves and sent through the `/v1` proxy itself, so it takes the same route, queue, API key
//! and telemetry (recorded under the path the client called), then answered in Ollama's shape.

use super::answer::{self, Kind};
use super::translate::{self, Call};
use super::{model_named, now};
use crate::app::AppState;
use crate::error::ApiError;
use crate::models::ModelStatus;
use crate::proxy::forward::Translated;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::time::Duration;

pub async fn chat(State(state): State<AppState>, request: Request) -> Response {
    run(state, request, Api::Chat).await.unwrap_or_else(ApiError::into_ollama_response)
}

pub async fn generate(State(state): State<AppState>, request: Request) -> Response {
    run(state, request, Api::Generate).await.unwrap_or_else(ApiError::into_ollama_response)
}

pub async fn embed(State(state): State<AppState>, request: Request) -> Response {
    run(state, request, Api::Embed).await.unwrap_or_else(ApiError::into_ollama_response)
}

pub async fn embeddings(State(state): State<AppState>, request: Request) -> Response {
    run(state, request, Api::Embeddings).await.unwrap_or_else(ApiError::into_ollama_response)
}

#[derive(Clone, Copy, PartialEq)]
enum Api {
    Chat,
    Generate,
    Embed,
    Embeddings,
}

impl Api {
    fn path(self) -> &'static str {
        match self {
            Self::Chat => "/api/chat",
            Self::Generate => "/api/generate",
            Self::Embed => "/api/embed",
            Self::Embeddings => "/api/embeddings",
        }
    }
}

async fn run(state: AppState, request: Request, api: Api) -> Result<Response, ApiError> {
    crate::proxy::auth::check(&state.config(), request.headers())?;
    let (mut parts, body) = request.into_parts();
    let limit = usize::try_from(state.config().proxy.max_body_bytes).unwrap_or(usize::MAX);
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| ApiError::TooLarge(limit as u64))?;
    let mut body: Value =
        serde_json::from_slice(&bytes).map_err(|e| ApiError::bad("body", format!("must be a JSON object: {e}")))?;
    let asked = body.get("model").and_then(Value::as_str).unwrap_or_default().to_string();
    if asked.is_empty() {
        return Err(ApiError::bad("model", "required: the name of the model (see /api/tags)"));
    }
    // `smol:latest` is `smol`: the proxy routes by our id.
    let found = model_named(&state, &asked);
    let model = found.as_ref().map_or(asked, |m| m.id.clone());
    body["model"] = json!(model);
    let call = match api {
        Api::Chat => Some(translate::chat(&body)?),
        Api::Embed | Api::Embeddings => Some(translate::embed(&body)?),
        Api::Generate => translate::generate(&body)?,
    };
    let keep_alive = body.get("keep_alive").and_then(translate::keep_alive_secs);
    // A generate without a prompt and with `keep_alive` 0 is an unload, not a TTL for the model.
    let unload = call.is_none() && keep_alive == Some(0.0);
    if let (Some(_), Some(secs), false) = (&found, keep_alive, unload) {
        state.models.keep_alive(&model, secs);
    }
    let Some(call) = call else {
        return load_or_unload(&state, &model, unload).await;
    };
    let stream = call.stream;
    let sent = send(&state, &mut parts, call, api).await;
    if !sent.status().is_success() {
        let status = sent.status();
        let body = axum::body::to_bytes(sent.into_body(), 1 << 20).await.unwrap_or_default();
        return Ok((status, axum::Json(json!({"error": answer::error_message(&body)}))).into_response());
    }
    let kind = if api == Api::Chat { Kind::Chat } else { Kind::Generate };
    // The node that answered stays named on the translated answer.
    let node = sent.headers().get(crate::proxy::NODE_HEADER).cloned();
    let named = |mut response: Response| {
        if let Some(node) = node {
            response.headers_mut().insert(crate::proxy::NODE_HEADER, node);
        }
        response
    };
    if stream {
        let lines = answer::ndjson(sent.into_body().into_data_stream(), model, kind);
        let ndjson = HeaderValue::from_static("application/x-ndjson");
        return Ok(named(([(header::CONTENT_TYPE, ndjson)], Body::from_stream(lines)).into_response()));
    }
    let bytes =
        axum::body::to_bytes(sent.into_body(), usize::MAX).await.map_err(|e| ApiError::Upstream(e.to_string()))?;
    let openai: Value = serde_json::from_slice(&bytes).map_err(|e| ApiError::Upstream(format!("not JSON: {e}")))?;
    let out = match api {
        Api::Embed => answer::embeddings(&openai, &model, false),
        Api::Embeddings => answer::embeddings(&openai, &model, true),
        Api::Chat | Api::Generate => answer::whole(&openai, &model, kind),
    };
    Ok(named(axum::Json(out).into_response()))
}

/// The translated call through the `/v1` proxy, as if the client had sent it there.
async fn send(state: &AppState, parts: &mut axum::http::request::Parts, call: Call, api: Api) -> Response {
    let mut request = Request::new(Body::from(call.body.to_string()));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = axum::http::Uri::from_static(call.path);
    *request.headers_mut() = std::mem::take(&mut parts.headers);
    request.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    request.headers_mut().remove(header::CONTENT_LENGTH);
    *request.extensions_mut() = std::mem::take(&mut parts.extensions);
    request.extensions_mut().insert(Translated(api.path()));
    crate::proxy::forward::handle(State(state.clone()), request).await
}

/// A generate without a prompt: Ollama's way to load a model (and, with `keep_alive` 0, to unload it).
/// Answers once the model is loaded (or unloaded), so that `/api/ps` right after shows it.
async fn load_or_unload(state: &AppState, model: &str, unload: bool) -> Result<Response, ApiError> {
    let found = state.models.find(model).ok_or_else(|| ApiError::NotFound(format!("model '{model}' not found")))?;
    let id = found.id;
    let status = settled(state, &id).await?;
    let reason = if unload {
        if status == ModelStatus::Loaded {
            state.models.unload(&id, "ollama API").await?;
            settled(state, &id).await?;
        }
        "unload"
    } else {
        if status != ModelStatus::Loaded {
            state.models.load(&id, "ollama API").await?;
            match settled(state, &id).await? {
                ModelStatus::Loaded => {}
                _ => {
                    let error = state.models.get(&id).and_then(|m| m.live.error);
                    return Err(ApiError::Backend(error.unwrap_or_else(|| format!("model '{id}' failed to load"))));
                }
            }
        }
        "load"
    };
    Ok(axum::Json(json!({"model": model, "created_at": now(), "response": "", "done": true, "done_reason": reason}))
        .into_response())
}

/// The model's status once it is no longer loading or unloading (within `startup.timeout`, at least 60 s).
async fn settled(state: &AppState, id: &str) -> Result<ModelStatus, ApiError> {
    let limit =
        Duration::from_millis(u64::try_from(state.config().startup.timeout).unwrap_or(0)).max(Duration::from_secs(60));
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let status = state.models.get(id).map_or(ModelStatus::Unloaded, |m| m.live.status);
        if status.settled() {
            return Ok(status);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ApiError::Backend(format!("model '{id}' is still {status:?} after {} s", limit.as_secs())));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
