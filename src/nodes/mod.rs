//! The nodes of `nodes`: each is looked at every [`POLL`] (its model list, with its API key, within
//! [`DEADLINE`]), and what changed about it is published as `nodes:status`; `nodes:list` answers from
//! memory. A node's credentials stay in the config: nothing here logs or publishes them.

mod control;
mod places;
mod probe;
mod route;
mod system;

pub use control::ControlError;
pub use probe::{NodeModel, NodeState};
pub use route::{NodeRoute, RouteError, with_model};
pub use system::NodeSystem;

use crate::config::{NodeConfig, SharedConfig};
use crate::core::bus::Bus;
use crate::core::clock::now_ms;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often each node is looked at.
pub const POLL: Duration = Duration::from_secs(2);
/// How long a node has to answer before it counts as down (a paused process accepts and says nothing).
pub const DEADLINE: Duration = Duration::from_millis(1500);

/// A node as `nodes:list` and `nodes:status` show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeView {
    pub name: String,
    pub url: String,
    pub state: NodeState,
    /// When it entered this state (ms since the epoch).
    pub since: i64,
    /// The round trip of the last look, when it answered.
    pub rtt_ms: Option<u64>,
    pub models: Vec<NodeModel>,
    pub error: Option<String>,
    /// Its load, for a llama-dashboard node that is up.
    pub system: Option<NodeSystem>,
    /// When it was last looked at (ms).
    pub checked_at: Option<i64>,
}

impl NodeView {
    fn unknown(node: &NodeConfig) -> Self {
        Self {
            name: node.name.clone(),
            url: node.url.clone(),
            state: NodeState::Unknown,
            since: now_ms(),
            rtt_ms: None,
            models: Vec::new(),
            error: None,
            system: None,
            checked_at: None,
        }
    }

    /// Whether a change is news for the dashboards (the round trip alone is not; its load is).
    fn differs(&self, other: &Self) -> bool {
        (self.state, &self.models, &self.error, &self.url, &self.system)
            != (other.state, &other.models, &other.error, &other.url, &other.system)
    }
}

/// Cheap to clone; lives in `AppState`.
#[derive(Clone)]
pub struct Nodes(Arc<Inner>);

struct Inner {
    config: SharedConfig,
    bus: Bus,
    client: reqwest::Client,
    views: RwLock<BTreeMap<String, NodeView>>,
}

impl Nodes {
    pub fn new(config: SharedConfig, bus: Bus) -> Result<Self, reqwest::Error> {
        // No redirects: a node's API key is for that node only.
        let client = reqwest::Client::builder()
            .connect_timeout(DEADLINE)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()?;
        Ok(Self(Arc::new(Inner { config, bus, client, views: RwLock::default() })))
    }

    /// Every configured node, in the config's order.
    pub fn list(&self) -> Vec<NodeView> {
        let views = self.0.views.read().map(|v| v.clone()).unwrap_or_default();
        let config = self.0.config.config();
        config.nodes.iter().map(|n| views.get(&n.name).cloned().unwrap_or_else(|| NodeView::unknown(n))).collect()
    }

    /// The models of the nodes that are up, each with its node's name, in the config's order.
    pub fn up_models(&self) -> Vec<(String, NodeModel)> {
        let up = self.list().into_iter().filter(|n| n.state == NodeState::Up);
        up.flat_map(|node| node.models.into_iter().map(move |m| (node.name.clone(), m))).collect()
    }

    /// Looks at every node each [`POLL`] until `cancel`.
    pub async fn run(self, cancel: CancellationToken) {
        loop {
            self.look_once().await;
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = cancel.cancelled() => return,
            }
        }
    }

    pub(super) async fn look_once(&self) {
        let nodes = self.0.config.config().nodes.clone();
        let looks = nodes.iter().map(|node| async move {
            let look = probe::probe(&self.0.client, node, DEADLINE).await;
            let up = look.state == NodeState::Up;
            let system = if up { system::read(&self.0.client, node, DEADLINE).await } else { None };
            (node, look, system)
        });
        let results = futures_util::future::join_all(looks).await;
        let mut changed = Vec::new();
        if let Ok(mut views) = self.0.views.write() {
            views.retain(|name, _| nodes.iter().any(|n| &n.name == name));
            for (node, look, system) in results {
                let before = views.get(&node.name).cloned().unwrap_or_else(|| NodeView::unknown(node));
                let since = if before.state == look.state { before.since } else { now_ms() };
                let view = NodeView {
                    name: node.name.clone(),
                    url: node.url.clone(),
                    state: look.state,
                    since,
                    rtt_ms: look.rtt_ms,
                    models: look.models,
                    error: look.error,
                    system,
                    checked_at: Some(now_ms()),
                };
                if view.differs(&before) {
                    changed.push(view.clone());
                }
                views.insert(node.name.clone(), view);
            }
        }
        for view in changed {
            if view.state != NodeState::Up {
                let error = view.error.as_deref().unwrap_or_default();
                tracing::warn!(node = %view.name, "node {} is {}: {error}", view.name, view.state.as_str());
            } else {
                tracing::info!(node = %view.name, models = view.models.len(), "node is up");
            }
            self.publish(view);
        }
    }
}
