//! Socket.IO on `/llamaproxws`: handshake auth, snapshot on connect, one dispatcher for every event.

mod backend_events;
pub mod envelope;
pub mod handlers;
mod incoming;
mod init_save;
pub mod payload;
mod presets;
mod proxy_events;

use crate::app::AppState;
use incoming::Incoming;
use payload::Params;
use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Event, SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;
use socketioxide::{SendError, SocketError};

pub const SOCKET_PATH: &str = "/llamaproxws";

pub fn layer(state: AppState) -> (SocketIoLayer, SocketIo) {
    let (layer, io) = SocketIo::builder().req_path(SOCKET_PATH).with_state(state).build_layer();
    io.ns("/", on_connect.with(prepare));
    (layer, io)
}

/// Marks a socket whose send buffer overflowed: it missed broadcasts and is owed a fresh snapshot.
#[derive(Clone)]
struct Lagging;

/// Connected clients; zero once shutdown has closed the namespace.
pub fn client_count(state: &AppState) -> usize {
    state.io.get().and_then(|io| io.of("/")).map_or(0, |ns| ns.sockets().len())
}

/// Emits a broadcast envelope to every connected client, the sender of a request included.
/// A client whose buffer was full gets a fresh `snapshot` before its next broadcast instead of a silent gap.
pub async fn broadcast(state: &AppState, event: &str, data: Value) {
    let Some(namespace) = state.io.get().and_then(|io| io.of("/")) else { return };
    let message = envelope::broadcast(event, data);
    let mut snapshot: Option<Value> = None;
    for socket in namespace.sockets() {
        if socket.extensions.get::<Lagging>().is_some() {
            if snapshot.is_none() {
                snapshot = Some(snapshot_message(state).await);
            }
            if socket.emit("snapshot", &snapshot).is_err() {
                continue;
            }
            socket.extensions.remove::<Lagging>();
        }
        if let Err(SendError::Socket(SocketError::InternalChannelFull)) = socket.emit(event, &message) {
            tracing::debug!(event, socket = %socket.id, "client fell behind; it will get a fresh snapshot");
            socket.extensions.insert(Lagging);
        }
    }
}

async fn snapshot_message(state: &AppState) -> Value {
    let data = match handlers::snapshot(state).await {
        Ok(data) => data,
        Err(err) => json!({"error": err.to_socket()}),
    };
    envelope::broadcast("snapshot", data)
}

#[derive(Debug, thiserror::Error)]
#[error("unauthorized: {0}")]
struct AuthError(&'static str);

/// Runs before the socket joins: checks the admin token, prepares the snapshot and registers the
/// event handler. socketioxide tells the client it is connected before it runs the connect handler
/// (in a spawned task), so a handler registered there could miss a client's very first request.
async fn prepare(
    socket: SocketRef,
    State(state): State<AppState>,
    TryData(auth): TryData<Value>,
) -> Result<(), AuthError> {
    authorize(&state, auth.ok())?;
    socket.extensions.insert(PendingSnapshot(snapshot_message(&state).await));
    socket.on_fallback(on_event);
    Ok(())
}

#[derive(Clone)]
struct PendingSnapshot(Value);

/// With `security.adminToken` set, the handshake must carry `auth: {token}` equal to it.
fn authorize(state: &AppState, auth: Option<Value>) -> Result<(), AuthError> {
    let config = state.config();
    let Some(expected) = config.security.admin_token.as_deref() else { return Ok(()) };
    let given = auth.and_then(|a| a.get("token").and_then(Value::as_str).map(str::to_owned));
    match given {
        None => Err(AuthError("admin token required (auth: {token})")),
        Some(token) if crate::auth::constant_time_eq(token.as_bytes(), expected.as_bytes()) => Ok(()),
        Some(_) => Err(AuthError("wrong admin token")),
    }
}

async fn on_connect(socket: SocketRef) {
    send_pending_snapshot(&socket);
}

/// The snapshot is the first message a client gets: whichever of the connect handler and the first
/// request runs first sends it, exactly once.
fn send_pending_snapshot(socket: &SocketRef) {
    if let Some(PendingSnapshot(snapshot)) = socket.extensions.remove::<PendingSnapshot>()
        && let Err(err) = socket.emit("snapshot", &snapshot)
    {
        tracing::debug!(error = %err, "snapshot not delivered");
    }
}

/// Every event lands here: answer through the ack when the client asked for one, else as `<event>:result`.
async fn on_event(
    socket: SocketRef,
    Event(event): Event,
    incoming: Incoming,
    ack: AckSender,
    State(state): State<AppState>,
) {
    let params = Params::from_payload(incoming.payload);
    let request_id = params.as_ref().ok().and_then(|p| p.request_id().cloned());
    let result = match params {
        _ if !handlers::EVENTS.contains(&event.as_str()) => Err(crate::error::ApiError::UnknownEvent(event.clone())),
        Ok(p) => handlers::handle(&state, &event, &p).await,
        Err(err) => Err(err),
    };
    let reply = envelope::response(&event, &result, request_id.as_ref());
    send_pending_snapshot(&socket);
    let sent = if incoming.wants_ack { ack.send(&reply) } else { socket.emit(format!("{event}:result"), &reply) };
    if let Err(err) = sent {
        tracing::debug!(event, error = %err, "reply not delivered");
    }
}
