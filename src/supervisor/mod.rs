//! The native llama-server router: one actor owns its process (spawned with [`crate::process`]).

pub mod model_ports;
mod router;
mod status;
mod upstream;

pub use router::{RouterHandle, SupervisorError, resolve_binary, spawn};
pub use status::{RouterState, RouterStatus, router_status_json};
pub use upstream::{Secret, Upstream};
