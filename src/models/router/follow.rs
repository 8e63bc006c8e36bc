//! Follows the router's model status: `/models` once per connection, then `/models/sse`
//! (or polling `/models` every 500 ms on builds without it). Stops following while the router is down.

use crate::models::Models;
use crate::process::Upstream;
use serde_json::Value;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const POLL: Duration = Duration::from_millis(500);
const RECONNECT: Duration = Duration::from_millis(300);

pub async fn run(models: Models, cancel: CancellationToken) {
    let router_handle = models.0.parts.router.clone();
    let mut router = router_handle.subscribe();
    loop {
        let upstream = router.borrow_and_update().upstream();
        if let Some(upstream) = upstream {
            tokio::select! {
                _ = follow(&models, &upstream) => {}
                _ = router.changed() => {}
                _ = cancel.cancelled() => return,
            }
        } else {
            tokio::select! {
                changed = router.changed() => if changed.is_err() { return },
                _ = cancel.cancelled() => return,
            }
        }
        if !router_handle.status().running() {
            let reason = router_handle.status().error.map(|_| "the llama-server router stopped unexpectedly");
            models.router_stopped(reason).await;
        }
        tokio::time::sleep(RECONNECT).await;
    }
}

/// One connection's worth of following; returns when the stream ends or fails.
async fn follow(models: &Models, upstream: &Upstream) {
    sync_all(models, upstream).await;
    let response = match models.0.client.get(upstream, "/models/sse").await {
        Ok(r) if r.status.is_success() => r,
        Ok(r) if r.status.as_u16() == 404 => return poll(models, upstream).await,
        Ok(r) => return tracing::warn!(status = r.status.as_u16(), "router refused /models/sse"),
        Err(err) => return tracing::debug!(error = %err, "router /models/sse unavailable"),
    };
    read_events(models, upstream, response).await;
}

async fn read_events(models: &Models, upstream: &Upstream, mut response: crate::process::Reply) {
    let mut buffer = String::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find('\n') {
            let line: String = buffer.drain(..=end).collect();
            if let Some(json) = line.trim_end().strip_prefix("data:")
                && apply_event(models, json.trim()).await
            {
                sync_all(models, upstream).await;
            }
        }
    }
}

/// `{"model":ID,"event":"status_change","data":{"status":..,"progress":{"value":..},"exit_code":..}}`.
/// True when a model became loaded: the events do not say on which port, `/models` does.
async fn apply_event(models: &Models, json: &str) -> bool {
    let Ok(event) = serde_json::from_str::<Value>(json) else { return false };
    let (Some(id), Some(data)) = (event["model"].as_str(), event.get("data")) else { return false };
    let Some(status) = data["status"].as_str() else { return false };
    let progress = data["progress"]["value"].as_f64();
    match models.router_table().report(id, status, progress, data["exit_code"].as_i64()) {
        Some(t) => {
            let loaded = t.to == crate::models::ModelStatus::Loaded;
            models.publish_transition(t, "router").await;
            loaded
        }
        None => false,
    }
}

/// Reads `/models` and applies each model's status (tolerant of older field layouts) and port.
pub async fn sync_all(models: &Models, upstream: &Upstream) {
    if let Some(body) = read_list(models, upstream, "/models").await {
        apply_list(models, &body).await;
    }
}

/// Has the router read its models directory and presets again (`GET /models?reload=1`: it lists files
/// only at start otherwise), applies the answer, and forgets the models it no longer lists.
pub async fn reload(models: &Models, upstream: &Upstream) {
    let Some(body) = read_list(models, upstream, "/models?reload=1").await else { return };
    apply_list(models, &body).await;
    let ids = body["data"].as_array().into_iter().flatten().filter_map(|m| m["id"].as_str());
    models.router_table().keep_only(&ids.map(str::to_string).collect::<Vec<_>>());
}

async fn read_list(models: &Models, upstream: &Upstream, path: &str) -> Option<Value> {
    let resp = models.0.client.get(upstream, path).await.ok()?;
    resp.json::<Value>().await.ok()
}

async fn apply_list(models: &Models, body: &Value) {
    for model in body["data"].as_array().into_iter().flatten() {
        let Some(id) = model["id"].as_str() else { continue };
        let aliases = model["aliases"].as_array().into_iter().flatten().filter_map(|a| a.as_str());
        models.router_table().set_aliases(id, aliases.map(str::to_string).collect());
        let status = model["status"]["value"].as_str().or_else(|| model["status"].as_str()).unwrap_or("unloaded");
        if let Some(t) = models.router_table().report(id, status, None, None) {
            models.publish_transition(t, "router").await;
        }
        if let Some(port) = child_port(&model["status"]["args"]) {
            models.router_table().set_port(id, port);
        }
    }
}

/// `--port N` in a loaded model's argv (`status.args` of `/models`).
fn child_port(args: &Value) -> Option<u16> {
    let args = args.as_array()?;
    let at = args.iter().position(|a| a.as_str() == Some("--port"))?;
    args.get(at + 1)?.as_str()?.parse().ok().filter(|p| *p != 0)
}

async fn poll(models: &Models, upstream: &Upstream) {
    tracing::info!("router has no /models/sse; polling /models");
    while models.0.parts.router.status().running() {
        sync_all(models, upstream).await;
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::child_port;
    use serde_json::json;

    #[test]
    fn the_port_is_read_from_the_childs_argv() {
        let args = json!(["llama-server", "--host", "127.0.0.1", "--port", "41234", "--alias", "m"]);
        assert_eq!(child_port(&args), Some(41234));
        assert_eq!(child_port(&json!(["--port"])), None);
        assert_eq!(child_port(&json!(["--port", "0"])), None);
        assert_eq!(child_port(&json!(["--port", "x"])), None);
        assert_eq!(child_port(&json!(null)), None);
    }
}
