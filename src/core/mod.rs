//! Leaves every layer may use: the clock, the event bus and per-model activity. Nothing here imports
//! another module of this crate.

pub mod activity;
pub mod bus;
pub mod clock;
