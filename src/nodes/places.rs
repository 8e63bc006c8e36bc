//! Which nodes serve a plain model id, in the order a request tries them: those that have it loaded,
//! least busy first, then those that list it (they can load it). Only nodes that are up: one whose request
//! failed is taken out of rotation at once ([`Nodes::mark_failed`]) and comes back when the next look finds
//! it answering again (the breaker closes on its own; no request is spent finding out).

use super::{NodeRoute, NodeState, NodeView, Nodes};
use crate::core::bus::LiveEvent;
use crate::core::clock::now_ms;

impl Nodes {
    /// The nodes that list `model`, loaded first; `busy(node_model)` is our requests running and queued on
    /// `node/model`.
    pub fn candidates(&self, model: &str, busy: impl Fn(&str) -> usize) -> Vec<(NodeRoute, bool)> {
        let mut found: Vec<(NodeRoute, bool, usize)> = self
            .list()
            .into_iter()
            .filter(|n| n.state == NodeState::Up)
            .filter_map(|n| {
                let loaded = n.models.iter().find(|m| m.id == model)?.status.as_deref() == Some("loaded");
                let route = self.pinned_route(&format!("{}/{model}", n.name))?.ok()?;
                let load = busy(&format!("{}/{model}", n.name));
                Some((route, loaded, load))
            })
            .collect();
        found.sort_by_key(|(_, loaded, load)| (!loaded, *load));
        found.into_iter().map(|(route, loaded, _)| (route, loaded)).collect()
    }

    /// A request to `node` failed before any byte reached its client: out of rotation until it answers a look.
    pub fn mark_failed(&self, node: &str, error: &str) {
        let changed = self.0.views.write().ok().and_then(|mut views| {
            let view = views.get_mut(node).filter(|v| v.state == NodeState::Up)?;
            view.state = NodeState::Down;
            view.since = now_ms();
            view.error = Some(format!("a request failed: {error}"));
            Some(view.clone())
        });
        if let Some(view) = changed {
            tracing::warn!(node = %node, "node {node} taken out of rotation: {error}");
            self.publish(view);
        }
    }

    /// Resolves once `node` is no longer up (for a request waiting on a node that stopped answering).
    pub async fn gone(&self, node: &str) {
        loop {
            let up = self.list().iter().any(|n| n.name == node && n.state == NodeState::Up);
            if !up {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    pub(super) fn publish(&self, view: NodeView) {
        self.0.bus.publish(LiveEvent::NodesStatus(serde_json::json!({ "node": view })));
    }
}
