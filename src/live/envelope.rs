//! The one reply envelope and the broadcast envelope of the socket contract.

use crate::db::now_ms;
use crate::error::ApiError;
use serde::Serialize;
use serde_json::{Value, json};

/// `{type:"response", event, timestamp, success, data | error, requestId?}`. Serialized as it goes out:
/// a reply can be large (`models:list` with 1,000 models is 500 kB), and a copy costs as much as building it.
#[derive(Serialize)]
pub struct Response<'a, T> {
    #[serde(rename = "type")]
    kind: &'static str,
    event: &'a str,
    timestamp: i64,
    success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<Value>,
    #[serde(rename = "requestId", skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a Value>,
}

pub fn response<'a, T>(event: &'a str, result: Result<T, ApiError>, request_id: Option<&'a Value>) -> Response<'a, T> {
    let (success, data, error) = match result {
        Ok(data) => (true, Some(data), None),
        Err(err) => (false, None, Some(err.to_socket())),
    };
    Response { kind: "response", event, timestamp: now_ms(), success, data, error, request_id }
}

pub fn broadcast(event: &str, data: Value) -> Value {
    json!({"type": "broadcast", "event": event, "data": data, "timestamp": now_ms()})
}
