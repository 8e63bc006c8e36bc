//! The own-backend kind: `backends.models`, each a llama-server the backends manager starts on demand.

use super::status::ModelStatus;
use super::view::{BackendDetails, Details, Live, ModelView};
use super::{Ack, ModelError, ModelKind, Models, idle};
use crate::backends::{BackendStatus, Ready};
use crate::config::{BackendModel, Config};
use serde_json::Value;

impl Models {
    pub(super) fn backend_views(&self) -> Vec<ModelView> {
        let config = self.config();
        let free = self.free_memory();
        config.backends.models.iter().map(|m| self.backend_view(&config, m, free)).collect()
    }

    /// One of `backends.models`, by name or alias.
    pub(super) fn backend_view_of(&self, id: &str) -> Option<ModelView> {
        let config = self.config();
        let model = config.backends.model(id)?;
        Some(self.backend_view(&config, model, self.free_memory()))
    }

    pub(super) fn free_memory(&self) -> Option<u64> {
        self.0.parts.latest.borrow().as_ref().map(crate::backends::memory::free_bytes)
    }

    pub(super) fn backend_live(&self, config: &Config, m: &BackendModel, status: &BackendStatus) -> Live {
        let ttl_sec = self.0.asked.get(&m.name).unwrap_or_else(|| config.backends.ttl_of(m));
        let activity = &self.0.parts.activity;
        let loaded_since = (status.state == crate::backends::BackendState::Ready).then_some(status.since);
        let unload_at = idle::unload_at(ttl_sec, loaded_since, activity.last_active(&m.name), activity.busy(&m.name))
            .filter(|_| !m.pinned);
        let (status, error) = (status.state.into(), status.error.clone());
        Live { status, progress: None, error, ttl_sec, unload_at, pinned: m.pinned }
    }

    fn backend_view(&self, config: &Config, m: &BackendModel, free: Option<u64>) -> ModelView {
        let status = self.0.parts.backends.status(&m.name).unwrap_or_else(BackendStatus::stopped);
        let pid = status.pid.filter(|_| status.upstream().is_some());
        let mut gguf = match self.0.parts.metadata.fields(&m.path) {
            Value::Object(fields) => fields,
            _ => Default::default(),
        };
        let memory = match self.0.parts.metadata.need(&config.backends, m) {
            Some(Ok(need)) => {
                let mut memory = serde_json::to_value(need).unwrap_or_default();
                if let (Some(fields), Some(free)) = (memory.as_object_mut(), free) {
                    fields.insert("freeBytes".into(), free.into());
                }
                memory
            }
            Some(Err(err)) => {
                gguf.insert("metadataError".into(), Value::String(err));
                Value::Null
            }
            None => Value::Null,
        };
        let details = BackendDetails {
            path: m.path.clone(),
            state: m.state,
            group: m.group_name().to_string(),
            aliases: m.aliases.clone(),
            mmproj: m.mmproj.clone(),
            exit_code: status.exit_code,
            last_lines: status.last_lines.clone(),
            port: status.port,
            reason: status.reason.clone(),
            gguf,
            memory,
        };
        ModelView {
            id: m.name.clone(),
            source: ModelKind::Backend,
            live: self.backend_live(config, m, &status),
            details: Details::Backend(details),
            rss_bytes: pid.and_then(crate::metrics::process_memory::rss_bytes),
            aliases: m.aliases.clone(),
        }
    }

    /// Loaded: answers so at once; otherwise starts it in the background.
    pub(super) async fn backend_load(&self, id: &str, actor: &'static str) -> Result<Ack, ModelError> {
        if self.get(id).is_some_and(|m| m.live.status == ModelStatus::Loaded) {
            return Ok(Ack { id: id.into(), status: ModelStatus::Loaded });
        }
        // Refused at once, not later through its status: pinned models stand in the way.
        if let Some(err @ crate::backends::BackendError::Pinned { .. }) =
            self.0.parts.backends.preview(id).await?.refuse
        {
            return Err(err.into());
        }
        let (models, model_id) = (self.clone(), id.to_string());
        tokio::spawn(async move {
            if let Err(err) = models.ensure_backend(&model_id, actor).await {
                tracing::warn!(model = %model_id, error = %err, "backend load failed");
            }
        });
        Ok(Ack { id: id.into(), status: ModelStatus::Loading })
    }

    /// Starts (if needed) and waits for one of our own backends. The model file's metadata is re-read
    /// first when it changed, so the memory check sees the file that will be loaded.
    pub async fn ensure_backend(&self, name: &str, reason: &'static str) -> Result<Ready, ModelError> {
        let activity = &self.0.parts.activity;
        // Fast path: claimed first, then checked, so a stop deciding meanwhile sees the claim or is seen here.
        let claim = activity.claim(name);
        if let Some(upstream) = self.0.parts.backends.status(name).and_then(|s| s.upstream()) {
            return Ok(Ready { upstream, claim });
        }
        drop(claim);
        let config = self.config();
        let max = usize::try_from(config.proxy.queue_size + config.performance.parallel_slots).unwrap_or(1).max(1);
        let _waiting = activity.wait_for_start(name, max)?;
        self.refresh_backend_metadata().await?;
        Ok(self.0.parts.backends.ensure_ready(name, reason).await?)
    }

    /// Where a running own backend answers (for the operator pass-through; never starts it).
    pub fn backend_upstream(&self, name: &str) -> Option<crate::process::Upstream> {
        self.0.parts.backends.status(name).and_then(|s| s.upstream())
    }
}
