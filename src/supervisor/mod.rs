//! The native llama-server router: one actor owns its process (spawned with [`crate::process`]).

mod router;
mod status;
mod wait;

pub use router::{RouterHandle, SupervisorError, resolve_binary, spawn};
pub use status::{RouterState, RouterStatus, router_status_json};
