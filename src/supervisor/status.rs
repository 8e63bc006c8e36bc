//! The router's observable state, published on a watch channel and broadcast as `router:status`.

use serde::Serialize;

/// Transitions (owned by the actor in `router.rs`):
/// Stopped -> Starting (start) -> Running (health answered) | Failed (deadline, early exit, no binary, port taken)
/// Running -> Stopping (stop) -> Stopped;  Running -> Crashed (unexpected exit) -> Starting (backoff restart)
/// Crashed -> Failed once the restart budget is spent; Failed -> Starting on an explicit start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RouterState {
    Stopped,
    Starting,
    Running,
    Stopping,
    Crashed,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouterStatus {
    pub state: RouterState,
    pub pid: Option<u32>,
    pub url: Option<String>,
    /// The key the running router was started with (never serialized).
    #[serde(skip)]
    pub key: Option<crate::process::Secret>,
    /// Milliseconds since the epoch when it became ready.
    pub started_at: Option<i64>,
    pub exit_code: Option<i32>,
    pub error: Option<String>,
    /// The child's last output lines when it failed or crashed.
    pub last_lines: Vec<String>,
    pub restarts: u32,
}

impl RouterStatus {
    pub fn stopped() -> Self {
        Self {
            state: RouterState::Stopped,
            pid: None,
            url: None,
            key: None,
            started_at: None,
            exit_code: None,
            error: None,
            last_lines: Vec::new(),
            restarts: 0,
        }
    }

    pub fn running(&self) -> bool {
        self.state == RouterState::Running
    }

    /// Where the running router answers, with its key.
    pub fn upstream(&self) -> Option<crate::process::Upstream> {
        let (url, key) = (self.url.clone()?, self.key.clone()?);
        self.running().then_some(crate::process::Upstream { url, key })
    }
}

/// `router:status` (and the snapshot's `router`): the init settings plus the live state of the process.
pub fn router_status_json(
    live: &RouterStatus,
    c: &crate::config::Config,
    config_path: Option<String>,
) -> serde_json::Value {
    serde_json::json!({
        "port": c.router.port,
        "host": c.router.host,
        "modelsDir": c.models.directory,
        "maxLoaded": c.models.max_loaded,
        "contextSize": c.performance.context_size,
        "autoStart": c.startup.auto_start,
        "enabled": c.router.enabled,
        "running": live.running(),
        "state": live.state,
        "pid": live.pid,
        "url": live.url,
        "uptimeMs": live.started_at.map(|t| (crate::core::clock::now_ms() - t).max(0)),
        "exitCode": live.exit_code,
        "error": live.error,
        "lastLines": live.last_lines,
        "restarts": live.restarts,
        "configPath": config_path,
    })
}
