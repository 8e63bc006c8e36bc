//! Process ownership: the native llama-server router (one actor owns the child).

mod child;
mod router;
mod status;

pub use router::{RouterHandle, SupervisorError, spawn};
pub use status::{RouterState, RouterStatus};
