//! The one reply envelope and the broadcast envelope of the socket contract.

use crate::db::now_ms;
use crate::error::ApiError;
use serde_json::{Value, json};

/// Takes the result by value: a reply can be large (`models:list` with 1,000 models is 500 kB), and a
/// copy of it costs as much as building it.
pub fn response(event: &str, result: Result<Value, ApiError>, request_id: Option<&Value>) -> Value {
    let mut env = json!({"type": "response", "event": event, "timestamp": now_ms()});
    match result {
        Ok(data) => {
            env["success"] = json!(true);
            env["data"] = data;
        }
        Err(err) => {
            env["success"] = json!(false);
            env["error"] = err.to_socket();
        }
    }
    if let Some(id) = request_id {
        env["requestId"] = id.clone();
    }
    env
}

pub fn broadcast(event: &str, data: Value) -> Value {
    json!({"type": "broadcast", "event": event, "data": data, "timestamp": now_ms()})
}
