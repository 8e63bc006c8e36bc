//! `/v1` requests for `node/model`: through this server's API keys, queue and telemetry like any other,
//! then to the node with its key and the model's own id, the answer streamed back with
//! `X-Llama-Dashboard-Node` naming the node that answered.

use super::send::{Outgoing, Via};
use super::tap::Held;
use super::telemetry::Exchange;
use crate::app::AppState;
use crate::error::ApiError;
use crate::nodes::NodeRoute;
use axum::body::Bytes;
use axum::http::HeaderValue;
use axum::http::request::Parts;
use axum::response::Response;

/// The response header that names the node that answered.
pub const NODE_HEADER: &str = "x-llama-dashboard-node";

pub async fn forward(
    state: &AppState,
    parts: &Parts,
    body: Bytes,
    exchange: &mut Exchange,
    route: NodeRoute,
) -> Result<Response, ApiError> {
    let name = format!("{}/{}", route.node, route.model);
    exchange.row.resolved = true;
    let limits = super::forward::queue_limits(&state.config());
    exchange.queued();
    let admitted = state.activity.admit(&name, &limits).await;
    exchange.dequeued();
    let admission = admitted?;
    let body = crate::nodes::with_model(&body, &route.model).map_or(body, Bytes::from);
    let sent = Outgoing { parts, body }.send(Via::Reqwest(state.nodes.client()), &route.upstream).await;
    let answer =
        sent.map_err(|e| ApiError::Upstream(format!("node '{}' did not answer: {}", route.node, e.message)))?;
    let mut response = super::forward::respond(answer, parts.uri.path(), exchange, Held::new(admission, None))?;
    if let Ok(value) = HeaderValue::from_str(&route.node) {
        response.headers_mut().insert(NODE_HEADER, value);
    }
    Ok(response)
}
