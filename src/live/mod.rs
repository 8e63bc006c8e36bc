//! Socket.IO on `/llamaproxws`: handshake auth, snapshot on connect, one dispatcher for every event.
//! Broadcasts leave only through [`bridge`], which turns what the services publish on the bus into
//! messages; a request's reply waits until the broadcasts it caused were handed out, so a client sees
//! those before the reply.

mod backend_events;
pub mod bridge;
pub mod envelope;
pub mod handlers;
mod incoming;
mod init_save;
mod node_events;
pub mod payload;
mod plan_events;
mod presets;
mod proxy_events;
mod pull_events;
mod session;

use crate::app::AppState;
use incoming::Incoming;
use payload::Params;
use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Event, SocketRef, State};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;

pub const SOCKET_PATH: &str = "/llamaproxws";

/// The largest message a client may send (a saved init file or presets file fits with room to spare).
const MAX_MESSAGE_BYTES: usize = 2 * 1024 * 1024;
/// A client that joins no namespace within this long is dropped.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// How long a reply waits for the broadcasts its request caused.
const BROADCASTS_FIRST: std::time::Duration = std::time::Duration::from_secs(2);

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

/// Runs before the socket joins: admits it (client cap, auth size, admin token), prepares the snapshot
/// and registers the event handler. socketioxide tells the client it is connected before it runs the
/// connect handler (in a spawned task), so a handler registered there could miss a client's very first
/// request.
async fn prepare(
    socket: SocketRef,
    io: SocketIo,
    State(state): State<AppState>,
    auth: session::Auth,
) -> Result<(), session::Refused> {
    session::admit(&state, &socket, auth, client_count(&io))?;
    socket.extensions.insert(PendingSnapshot(bridge::snapshot_message(&state).await));
    socket.on_fallback(on_event);
    let bus = state.bus.clone();
    socket.on_disconnect(move || {
        let bus = bus.clone();
        async move { bus.left() }
    });
    state.bus.joined();
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
    state.bus.delivered(BROADCASTS_FIRST).await;
    let reply = envelope::response(&event, result, request_id.as_ref());
    send_pending_snapshot(&socket);
    let sent = if incoming.wants_ack { ack.send(&reply) } else { socket.emit(format!("{event}:result"), &reply) };
    if let Err(err) = sent {
        tracing::debug!(event, error = %err, "reply not delivered");
    }
    // After the reply, so that a client that changed the token hears the outcome before it is let go.
    if !session::admitted_under_current_token(&state, &socket) {
        state.bus.recheck_sessions();
    }
}

/// Connected clients.
fn client_count(io: &SocketIo) -> usize {
    io.of("/").map_or(0, |ns| ns.sockets().len())
}
