//! Backend models as the contract's Model objects (`source: "backend"`), beside the router's.

use super::{BackendState, BackendStatus};
use crate::config::{BackendModel, BackendsConfig};
use crate::db::now_ms;
use serde_json::{Value, json};
use std::time::Instant;

impl BackendState {
    /// The Model `status` vocabulary shared with router-mode models.
    pub fn model_status(self) -> &'static str {
        match self {
            Self::Stopped => "unloaded",
            Self::Starting => "loading",
            Self::Ready => "loaded",
            Self::Stopping => "unloading",
            Self::Error => "error",
        }
    }
}

/// `last_active`: when the proxy last started or finished a request for it; `busy`: requests in flight or queued.
pub struct Activity {
    pub last_active: Option<Instant>,
    pub busy: bool,
}

pub fn model_json(
    config: &BackendsConfig,
    m: &BackendModel,
    status: Option<BackendStatus>,
    activity: Activity,
) -> Value {
    let status = status.unwrap_or_else(BackendStatus::stopped);
    let ttl = config.ttl_of(m);
    let unload_at = (status.state == BackendState::Ready && ttl > 0 && !activity.busy).then(|| {
        let idle_since = activity.last_active.into_iter().chain([status.since]).max().unwrap_or(status.since);
        now_ms() - idle_since.elapsed().as_millis() as i64 + ttl * 1000
    });
    json!({
        "id": m.name,
        "source": "backend",
        "path": m.path,
        "state": m.state,
        "group": m.group_name(),
        "aliases": m.aliases,
        "mmproj": m.mmproj,
        "status": status.state.model_status(),
        "progress": Value::Null,
        "error": status.error,
        "exitCode": status.exit_code,
        "lastLines": status.last_lines,
        "port": status.port,
        "reason": status.reason,
        "ttlSec": ttl,
        "unloadAt": unload_at,
    })
}
