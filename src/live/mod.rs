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
use std::time::Instant;

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

/// A socket whose send buffer overflowed: it missed broadcasts and is owed a snapshot; broadcasts to it
/// are skipped until one is delivered. The snapshot is built for each broadcast while a socket lags (once,
/// shared by every lagging socket) and handed over only if it was begun after the socket's last skipped
/// broadcast: one begun earlier could miss what that broadcast changed.
#[derive(Clone)]
struct Lagging {
    since: Instant,
    last_skip: Instant,
}

/// Deliveries run one at a time (each a loop of sends that never wait), so that a lagging socket gets
/// exactly one snapshot however many broadcasts race, and every client gets broadcasts in the same order.
static DELIVERY: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Connected clients; zero once shutdown has closed the namespace.
pub fn client_count(state: &AppState) -> usize {
    state.io.get().and_then(|io| io.of("/")).map_or(0, |ns| ns.sockets().len())
}

/// Emits a broadcast envelope to every connected client, the sender of a request included.
/// A client whose buffer was full gets a fresh `snapshot` before its next broadcast instead of a silent gap.
pub async fn broadcast(state: &AppState, event: &str, data: Value) {
    let sockets = || state.io.get().and_then(|io| io.of("/")).map(|namespace| namespace.sockets());
    let Some(before) = sockets() else { return };
    let message = envelope::broadcast(event, data);
    let begun = Instant::now();
    let lagging = before.iter().any(|socket| socket.extensions.get::<Lagging>().is_some());
    let snapshot = if lagging { Some(snapshot_message(state).await) } else { None };
    let fresh = snapshot.as_ref().map(|snapshot| (begun, snapshot));
    let stalled: Vec<SocketRef> = {
        let _turn = DELIVERY.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = sockets().unwrap_or_default();
        now.into_iter().filter(|socket| !deliver(socket, event, &message, fresh)).collect()
    };
    for socket in stalled {
        tracing::info!(socket = %socket.id, "client stopped reading; disconnecting it");
        let _ = socket.disconnect();
    }
}

/// Sends `message` to one socket, a lagging one its snapshot first (or neither while it cannot take one);
/// false once it has lagged for longer than MAX_LAG.
fn deliver(socket: &SocketRef, event: &str, message: &Value, fresh: Option<(Instant, &Value)>) -> bool {
    if let Some(lag) = socket.extensions.get::<Lagging>() {
        let caught_up =
            fresh.is_some_and(|(begun, snapshot)| begun >= lag.last_skip && socket.emit("snapshot", snapshot).is_ok());
        if !caught_up {
            socket.extensions.insert(Lagging { last_skip: Instant::now(), ..lag });
            return lag.since.elapsed() <= MAX_LAG;
        }
        socket.extensions.remove::<Lagging>();
    }
    if let Err(SendError::Socket(SocketError::InternalChannelFull)) = socket.emit(event, message) {
        tracing::debug!(event, socket = %socket.id, "client fell behind; it will get a fresh snapshot");
        let now = Instant::now();
        socket.extensions.insert(Lagging { since: now, last_skip: now });
    }
    true
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
