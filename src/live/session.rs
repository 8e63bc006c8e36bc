//! What a socket is allowed, decided at its handshake and kept in its extensions: the admin token it
//! was admitted under (a socket admitted under a token that later changed is disconnected), and a
//! bound on its requests in flight (a client cannot pile up handler tasks). The handshake's auth
//! payload is measured before it is parsed, and the number of clients is capped.

use crate::app::AppState;
use crate::error::ApiError;
use serde_json::Value;
use socketioxide::adapter::LocalAdapter;
use socketioxide::extract::SocketRef;
use socketioxide::handler::{FromConnectParts, Value as RawValue};
use socketioxide::socket::Socket;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// `auth: {token}` is a few dozen bytes; anything much larger is refused unread.
const MAX_AUTH_BYTES: usize = 4096;
/// Requests one socket may have in flight; more are answered `BUSY` at once.
pub const MAX_IN_FLIGHT: usize = 16;

#[derive(Debug, thiserror::Error)]
#[error("unauthorized: {0}")]
pub struct Refused(pub String);

/// The handshake's auth payload: parsed only when it is small.
pub enum Auth {
    None,
    TooLarge(usize),
    Given(Value),
}

impl FromConnectParts<LocalAdapter> for Auth {
    type Error = Infallible;

    fn from_connect_parts(s: &Arc<Socket<LocalAdapter>>, auth: &Option<RawValue>) -> Result<Self, Infallible> {
        let Some(raw) = auth else { return Ok(Self::None) };
        let size = match raw {
            RawValue::Str(text, binaries) => text.len() + binaries.iter().flatten().map(|b| b.len()).sum::<usize>(),
            RawValue::Bytes(bytes) => bytes.len(),
        };
        if size > MAX_AUTH_BYTES {
            return Ok(Self::TooLarge(size));
        }
        let parsed = socketioxide::extract::TryData::<Value>::from_connect_parts(s, auth)?;
        Ok(parsed.0.map_or(Self::None, Self::Given))
    }
}

/// The admin token in force when the socket was admitted (`None`: none was configured).
#[derive(Clone)]
struct Admitted(Option<String>);

/// The socket's budget of requests in flight.
#[derive(Clone)]
struct InFlight(Arc<Semaphore>);

/// Admits a socket or says why not: too many clients, an oversized payload, a missing or wrong token.
pub fn admit(state: &AppState, socket: &SocketRef, auth: Auth, clients: usize) -> Result<(), Refused> {
    let config = state.config();
    let max = usize::try_from(config.server.max_connections).unwrap_or(usize::MAX);
    if clients >= max {
        return Err(Refused(format!("too many clients ({clients}, server.maxConnections)")));
    }
    let given = match auth {
        Auth::TooLarge(size) => {
            return Err(Refused(format!("auth payload of {size} bytes (at most {MAX_AUTH_BYTES})")));
        }
        Auth::None => None,
        Auth::Given(value) => value.get("token").and_then(Value::as_str).map(str::to_owned),
    };
    let expected = config.security.admin_token.clone();
    if let Some(expected) = &expected {
        match given {
            None => return Err(Refused("admin token required (auth: {token})".into())),
            Some(token) if crate::auth::constant_time_eq(token.as_bytes(), expected.as_bytes()) => {}
            Some(_) => return Err(Refused("wrong admin token".into())),
        }
    }
    socket.extensions.insert(Admitted(expected));
    socket.extensions.insert(InFlight(Arc::new(Semaphore::new(MAX_IN_FLIGHT))));
    Ok(())
}

/// A slot for one more request of this socket, or `BUSY`.
pub fn start_request(socket: &SocketRef) -> Result<OwnedSemaphorePermit, ApiError> {
    let Some(InFlight(slots)) = socket.extensions.get::<InFlight>() else {
        return Err(ApiError::Busy("this connection was not admitted".into()));
    };
    slots.try_acquire_owned().map_err(|_| {
        ApiError::Busy(format!("{MAX_IN_FLIGHT} requests of this connection are still running; wait for their replies"))
    })
}

/// Whether the admin token in force is still the one `socket` was admitted under.
pub fn admitted_under_current_token(state: &AppState, socket: &SocketRef) -> bool {
    admitted_under(socket, &state.config().security.admin_token)
}

fn admitted_under(socket: &SocketRef, token: &Option<String>) -> bool {
    socket.extensions.get::<Admitted>().is_some_and(|Admitted(admitted)| admitted == *token)
}

/// Disconnects every socket admitted under another admin token than the one in force now (changed,
/// added or removed): a credential that was revoked no longer holds a session open.
pub fn drop_stale_sessions(io: &socketioxide::SocketIo, state: &AppState) {
    let Some(namespace) = io.of("/") else { return };
    let current = state.config().security.admin_token.clone();
    let mut dropped = 0;
    for socket in namespace.sockets() {
        let stale = !admitted_under(&socket, &current);
        if stale && socket.disconnect().is_ok() {
            dropped += 1;
        }
    }
    if dropped > 0 {
        tracing::info!(dropped, "the admin token changed: disconnected the clients admitted under the old one");
    }
}
