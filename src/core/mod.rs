//! Leaves every layer may use: the clock, the event bus, per-model activity and the allocator setup. Nothing here imports
//! another module of this crate.

pub mod activity;
pub mod arenas;
pub mod bus;
pub mod clock;
pub mod drops;

/// How a JSON value's type reads in an error message ("a string", "an object").
pub fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}
