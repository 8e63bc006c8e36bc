//! The only emitter: turns what is published on the bus into Socket.IO broadcasts to every client.
//!
//! Lag, twice over: a client whose send buffer overflowed missed broadcasts and is owed a snapshot
//! (broadcasts to it are skipped until one is delivered); and when this bridge itself falls behind the
//! bus, every client gets one fresh snapshot instead of the events it missed.

use super::envelope;
use super::handlers;
use crate::app::AppState;
use crate::core::bus::Published;
use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::extract::SocketRef;
use socketioxide::{SendError, SocketError};
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

/// A client that cannot take its owed snapshot for this long is disconnected (it can reconnect).
const MAX_LAG: Duration = Duration::from_secs(30);

/// A socket that missed broadcasts. The snapshot is built for each broadcast while a socket lags (once,
/// shared by every lagging socket) and handed over only if it was begun after the socket's last skipped
/// broadcast: one begun earlier could miss what that broadcast changed.
#[derive(Clone)]
struct Lagging {
    since: Instant,
    last_skip: Instant,
}

pub async fn run(io: SocketIo, state: AppState, cancel: CancellationToken) {
    let mut events = state.bus.subscribe();
    let mut rechecks = state.bus.session_rechecks();
    loop {
        tokio::select! {
            got = events.recv() => match got {
                Ok(Published { seq, event }) => {
                    broadcast(&io, &state, event.name(), event.data()).await;
                    state.bus.mark_delivered(seq);
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "the dashboard bridge fell behind; sending every client a fresh snapshot");
                    let snapshot = snapshot_message(&state).await;
                    for socket in sockets(&io) {
                        let _ = socket.emit("snapshot", &snapshot);
                    }
                }
                Err(RecvError::Closed) => return,
            },
            changed = rechecks.changed() => if changed.is_ok() { super::session::drop_stale_sessions(&io, &state) },
            _ = cancel.cancelled() => return,
        }
    }
}

fn sockets(io: &SocketIo) -> Vec<SocketRef> {
    io.of("/").map(|namespace| namespace.sockets()).unwrap_or_default()
}

/// Emits one broadcast envelope to every connected client; a lagging one gets its snapshot first.
async fn broadcast(io: &SocketIo, state: &AppState, event: &str, data: &Value) {
    let message = envelope::broadcast(event, data.clone());
    let begun = Instant::now();
    let lagging = sockets(io).iter().any(|socket| socket.extensions.get::<Lagging>().is_some());
    let snapshot = if lagging { Some(snapshot_message(state).await) } else { None };
    let fresh = snapshot.as_ref().map(|snapshot| (begun, snapshot));
    let stalled: Vec<SocketRef> =
        sockets(io).into_iter().filter(|socket| !deliver(socket, event, &message, fresh)).collect();
    for socket in stalled {
        tracing::info!(socket = %socket.id, "client stopped reading; disconnecting it");
        let _ = socket.disconnect();
    }
}

/// What a broadcast does for one socket.
#[derive(Debug, PartialEq)]
enum Step {
    Send,
    /// The owed snapshot, then the broadcast.
    CatchUp,
    /// Neither (no snapshot fresh enough): the broadcast is counted as skipped.
    Skip,
    /// Lagged past MAX_LAG without catching up.
    Disconnect,
}

/// `fresh`: when the snapshot on offer was begun, if there is one.
fn step(lag: Option<&Lagging>, fresh: Option<Instant>, now: Instant) -> Step {
    let Some(lag) = lag else { return Step::Send };
    if fresh.is_some_and(|begun| begun >= lag.last_skip) {
        return Step::CatchUp;
    }
    if now.saturating_duration_since(lag.since) > MAX_LAG { Step::Disconnect } else { Step::Skip }
}

/// Sends `message` to one socket as [`step`] decides; false when the socket must be let go.
fn deliver(socket: &SocketRef, event: &str, message: &Value, fresh: Option<(Instant, &Value)>) -> bool {
    let lag = socket.extensions.get::<Lagging>();
    match step(lag.as_ref(), fresh.map(|(begun, _)| begun), Instant::now()) {
        Step::Send => {}
        Step::CatchUp => match fresh.map(|(_, snapshot)| socket.emit("snapshot", snapshot)) {
            Some(Ok(())) => {
                socket.extensions.remove::<Lagging>();
            }
            _ => return skip(socket, lag),
        },
        Step::Skip => return skip(socket, lag),
        Step::Disconnect => return false,
    }
    if let Err(SendError::Socket(SocketError::InternalChannelFull)) = socket.emit(event, message) {
        tracing::debug!(event, socket = %socket.id, "client fell behind; it will get a fresh snapshot");
        let now = Instant::now();
        socket.extensions.insert(Lagging { since: now, last_skip: now });
    }
    true
}

fn skip(socket: &SocketRef, lag: Option<Lagging>) -> bool {
    let now = Instant::now();
    let lag = lag.unwrap_or(Lagging { since: now, last_skip: now });
    socket.extensions.insert(Lagging { last_skip: now, ..lag.clone() });
    now.saturating_duration_since(lag.since) <= MAX_LAG
}

pub async fn snapshot_message(state: &AppState) -> Value {
    let data = match handlers::snapshot(state).await {
        Ok(data) => data,
        Err(err) => json!({"error": err.to_socket()}),
    };
    envelope::broadcast("snapshot", data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_that_keeps_up_just_gets_the_broadcast() {
        assert_eq!(step(None, None, Instant::now()), Step::Send);
        assert_eq!(step(None, Some(Instant::now()), Instant::now()), Step::Send);
    }

    #[test]
    fn a_lagging_socket_catches_up_only_with_a_snapshot_begun_after_its_last_skip() {
        let t0 = Instant::now();
        let lag = Lagging { since: t0, last_skip: t0 + Duration::from_millis(10) };
        let now = t0 + Duration::from_millis(20);
        assert_eq!(step(Some(&lag), None, now), Step::Skip, "no snapshot on offer");
        assert_eq!(step(Some(&lag), Some(t0 + Duration::from_millis(5)), now), Step::Skip, "begun before the skip");
        assert_eq!(step(Some(&lag), Some(t0 + Duration::from_millis(10)), now), Step::CatchUp);
    }

    #[test]
    fn a_socket_lagging_past_the_limit_is_let_go() {
        let t0 = Instant::now();
        let lag = Lagging { since: t0, last_skip: t0 };
        assert_eq!(step(Some(&lag), None, t0 + MAX_LAG), Step::Skip);
        assert_eq!(step(Some(&lag), None, t0 + MAX_LAG + Duration::from_millis(1)), Step::Disconnect);
        assert_eq!(step(Some(&lag), Some(t0), t0 + MAX_LAG * 2), Step::CatchUp, "a fresh snapshot still saves it");
    }
}
