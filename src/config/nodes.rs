//! `nodes`: other llama-dashboards (or any OpenAI-compatible server) whose models this one serves too.
//! Each node's credentials are secrets like `security.apiKeys`: shown as placeholders, restored only for
//! the node of the same name at the same URL (a placeholder can never carry a key to another address),
//! and a node's URL can change over the network only with the admin token while it holds credentials.

use super::validate::ConfigIssue;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeConfig {
    /// Models of the node are listed as `name/model`.
    pub name: String,
    /// `http(s)://host[:port]`, optionally with a path prefix; no query, fragment or user info.
    pub url: String,
    /// Sent as `Authorization: Bearer` on `/v1` requests to the node (its `security.apiKeys`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// The node's `security.adminToken`, for its control plane (load, unload, metrics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_token: Option<String>,
}

impl NodeConfig {
    /// The URL without a trailing `/`, ready to join with `/v1/...`.
    pub fn base(&self) -> &str {
        self.url.trim_end_matches('/')
    }

    fn secrets_mut(&mut self) -> [(&'static str, &mut Option<String>); 2] {
        [("apiKey", &mut self.api_key), ("adminToken", &mut self.admin_token)]
    }
}

/// Unique plain names, URLs of the right shape, secrets that are not placeholders.
pub fn issues(nodes: &[NodeConfig]) -> Vec<ConfigIssue> {
    let mut out = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let at = |key: &str| format!("nodes[{i}].{key}");
        if !super::is_plain_name(&node.name) {
            out.push(ConfigIssue::new(at("name"), "must be a plain name: no '/', '\\', '..' or control characters"));
        } else if nodes[..i].iter().any(|n| n.name == node.name) {
            out.push(ConfigIssue::new(at("name"), format!("'{}' names two nodes", node.name)));
        }
        if let Err(why) = check_url(&node.url) {
            out.push(ConfigIssue::new(at("url"), format!("'{}' {why}", node.url)));
        }
        let secrets = [("apiKey", &node.api_key), ("adminToken", &node.admin_token)];
        for (key, secret) in secrets {
            match secret.as_deref() {
                Some(s) if s.trim().is_empty() => {
                    out.push(ConfigIssue::new(at(key), "must not be empty (leave it out)"))
                }
                Some(s) if s.starts_with(super::REDACTED) => out.push(ConfigIssue::new(
                    at(key),
                    "must not start with '***' (the placeholder of a redacted secret)",
                )),
                _ => {}
            }
        }
    }
    out
}

fn check_url(url: &str) -> Result<(), &'static str> {
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
    let rest = rest.ok_or("must start with http:// or https://")?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || url.contains(['?', '#', ' ']) || host.contains('@') || url.chars().any(char::is_control) {
        return Err("must be http(s)://host[:port][/path] without user info, query or fragment");
    }
    Ok(())
}

/// Each node's secrets as placeholders.
pub fn redact(nodes: &mut [NodeConfig]) {
    for node in nodes {
        for (_, secret) in node.secrets_mut() {
            *secret = secret.as_deref().map(super::save::placeholder);
        }
    }
}

/// A submitted node's placeholder back to the stored secret of the node with the same name and URL; one
/// that stands for no such secret is an error naming it.
pub fn restore(submitted: &mut serde_json::Value, current: &[NodeConfig]) -> Result<(), ConfigIssue> {
    let Some(nodes) = submitted.get_mut("nodes").and_then(serde_json::Value::as_array_mut) else { return Ok(()) };
    for (i, node) in nodes.iter_mut().enumerate() {
        let (name, url) = (node["name"].as_str().unwrap_or_default(), node["url"].as_str().unwrap_or_default());
        let mut stored = current.iter().find(|n| n.name == name && n.url == url).cloned();
        for key in ["apiKey", "adminToken"] {
            let Some(given) = node.get(key).and_then(|v| v.as_str()).filter(|v| v.starts_with(super::REDACTED)) else {
                continue;
            };
            let secret = stored.as_mut().and_then(|n| {
                let mut secrets = n.secrets_mut();
                let (_, slot) = secrets.iter_mut().find(|(k, _)| *k == key)?;
                slot.clone().filter(|s| super::save::placeholder(s) == given)
            });
            let secret = secret.ok_or_else(|| {
                ConfigIssue::new(
                    format!("nodes[{i}].{key}"),
                    "stands for no stored secret of this node at this URL: type the secret itself",
                )
            })?;
            node[key] = serde_json::Value::String(secret);
        }
    }
    Ok(())
}

/// Without the admin token: a node that holds credentials keeps its URL (the credentials go there).
pub fn protected_changes(current: &[NodeConfig], next: &[NodeConfig]) -> Vec<ConfigIssue> {
    let mut out = Vec::new();
    for (i, node) in next.iter().enumerate() {
        let has_secrets = node.api_key.is_some() || node.admin_token.is_some();
        let same_place = current.iter().any(|n| n.name == node.name && n.url == node.url);
        if has_secrets && !same_place {
            out.push(ConfigIssue::new(
                format!("nodes[{i}].url"),
                "a node with credentials cannot be added or moved to another URL: read-only without \
                 security.adminToken, since its credentials go to that address; set security.adminToken in the init \
                 file (and restart) to change it from here",
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str, url: &str, key: Option<&str>) -> NodeConfig {
        NodeConfig { name: name.into(), url: url.into(), api_key: key.map(String::from), admin_token: None }
    }

    #[test]
    fn names_urls_and_secrets_are_checked() {
        let nodes = [
            node("a", "http://10.0.0.2:3000", Some("k")),
            node("a", "https://gpu.lan/dash/", None),
            node("b/c", "ftp://x", Some("***abc")),
            node("d", "http://user@host", None),
        ];
        let paths: Vec<String> = issues(&nodes).into_iter().map(|i| i.path).collect();
        assert_eq!(paths, ["nodes[1].name", "nodes[2].name", "nodes[2].url", "nodes[2].apiKey", "nodes[3].url"]);
    }

    #[test]
    fn a_placeholder_comes_back_only_for_the_same_node_at_the_same_url() {
        let current = [node("a", "http://h:1", Some("sk-a"))];
        let mut redacted = current.to_vec();
        redact(&mut redacted);
        let shown = redacted[0].api_key.clone().unwrap();
        assert!(shown.starts_with("***") && !shown.contains("sk-a"));

        let mut same = json!({"nodes": [{"name": "a", "url": "http://h:1", "apiKey": shown}]});
        restore(&mut same, &current).unwrap();
        assert_eq!(same["nodes"][0]["apiKey"], "sk-a");
        let mut moved = json!({"nodes": [{"name": "a", "url": "http://evil:1", "apiKey": shown}]});
        assert_eq!(restore(&mut moved, &current).unwrap_err().path, "nodes[0].apiKey");
        let mut other = json!({"nodes": [{"name": "b", "url": "http://h:1", "apiKey": shown}]});
        assert!(restore(&mut other, &current).is_err());
    }

    #[test]
    fn without_the_admin_token_a_node_with_credentials_keeps_its_url() {
        let current = [node("a", "http://h:1", Some("k"))];
        assert!(protected_changes(&current, &current).is_empty());
        assert!(protected_changes(&current, &[node("plain", "http://x:2", None)]).is_empty(), "no credentials");
        assert_eq!(protected_changes(&current, &[node("a", "http://evil:1", Some("k"))]).len(), 1);
        assert_eq!(protected_changes(&current, &[node("new", "http://x:2", Some("k2"))]).len(), 1);
    }
}
