//! Leaves every layer may use: the clock, the event bus, per-model activity and the allocator setup. Nothing here imports
//! another module of this crate.

pub mod activity;
pub mod arenas;
pub mod bus;
pub mod clock;
pub mod drops;

/// An error's message followed by its causes ("error reading a body: connection reset"): the outer
/// messages of the HTTP crates alone say too little.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

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
