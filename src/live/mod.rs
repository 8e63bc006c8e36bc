//! Socket.IO on `/llamaproxws`: handshake auth, snapshot on connect, one dispatcher for every event.

mod backend_events;
pub mod envelope;
pub mod handlers;
mod incoming;
mod init_save;
pub mod payload;
mod presets;
mod proxy_events;
mod session;

use crate::app::AppState;
use incoming::Incoming;
use payload::Params;
use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Event, SocketRef, State};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;
use socketioxide::{SendError, SocketError};
use std::sync::Arc;

pub const SOCKET_PATH: &str = "/llamaproxws";

/// The largest message a client may send (a saved init file or presets file fits with room to spare).
const MAX_MESSAGE_BYTES: usize = 2 * 1024 * 1024;
/// A client that joins no namespace within this long is dropped.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// A client that cannot take its owed snapshot for this long is disconnected (it can reconnect).
const MAX_LAG: std::time::Duration = std::time::Duration::from_secs(30);

pub fn layer(state: AppState) -> (SocketIoLayer, SocketIo) {
    let parser =
        socketioxide::ParserConfig::common().max_incoming_binaries(16).max_incoming_binary_buf_size(MAX_MESSAGE_BYTES);
    let (layer, io) = SocketIo::builder()
        .req_path(SOCKET_PATH)
        .max_payload(MAX_MESSAGE_BYTES as u64)
        .ws_max_message_size(MAX_MESSAGE_BYTES)
        .ws_max_frame_size(MAX_MESSAGE_BYTES)
        .connect_timeout(CONNECT_TIMEOUT)
        .with_parser(parser)
        .with_state(state)
        .build_layer();
    io.ns("/", on_connect.with(prepare));
    (layer, io)
}

/// A socket whose send buffer overflowed: it missed broadcasts and is owed a fresh snapshot. The
/// snapshot is built once, on the next broadcast, and retried as it is until delivered; broadcasts to
/// the socket are skipped meanwhile, so a client that stopped reading costs one snapshot, not one per
/// broadcast.
#[derive(Clone)]
struct Lagging {
    since: std::time::Instant,
    snapshot: Option<Arc<Value>>,
}

/// Connected clients; zero once shutdown has closed the namespace.
pub fn client_count(state: &AppState) -> usize {
    state.io.get().and_then(|io| io.of("/")).map_or(0, |ns| ns.sockets().len())
}

/// Emits a broadcast envelope to every connected client, the sender of a request included.
/// A client whose buffer was full gets a fresh `snapshot` before its next broadcast instead of a silent gap.
pub async fn broadcast(state: &AppState, event: &str, data: Value) {
    let Some(namespace) = state.io.get().and_then(|io| io.of("/")) else { return };
    let message = envelope::broadcast(event, data);
    let mut fresh: Option<Arc<Value>> = None;
    for socket in namespace.sockets() {
        if let Some(lag) = socket.extensions.get::<Lagging>()
            && !catch_up(state, &socket, lag, &mut fresh).await
        {
            continue;
        }
        if let Err(SendError::Socket(SocketError::InternalChannelFull)) = socket.emit(event, &message) {
            tracing::debug!(event, socket = %socket.id, "client fell behind; it will get a fresh snapshot");
            socket.extensions.insert(Lagging { since: std::time::Instant::now(), snapshot: None });
        }
    }
}

/// Tries to hand a lagging socket its snapshot (built at most once for it); true once it has it.
async fn catch_up(state: &AppState, socket: &SocketRef, lag: Lagging, fresh: &mut Option<Arc<Value>>) -> bool {
    let snapshot = match lag.snapshot {
        Some(snapshot) => snapshot,
        None => match fresh {
            Some(built) => built.clone(),
            None => fresh.insert(Arc::new(snapshot_message(state).await)).clone(),
        },
    };
    if socket.emit("snapshot", &*snapshot).is_ok() {
        socket.extensions.remove::<Lagging>();
        return true;
    }
    if lag.since.elapsed() > MAX_LAG {
        tracing::info!(socket = %socket.id, "client stopped reading; disconnecting it");
        let _ = socket.clone().disconnect();
    } else {
        socket.extensions.insert(Lagging { since: lag.since, snapshot: Some(snapshot) });
    }
    false
}

async fn snapshot_message(state: &AppState) -> Value {
    let data = match handlers::snapshot(state).await {
        Ok(data) => data,
        Err(err) => json!({"error": err.to_socket()}),
    };
    envelope::broadcast("snapshot", data)
}

/// Runs before the socket joins: admits it (client cap, auth size, admin token), prepares the snapshot
/// and registers the event handler. socketioxide tells the client it is connected before it runs the
/// connect handler (in a spawned task), so a handler registered there could miss a client's very first
/// request.
async fn prepare(
    socket: SocketRef,
    State(state): State<AppState>,
    auth: session::Auth,
) -> Result<(), session::Refused> {
    session::admit(&state, &socket, auth, client_count(&state))?;
    socket.extensions.insert(PendingSnapshot(snapshot_message(&state).await));
    socket.on_fallback(on_event);
    Ok(())
}

#[derive(Clone)]
struct PendingSnapshot(Value);

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
    let in_flight = session::start_request(&socket);
    let result = match (params, &in_flight) {
        _ if !handlers::EVENTS.contains(&event.as_str()) => Err(crate::error::ApiError::UnknownEvent(event.clone())),
        (_, Err(busy)) => Err(busy.clone()),
        (Ok(p), Ok(_)) => handlers::handle(&state, &event, &p).await,
        (Err(err), Ok(_)) => Err(err),
    };
    drop(in_flight);
    let reply = envelope::response(&event, &result, request_id.as_ref());
    send_pending_snapshot(&socket);
    let sent = if incoming.wants_ack { ack.send(&reply) } else { socket.emit(format!("{event}:result"), &reply) };
    if let Err(err) = sent {
        tracing::debug!(event, error = %err, "reply not delivered");
    }
    // After the reply, so that a client that changed the token hears the outcome before it is let go.
    if !session::admitted_under_current_token(&state, &socket) {
        session::drop_stale_sessions(&state);
    }
}

/// After an HTTP endpoint that may have read the init file again (`/admin/rescan`).
pub fn drop_stale_sessions(state: &AppState) {
    session::drop_stale_sessions(state);
}
