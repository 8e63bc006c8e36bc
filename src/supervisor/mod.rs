//! The native llama-server router: one actor owns its process (spawned with [`crate::process`]).

mod drain;
mod router;
mod status;
mod wait;

pub use drain::{DRAIN_LIMIT, RouterLease};
pub use router::{RouterHandle, SupervisorError, resolve_binary, spawn};
pub use status::{RouterState, RouterStatus, router_status_json};
pub use wait::Leased;
