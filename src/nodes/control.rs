//! Loading and unloading a model on a node from here, through the node's llama.cpp router API
//! (`POST /models/load` / `/models/unload`, which llama-dashboard and llama.cpp's router serve behind
//! their API key): the node answers at once and reports the load's end in its model list, which the next
//! look (started at once) picks up.

use super::Nodes;

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("no node named '{0}' (nodes)")]
    NoNode(String),
    #[error("node '{node}' refused: {message}")]
    Refused { node: String, message: String },
    #[error("node '{node}' did not answer: {message}")]
    Unreachable { node: String, message: String },
}

impl Nodes {
    /// Asks `node` to load (or unload) `model`; returns once the node accepted.
    pub async fn change(&self, node: &str, model: &str, load: bool) -> Result<(), ControlError> {
        let config = self.0.config.config();
        let node_config =
            config.nodes.iter().find(|n| n.name == node).ok_or_else(|| ControlError::NoNode(node.into()))?;
        let action = if load { "load" } else { "unload" };
        let mut request = self
            .0
            .client
            .post(format!("{}/models/{action}", node_config.base()))
            .timeout(super::DEADLINE * 4)
            .json(&serde_json::json!({ "model": model }));
        if let Some(key) = &node_config.api_key {
            request = request.bearer_auth(key);
        }
        let unreachable = |e: reqwest::Error| ControlError::Unreachable { node: node.into(), message: e.to_string() };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        if !status.is_success() {
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            let said = body["error"]["message"].as_str().or_else(|| body["error"].as_str()).unwrap_or("no message");
            return Err(ControlError::Refused { node: node.into(), message: format!("{said} ({status})") });
        }
        tracing::info!(node, model, "asked node {node} to {action} {model}");
        let nodes = self.clone();
        tokio::spawn(async move { nodes.look_once().await });
        Ok(())
    }
}
