//! A llama-dashboard node's load, read from its Prometheus text (`GET /metrics`, which it serves without
//! credentials): system CPU and memory, and the requests it is serving and has queued. Other servers
//! (a plain llama-server, vLLM) name their metrics otherwise: they get no figures, which is not an error.

use crate::config::NodeConfig;
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSystem {
    pub cpu_percent: Option<f64>,
    pub memory_used_bytes: Option<f64>,
    pub memory_total_bytes: Option<f64>,
    /// Requests running on the node now, over all its models.
    pub in_flight: f64,
    /// Requests waiting in its queues.
    pub queued: f64,
}

pub async fn read(client: &reqwest::Client, node: &NodeConfig, deadline: Duration) -> Option<NodeSystem> {
    let response = client.get(format!("{}/metrics", node.base())).timeout(deadline).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    parse(&response.text().await.ok()?)
}

/// `None` when the text holds none of llama-dashboard's system gauges.
fn parse(text: &str) -> Option<NodeSystem> {
    let samples = text.lines().filter(|l| !l.starts_with('#')).filter_map(|line| {
        let (name, value) = line.rsplit_once(' ')?;
        let name = name.split('{').next()?.trim();
        Some((name, value.trim().parse::<f64>().ok()?))
    });
    let mut system = NodeSystem {
        cpu_percent: None,
        memory_used_bytes: None,
        memory_total_bytes: None,
        in_flight: 0.0,
        queued: 0.0,
    };
    for (name, value) in samples {
        match name {
            "llama_dashboard_cpu_usage_percent" => system.cpu_percent = Some(value),
            "llama_dashboard_memory_used_bytes" => system.memory_used_bytes = Some(value),
            "llama_dashboard_memory_total_bytes" => system.memory_total_bytes = Some(value),
            "llama_dashboard_requests_in_flight" => system.in_flight += value,
            "llama_dashboard_queue_depth" => system.queued += value,
            _ => {}
        }
    }
    system.cpu_percent.is_some().then_some(system)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gauges_are_read_and_per_model_series_summed() {
        let text = "# HELP llama_dashboard_cpu_usage_percent System CPU usage\n\
            llama_dashboard_cpu_usage_percent 31.5\n\
            llama_dashboard_memory_used_bytes 1000\n\
            llama_dashboard_memory_total_bytes 4000\n\
            llama_dashboard_requests_in_flight{model=\"a\"} 2\n\
            llama_dashboard_requests_in_flight{model=\"b\"} 1\n\
            llama_dashboard_queue_depth{model=\"a\"} 3\n";
        let s = parse(text).unwrap();
        assert_eq!((s.cpu_percent, s.memory_used_bytes, s.in_flight, s.queued), (Some(31.5), Some(1000.0), 3.0, 3.0));
        assert!(parse("llamacpp:prompt_tokens_total 5\n").is_none(), "not a llama-dashboard");
    }
}
