//! Process ownership: the native llama-server router (one actor owns the child).

mod child;
mod model_ports;
mod router;
mod status;

pub use router::{RouterHandle, SupervisorError, spawn};
pub use status::{RouterState, RouterStatus};
