//! The llama-server processes we start, whoever supervises them (the router actor, our own backends):
//! spawning and stopping a child, waiting until it answers, and when and how to restart one that died.

pub mod child;
pub mod health;
mod loopback;
pub mod model_ports;
pub mod restart;
mod upstream;

pub use loopback::{HttpError, Loopback, Pool, Reply, pool};
pub use upstream::{Secret, Upstream, loopback_client};
