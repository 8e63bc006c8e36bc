//! `/v1` requests served by nodes: `node/model` (that node only) and plain ids that nodes serve (the
//! places in order, each tried until one answers). Each attempt goes through this server's queue and
//! telemetry like any request, then to the node with its key and the model's own id, and the answer
//! streams back with `X-Llama-Dashboard-Node` naming the node. A node that refuses the connection, stops
//! answering (it is found down while we wait) or answers 5xx has sent nothing to the client yet: it is
//! taken out of rotation and the next place is tried. Once an answer started, it is never sent again.

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

/// Where nodes come before this server: `node/model` always; a plain id not loaded here, when nodes serve
/// it (only nodes that have it loaded when this server has it too: a load here beats a load there).
/// `None`: this server answers (no node involved, or every node failed and the model is here too).
pub async fn before_local(
    state: &AppState,
    parts: &Parts,
    body: &Bytes,
    exchange: &mut Exchange,
    model: &str,
) -> Option<Result<Response, ApiError>> {
    if let Some(route) = state.nodes.pinned_route(model) {
        return Some(match route {
            Ok(route) => forward(state, parts, body.clone(), exchange, route).await,
            Err(err) => Err(err.into()),
        });
    }
    // Only with nodes configured: the lookup is not free, and this is every request's path.
    if state.config().nodes.is_empty() {
        return None;
    }
    let here = state.models.find(model);
    if here.as_ref().is_some_and(|m| m.live.status == crate::models::ModelStatus::Loaded) {
        return None;
    }
    let places = node_places(state, model, here.is_some());
    if places.is_empty() {
        return None;
    }
    match forward_any(state, parts, body, exchange, places).await {
        Ok(response) => Some(Ok(response)),
        Err(_) if here.is_some() => {
            exchange.row.model = Some(model.to_string());
            None
        }
        Err(failures) => Some(Err(ApiError::Upstream(format!(
            "every node serving '{model}' failed before answering: {}",
            failures.join("; ")
        )))),
    }
}

/// The nodes that serve `model`, in the order to try them (see [`crate::nodes::Nodes::candidates`]).
fn node_places(state: &AppState, model: &str, here: bool) -> Vec<NodeRoute> {
    let busy = |id: &str| {
        let (running, queued) = state.activity.load_of(id);
        running + queued
    };
    let candidates = state.nodes.candidates(model, busy).into_iter();
    candidates.filter(|(_, loaded)| *loaded || !here).map(|(route, _)| route).collect()
}

/// `node/model`: that node, once.
async fn forward(
    state: &AppState,
    parts: &Parts,
    body: Bytes,
    exchange: &mut Exchange,
    route: NodeRoute,
) -> Result<Response, ApiError> {
    let node = route.node.clone();
    attempt(state, parts, &body, exchange, route).await.map_err(|why| {
        state.nodes.mark_failed(&node, &why);
        ApiError::Upstream(format!("node '{node}' did not answer: {why}"))
    })
}

/// A plain id on the nodes that serve it, in order; `Err` lists why each failed.
async fn forward_any(
    state: &AppState,
    parts: &Parts,
    body: &Bytes,
    exchange: &mut Exchange,
    places: Vec<NodeRoute>,
) -> Result<Response, Vec<String>> {
    let mut failures = Vec::new();
    for route in places {
        let node = route.node.clone();
        match attempt(state, parts, body, exchange, route).await {
            Ok(response) => return Ok(response),
            Err(why) => {
                tracing::info!(node = %node, "trying the next place: node {node} failed before answering: {why}");
                state.nodes.mark_failed(&node, &why);
                failures.push(format!("{node}: {why}"));
            }
        }
    }
    Err(failures)
}

/// One try on one node; `Err` says why it may be tried elsewhere (nothing reached the client).
async fn attempt(
    state: &AppState,
    parts: &Parts,
    body: &Bytes,
    exchange: &mut Exchange,
    route: NodeRoute,
) -> Result<Response, String> {
    let name = format!("{}/{}", route.node, route.model);
    exchange.row.model = Some(name.clone());
    exchange.row.resolved = true;
    exchange.queued();
    let admitted = state.activity.admit(&name, &super::forward::queue_limits(&state.config())).await;
    exchange.dequeued();
    let admission = admitted.map_err(|e| e.to_string())?;
    let body = crate::nodes::with_model(body, &route.model).map_or_else(|| body.clone(), Bytes::from);
    let outgoing = Outgoing { parts, body };
    let answer = tokio::select! {
        sent = outgoing.send(Via::Reqwest(state.nodes.client()), &route.upstream) => sent.map_err(|e| e.message)?,
        () = state.nodes.gone(&route.node) => return Err("it stopped answering".into()),
    };
    if answer.status.is_server_error() {
        return Err(format!("it answered {}", answer.status));
    }
    let mut response = super::forward::respond(answer, parts.uri.path(), exchange, Held::new(admission, None))
        .map_err(|e| e.to_string())?;
    if let Ok(value) = HeaderValue::from_str(&route.node) {
        response.headers_mut().insert(NODE_HEADER, value);
    }
    Ok(response)
}
