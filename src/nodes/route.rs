//! A request for `node/model`: sent to that node only (no other place serves a model pinned to a node),
//! with the node's API key and the model's own id in the body. A node that is not up is refused at once
//! with why, rather than waited on: its state is at most [`super::POLL`] old.

use super::{NodeState, Nodes};
use crate::process::Upstream;
use serde_json::Value;

/// Where a request for `node/model` goes.
pub struct NodeRoute {
    pub node: String,
    /// The model's id on the node.
    pub model: String,
    pub upstream: Upstream,
}

#[derive(Debug, PartialEq)]
pub enum RouteError {
    /// The node is configured but cannot take requests now; the message says why.
    Unavailable(String),
    /// The node does not list this model.
    NoModel(String),
}

impl Nodes {
    /// `None` when `name` does not start with a configured node's name and `/`.
    pub fn pinned_route(&self, name: &str) -> Option<Result<NodeRoute, RouteError>> {
        let (node, model) = name.split_once('/')?;
        let config = self.0.config.config();
        let node_config = config.nodes.iter().find(|n| n.name == node)?;
        let view = self.list().into_iter().find(|v| v.name == node)?;
        if view.state != NodeState::Up {
            let why = view.error.unwrap_or_else(|| "not looked at yet".into());
            let state = view.state.as_str();
            return Some(Err(RouteError::Unavailable(format!("node '{node}' is {state}: {why}"))));
        }
        // Ollama's clients add `:latest` to bare names.
        let listed = |id: &str| view.models.iter().any(|m| m.id == id);
        let model = match model.strip_suffix(":latest") {
            _ if listed(model) => model,
            Some(bare) if listed(bare) => bare,
            _ => return Some(Err(RouteError::NoModel(name.to_string()))),
        };
        let key = node_config.api_key.clone().unwrap_or_default().into();
        let upstream = Upstream { url: node_config.base().to_string(), key };
        Some(Ok(NodeRoute { node: node.to_string(), model: model.to_string(), upstream }))
    }

    /// The client requests to nodes go through (no redirects: a node's key is for that node only).
    pub fn client(&self) -> &reqwest::Client {
        &self.0.client
    }
}

/// The body with its `model` replaced by the node's own id; `None` when it is not a JSON object with a
/// `model` (then it goes as it came).
pub fn with_model(body: &[u8], model: &str) -> Option<Vec<u8>> {
    let mut value: Value = serde_json::from_slice(body).ok()?;
    let slot = value.as_object_mut()?.get_mut("model")?;
    *slot = Value::String(model.to_string());
    serde_json::to_vec(&value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_names_the_nodes_own_model() {
        let body = br#"{"model":"b/smol","messages":[{"role":"user","content":"hi"}],"stream":true}"#;
        let out: Value = serde_json::from_slice(&with_model(body, "smol").unwrap()).unwrap();
        assert_eq!(out["model"], "smol");
        assert_eq!(out["stream"], true);
        assert!(with_model(b"[1]", "x").is_none());
        assert!(with_model(b"{}", "x").is_none());
    }
}
