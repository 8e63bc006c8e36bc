//! `/v1/*` except the model list: authenticate, read the body, resolve the model, wait for a slot,
//! forward the bytes untouched and stream the answer back as it comes.

use super::headers;
use super::incoming::{self, Incoming};
use super::send::{Answer, Failed, Outgoing, Via};
use super::tap::{Held, Tap};
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
    let endpoint = match request.extensions().get::<Translated>() {
        Some(Translated(from)) => *from,
        None => request.uri().path(),
    };
    let mut exchange = Exchange::start(state.proxy.recorder.clone(), endpoint, client);
    // Anthropic's SDKs read errors in Anthropic's shape; llama-server answers that API in it too.
    let anthropic = request.uri().path().starts_with("/v1/messages");
    match forward(&state, request, &mut exchange).await {
        Ok(response) => response,
        Err(err) => {
            exchange.failed(&err);
            if anthropic { err.into_anthropic_response() } else { err.into_response() }
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
    let Incoming { model, stream, ttl, body } = incoming::read(&parts.uri, &parts.headers, body, &limits).await?;
    exchange.row.model = Some(model.clone());
    exchange.row.stream = stream;
    if let Some(answered) = super::remote::before_local(state, &parts, &body, exchange, &model).await {
        return answered;
    }
    let Route { model, upstream, claim, mut lease, direct } = state.models.resolve(&model, parts.uri.path()).await?;
    let own_backend = claim.is_some();
    exchange.row.model = Some(model.clone());
    exchange.row.resolved = true;
    if let Some(secs) = ttl {
        state.models.keep_alive(&model, secs);
    }
    let limits = queue_limits(&config);
    exchange.queued();
    let admitted = state.activity.admit(&model, &limits).await;
    drop(claim);
    exchange.dequeued();
    let admission = admitted?;
    let backend_client = own_backend.then(|| state.proxy.backend_client(&config.backends));
    let pooled = match &backend_client {
        Some(client) => Via::Reqwest(client),
        None => Via::Hyper(&state.proxy.hyper),
    };
    let outgoing = Outgoing { parts: &parts, body };
    let mut sent = outgoing.send(pooled, &upstream).await;
    let mut failed = upstream;
    let fresh = Via::Hyper(&state.proxy.unpooled);
    // Sent straight to the model's process, which went away (unloaded, crashed, the router restarted)
    // before answering: once more, through the router, which knows where the model is now.
    if let Some(port) = direct
        && went_away(&sent)
    {
        tracing::debug!(model = %model, port, "the model's process did not answer; resending through the router");
        state.models.child_gone(&model, port);
        let again = state.models.resolve(&model, parts.uri.path()).await?;
        sent = outgoing.send(fresh, &again.upstream).await;
        failed = again.upstream;
        lease = again.lease;
    }
    // The router went away under this request (a crash: a restart someone asked for waits for its lease):
    // its old connection is gone, or the new process refused the old key, and nothing reached the client
    // yet, so it is sent again, on a fresh connection, to the router running after the restart (a few
    // times: crashes can come back to back).
    for _ in 0..RESENDS {
        if own_backend || !went_away(&sent) {
            break;
        }
        tracing::debug!(model = %model, "resending to the restarted router");
        let again = state.models.resolve_after(&model, parts.uri.path(), &failed).await?;
        sent = outgoing.send(fresh, &again.upstream).await;
        failed = again.upstream;
        lease = again.lease;
    }
    let upstream = sent.map_err(|e| ApiError::Upstream(format!("model '{model}' did not answer: {}", e.message)))?;
    respond(upstream, parts.uri.path(), exchange, Held::new(admission, lease))
}

/// Each model's slots and queue: `performance.parallelSlots` at once, `proxy.queueSize` more waiting at most
/// `proxy.queueTimeoutMs`.
pub(super) fn queue_limits(config: &crate::config::Config) -> Limits {
    Limits {
        slots: config.performance.parallel_slots.max(1) as usize,
        queue_size: config.proxy.queue_size.max(0) as usize,
        queue_timeout: Duration::from_millis(config.proxy.queue_timeout_ms.max(0) as u64),
    }
}

/// The upstream's answer streamed back to the client, recorded as it passes.
pub(super) fn respond(upstream: Answer, path: &str, exchange: &mut Exchange, held: Held) -> Result<Response, ApiError> {
    exchange.row.status_code = upstream.status.as_u16();
    let sse = upstream
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    exchange.row.stream = sse;
    let mut response = Response::builder().status(upstream.status);
    if let Some(h) = response.headers_mut() {
        *h = headers::to_client(&upstream.headers);
    }
    let tap = Tap::new((upstream.body, upstream.length, path), exchange.hand_off(), sse, held);
    response.body(Body::from_stream(tap)).map_err(|e| ApiError::Internal(e.to_string()))
}

/// On a request another API translated into a `/v1` one: the path the client called (`/api/chat`), which
/// the request's record keeps as its endpoint.
#[derive(Clone, Copy)]
pub struct Translated(pub &'static str);

/// How many times a request is sent again to a router that went away under it.
const RESENDS: usize = 3;

/// The process the request was sent to is gone: no connection, or one that closed before an answer began
/// (a pooled connection to a process that has since exited), or a 401 from a new process that has another
/// key. Never a timeout: a slow model must not get the request twice.
fn went_away(sent: &Result<Answer, Failed>) -> bool {
    match sent {
        Ok(answer) => answer.status == axum::http::StatusCode::UNAUTHORIZED,
        Err(failed) => failed.gone,
    }
}
