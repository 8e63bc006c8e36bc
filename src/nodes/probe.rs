//! One look at one node: `GET /v1/models` with its API key, within a deadline. What the answer (or its
//! absence) says about the node: up with its models, unauthorized (a wrong or missing key: the node is
//! there), degraded (it answered with an error), or down (refused, reset, or silent past the deadline,
//! as a paused process is).

use crate::config::NodeConfig;
use serde::Serialize;
use serde_json::Value;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeState {
    /// Not looked at yet.
    Unknown,
    Up,
    /// It answered, with an error status or a body that is not a model list.
    Degraded,
    /// It refused our API key.
    Unauthorized,
    /// No answer: connection refused or reset, or nothing within the deadline.
    Down,
}

impl NodeState {
    /// As the wire writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Up => "up",
            Self::Degraded => "degraded",
            Self::Unauthorized => "unauthorized",
            Self::Down => "down",
        }
    }
}

/// A model as the node lists it. Besides the id, what a llama-dashboard node says of it (other servers
/// leave these out).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeModel {
    pub id: String,
    /// `loaded`, `unloaded`, ... as the node reports it (`status.value`, or a plain `status`); `None` for
    /// servers that do not say (a plain llama-server, vLLM).
    pub status: Option<String>,
    /// Its idle TTL there (seconds, 0 = never).
    pub ttl_sec: Option<i64>,
    /// When the node will unload it if nothing uses it (ms since the epoch).
    pub unload_at: Option<i64>,
    /// Its file's size.
    pub size_bytes: Option<u64>,
    /// The memory its process holds there while loaded.
    pub rss_bytes: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub state: NodeState,
    pub rtt_ms: Option<u64>,
    pub models: Vec<NodeModel>,
    pub error: Option<String>,
}

pub async fn probe(client: &reqwest::Client, node: &NodeConfig, deadline: Duration) -> Probe {
    let started = Instant::now();
    let mut request = client.get(format!("{}/v1/models", node.base())).timeout(deadline);
    if let Some(key) = &node.api_key {
        request = request.bearer_auth(key);
    }
    let down = |error: String| Probe { state: NodeState::Down, rtt_ms: None, models: Vec::new(), error: Some(error) };
    let response = match request.send().await {
        Ok(r) => r,
        Err(err) if err.is_timeout() => return down(format!("no answer within {} ms", deadline.as_millis())),
        Err(err) => return down(format!("cannot connect: {}", root_cause(&err))),
    };
    let status = response.status();
    let body = tokio::time::timeout(deadline.saturating_sub(started.elapsed()), response.json::<Value>()).await;
    let rtt_ms = Some(started.elapsed().as_millis() as u64);
    let answered = |state, error: String| Probe { state, rtt_ms, models: Vec::new(), error: Some(error) };
    match (status.as_u16(), body) {
        (401 | 403, _) => answered(NodeState::Unauthorized, format!("refused our API key ({status})")),
        (200, Ok(Ok(list))) => match models_of(&list) {
            Some(models) => Probe { state: NodeState::Up, rtt_ms, models, error: None },
            None => answered(NodeState::Degraded, "answered /v1/models without a model list".into()),
        },
        (200, Err(_)) => down(format!("the model list did not arrive within {} ms", deadline.as_millis())),
        (200, Ok(Err(err))) => answered(NodeState::Degraded, format!("the model list is not JSON: {err}")),
        (_, _) => answered(NodeState::Degraded, format!("answered /v1/models with {status}")),
    }
}

/// `{"data":[{"id", "status": {"value"} | "..."}]}` (OpenAI's list, with llama.cpp's and our status).
fn models_of(list: &Value) -> Option<Vec<NodeModel>> {
    let data = list.get("data")?.as_array()?;
    let model = |m: &Value| {
        let id = m.get("id")?.as_str()?.to_string();
        let status = m["status"]["value"].as_str().or_else(|| m["status"].as_str()).map(str::to_string);
        let (ttl_sec, unload_at, size_bytes) =
            (m["ttl_sec"].as_i64(), m["unload_at"].as_i64(), m["meta"]["size_bytes"].as_u64());
        let rss_bytes = m["meta"]["rss_bytes"].as_u64();
        Some(NodeModel { id, status, ttl_sec, unload_at, size_bytes, rss_bytes })
    };
    Some(data.iter().filter_map(model).collect())
}

/// The innermost error: "Connection refused (os error 111)" rather than reqwest's wrapping.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn model_lists_of_each_shape_are_read() {
        let ours = json!({"data": [
            {"id": "a", "status": {"value": "loaded"}, "ttl_sec": 300, "unload_at": 1700, "meta": {"size_bytes": 98, "rss_bytes": 120}},
            {"id": "b", "status": "unloaded"},
            {"id": "c"},
        ]});
        let models = models_of(&ours).unwrap();
        let seen: Vec<(&str, Option<&str>)> = models.iter().map(|m| (m.id.as_str(), m.status.as_deref())).collect();
        assert_eq!(seen, [("a", Some("loaded")), ("b", Some("unloaded")), ("c", None)]);
        assert_eq!((models[0].ttl_sec, models[0].unload_at, models[0].size_bytes), (Some(300), Some(1700), Some(98)));
        assert_eq!(models[0].rss_bytes, Some(120));
        assert_eq!((models[1].ttl_sec, models[1].size_bytes), (None, None));
        assert!(models_of(&json!({"models": []})).is_none());
    }
}
