//! Logs: tracing events go to the console, to SQLite and to clients as `logs:entry`.

mod layer;
mod writer;

pub use layer::{DbLogLayer, QUEUE};
pub use writer::LogWriter;
