//! `/v1/*` except the model list: authenticate, read the body, resolve the model, wait for a slot,
//! forward the bytes untouched and stream the answer back as it comes.

use super::headers;
use super::incoming::{self, Incoming};
use super::tap::{Tap, error_chain};
use super::telemetry::Exchange;
use crate::app::AppState;
use crate::core::activity::Limits;
use crate::error::ApiError;
use crate::models::Route;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::time::Duration;

pub async fn handle(State(state): State<AppState>, request: Request) -> Response {
    let client = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    let mut exchange = Exchange::start(state.proxy.recorder.clone(), request.uri().path(), client);
    match forward(&state, request, &mut exchange).await {
        Ok(response) => response,
        Err(err) => {
            exchange.failed(&err);
            err.into_response()
        }
    }
}

async fn forward(state: &AppState, request: Request, exchange: &mut Exchange) -> Result<Response, ApiError> {
    let config = state.config();
    super::auth::check(&config, request.headers())?;
    incoming::check_path(request.uri().path())?;
    let (parts, body) = request.into_parts();
    let limits = incoming::BodyLimits {
        max_bytes: usize::try_from(config.proxy.max_body_bytes).unwrap_or(usize::MAX),
        deadline: Duration::from_millis(u64::try_from(config.proxy.body_timeout_ms).unwrap_or(0)),
    };
    let Incoming { model, stream, body } = incoming::read(&parts.uri, &parts.headers, body, &limits).await?;
    exchange.row.model = Some(model.clone());
    exchange.row.stream = stream;
    let Route { model, upstream, claim } = state.models.resolve(&model, parts.uri.path()).await?;
    let own_backend = claim.is_some();
    exchange.row.model = Some(model.clone());
    exchange.row.resolved = true;
    let limits = Limits {
        slots: config.performance.parallel_slots.max(1) as usize,
        queue_size: config.proxy.queue_size.max(0) as usize,
        queue_timeout: Duration::from_millis(config.proxy.queue_timeout_ms.max(0) as u64),
    };
    exchange.queued();
    let admitted = state.activity.admit(&model, &limits).await;
    drop(claim);
    exchange.dequeued();
    let admission = admitted?;
    let path = parts.uri.path_and_query().map_or(parts.uri.path(), |p| p.as_str());
    let client = if own_backend { state.proxy.backend_client(&config.backends) } else { state.proxy.client.clone() };
    let upstream = upstream
        .request(&client, parts.method, path)
        .headers(headers::to_upstream(&parts.headers))
        .body(body)
        .send()
        .await
        .map_err(|e| ApiError::Upstream(format!("model '{model}' did not answer: {}", error_chain(&e))))?;
    exchange.row.status_code = upstream.status().as_u16();
    let sse = upstream
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    exchange.row.stream = sse;
    let mut response = Response::builder().status(upstream.status());
    if let Some(h) = response.headers_mut() {
        *h = headers::to_client(upstream.headers());
    }
    let length = upstream.content_length();
    let tap = Tap::new(Box::pin(upstream.bytes_stream()), exchange.hand_off(), sse, length, admission);
    response.body(Body::from_stream(tap)).map_err(|e| ApiError::Internal(e.to_string()))
}
