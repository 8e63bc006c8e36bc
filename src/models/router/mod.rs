//! The router-mode kind: models llama.cpp's router loads and unloads (files of `models.directory` and
//! presets). Load / unload requests go to the router's `/models` API; the live status is followed from
//! the router (`follow`); each transition is stored as a lifecycle event and published.

mod follow;
mod room;
mod table;

pub use follow::{reload, run as follow, sync_all as refresh};
pub use room::{Room, RouterRoom};
pub use table::{LiveModel, LiveTable, Transition};

use super::status::{ModelStatus, router_event};
use super::view::{Details, FileDetails, Live, ModelView, PresetDetails};
use super::{Ack, ModelError, ModelKind, Models, idle};
use crate::db::NewModelEvent;
use serde_json::{Value, json};
use std::sync::Arc;

pub enum Action {
    Load,
    Unload,
}

impl Models {
    pub(super) fn router_views(&self) -> Vec<ModelView> {
        let files = self.catalog();
        let mut views: Vec<ModelView> =
            files.iter().map(|f| self.router_view(&f.row.id, Details::File(FileDetails::from(&f.row)))).collect();
        for id in self.presets_only(&files) {
            views.push(self.router_view(&id, Details::Preset(PresetDetails::new())));
        }
        self.add_rss(&mut views);
        views
    }

    pub(super) fn router_view_of(&self, id: &str) -> Option<ModelView> {
        let files = self.catalog();
        let details = match files.iter().find(|f| f.row.id == id) {
            Some(f) => Details::File(FileDetails::from(&f.row)),
            None if self.0.table.contains(id) => Details::Preset(PresetDetails::new()),
            None => return None,
        };
        let mut view = [self.router_view(id, details)];
        self.add_rss(&mut view);
        let [view] = view;
        Some(view)
    }

    /// The memory of each loaded model's process (a child of the router).
    fn add_rss(&self, views: &mut [ModelView]) {
        let any_loaded = views.iter().any(|m| m.live.status == ModelStatus::Loaded);
        let Some(rss_of) = self.children_rss(any_loaded) else { return };
        for view in views {
            view.rss_bytes = rss_of(&view.id);
        }
    }

    /// Looks up the RSS of a router model's process by id; `None` when nothing is loaded (no /proc walk).
    pub(super) fn children_rss(&self, any_loaded: bool) -> Option<impl Fn(&str) -> Option<u64>> {
        let pid = self.0.parts.router.status().pid.filter(|_| any_loaded)?;
        let children = crate::metrics::process_memory::router_children(pid);
        Some(move |id: &str| children.get(id).and_then(|pid| crate::metrics::process_memory::rss_bytes(*pid)))
    }

    /// Models the router reported that are not files of the catalog (sections of `--models-preset`).
    pub(super) fn presets_only(&self, files: &[super::listing::CatalogFile]) -> Vec<String> {
        let mut ids = self.0.table.ids();
        ids.retain(|id| !files.iter().any(|f| &f.row.id == id));
        ids
    }

    /// A file of the catalog or a model the router reported.
    pub(super) fn router_knows(&self, id: &str) -> bool {
        self.0.table.contains(id) || self.catalog().iter().any(|f| f.row.id == id)
    }

    fn router_view(&self, id: &str, details: Details) -> ModelView {
        let aliases = self.0.table.get(id).aliases;
        ModelView {
            id: id.to_string(),
            source: ModelKind::Router,
            details,
            live: self.router_live(id),
            rss_bytes: None,
            aliases,
        }
    }

    pub(super) fn router_live(&self, id: &str) -> Live {
        let live = self.0.table.get(id);
        let ttl_sec = self.router_ttl(id);
        let activity = &self.0.parts.activity;
        let loaded_since = (live.status == ModelStatus::Loaded).then_some(live.since);
        let pinned = self.router_pinned(id);
        let unload_at =
            idle::unload_at(ttl_sec, loaded_since, activity.last_active(id), activity.busy(id)).filter(|_| !pinned);
        Live { status: live.status, progress: live.progress, error: live.error, ttl_sec, unload_at, pinned }
    }

    /// The model's own TTL, else `models.idleTimeoutSec`; 0 means never unload.
    fn router_ttl(&self, id: &str) -> i64 {
        if let Some(asked) = self.0.asked.get(id) {
            return asked;
        }
        let own = self.0.ttls.read().ok().and_then(|m| m.get(id).copied());
        own.unwrap_or_else(|| self.config().models.idle_timeout_sec)
    }

    /// Asks the router to load or unload `id`. Returns at once: progress and the final state arrive as
    /// `models:status`.
    pub(super) async fn router_request(&self, id: &str, action: Action, actor: &str) -> Result<Ack, ModelError> {
        let upstream = self.0.parts.router.upstream();
        let upstream = upstream
            .ok_or_else(|| ModelError::Router("the llama-server router is not running; start it first".into()))?;
        let (path, event, status) = match action {
            Action::Load => ("load", "load_requested", ModelStatus::Loading),
            Action::Unload => ("unload", "unload_requested", ModelStatus::Unloading),
        };
        self.record(NewModelEvent { model_id: id.into(), event, actor: Some(actor.into()), ..Default::default() })
            .await;
        let previous = self.0.table.get(id).status;
        // Marked before asking, so the router's own first report cannot overtake the request in the history.
        if let Some(t) = self.0.table.requested(id, status) {
            self.publish_transition(t, actor).await;
        }
        if let Err(err) = self.post(&upstream, path, id).await {
            if let Some(t) = self.0.table.requested(id, previous) {
                self.announce(&t);
            }
            let detail = Some(err.to_string());
            self.record(NewModelEvent { model_id: id.into(), event: "request_failed", detail, ..Default::default() })
                .await;
            return Err(err);
        }
        Ok(Ack { id: id.into(), status: self.0.table.get(id).status })
    }

    async fn post(&self, upstream: &crate::process::Upstream, path: &str, id: &str) -> Result<(), ModelError> {
        let sent = self.0.client.post_json(upstream, &format!("/models/{path}"), &json!({"model": id})).await;
        let response = sent.map_err(|e| ModelError::Router(format!("router did not answer: {e}")))?;
        if response.status.is_success() {
            return Ok(());
        }
        let code = response.status.as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let message = body["error"]["message"].as_str().unwrap_or("no message").to_string();
        Err(ModelError::Router(format!("router refused to {path} '{id}' ({code}): {message}")))
    }

    pub(super) async fn router_reset(&self, id: &str) {
        if let Ok(mut crashes) = self.0.crashes.lock() {
            crashes.remove(id);
        }
        if self.0.table.get(id).status == ModelStatus::Error
            && let Some(t) = self.0.table.requested(id, ModelStatus::Unloaded)
        {
            self.publish_transition(t, "socket").await;
        }
    }

    /// A model whose process crashed (or failed to load) is started again by the next request that names
    /// it (the router loads it on demand), but not before its backoff passed: a model that crashes at once
    /// is not restarted on every request.
    pub(super) fn router_crash_backoff(&self, id: &str) -> Result<(), ModelError> {
        let Ok(crashes) = self.0.crashes.lock() else { return Ok(()) };
        let Some(backoff) = crashes.get(id) else { return Ok(()) };
        let now = std::time::Instant::now();
        if backoff.passed(now) || self.0.table.get(id).status != ModelStatus::Error {
            return Ok(());
        }
        Err(ModelError::Router(format!(
            "model '{id}' crashed {} time(s) in a row; it is started again by a request after {} s (backoff), or at once after models:reset",
            backoff.crashes(),
            backoff.delay().as_secs()
        )))
    }

    /// A crash or failed load: counted for the backoff, and its last output added to the stored detail.
    fn crash_detail(&self, t: &Transition) -> Option<String> {
        if let Ok(mut crashes) = self.0.crashes.lock() {
            crashes.entry(t.id.clone()).or_default().record_crash(std::time::Instant::now(), t.loaded_for);
        }
        let lines = self.0.parts.router.model_lines(&t.id);
        match (&t.error, lines.is_empty()) {
            (Some(error), false) => Some(format!("{error}; last output: {}", lines.join(" | "))),
            (error, _) => error.clone(),
        }
    }

    /// Stores the transition as a lifecycle event and publishes it.
    pub(super) async fn publish_transition(&self, t: Transition, actor: &str) {
        if let Some(event) = router_event(t.from, t.to) {
            // Reported by the router while it runs: the model's own process died (not the router with it).
            let failed = t.to == ModelStatus::Error && actor == "router" && self.0.parts.router.status().running();
            let detail = if failed { self.crash_detail(&t) } else { t.error.clone() };
            let status = serde_json::to_value(t.to).ok().and_then(|v| v.as_str().map(str::to_string));
            let e = NewModelEvent {
                model_id: t.id.clone(),
                event,
                status,
                actor: Some(actor.into()),
                detail,
                duration_ms: t.duration_ms,
                exit_code: t.exit_code,
            };
            self.record(e).await;
            match t.duration_ms {
                Some(ms) => tracing::info!(model = %t.id, event, "model {event} after {ms} ms"),
                None => tracing::info!(model = %t.id, event, "model {event}"),
            }
        }
        if t.to == ModelStatus::Loaded {
            if let Err(err) = self.0.parts.db.touch_model(t.id.clone()).await {
                tracing::warn!(error = %err, "lastUsed not stored");
            }
            self.touch_file(&t.id);
        }
        self.announce(&t);
    }

    /// Publishes `models:status`, and `models:updated` when a model settled.
    fn announce(&self, t: &Transition) {
        let live = Live { progress: t.progress, error: t.error.clone(), ..self.router_live(&t.id) };
        let live = Live { status: t.to, ..live };
        self.publish_update(&super::StatusUpdate { id: t.id.clone(), live, source: ModelKind::Router });
        if t.from != t.to && t.to.settled() {
            self.publish_list();
        }
    }

    /// `lastUsed` in memory too, so the list needs no database read.
    fn touch_file(&self, id: &str) {
        if let Ok(mut files) = self.0.files.write()
            && let Some(file) = Arc::make_mut(&mut files).iter_mut().find(|f| f.row.id == id)
        {
            let mut row = file.row.clone();
            row.last_used = Some(crate::core::clock::now_ms());
            *file = super::listing::CatalogFile::from(row);
        }
    }

    /// Stores a lifecycle event; a model that unloaded (or failed) forgets the TTL a request asked for.
    pub(super) async fn record(&self, event: NewModelEvent) {
        if matches!(event.status.as_deref(), Some("unloaded" | "error")) {
            self.0.asked.forget(&event.model_id);
        }
        if let Err(err) = self.0.parts.db.insert_model_event(event).await {
            tracing::warn!(error = %err, "lifecycle event not stored");
        }
    }

    /// Every router-mode model not unloaded becomes unloaded (or failed, when the router died).
    pub(super) async fn router_stopped(&self, reason: Option<&str>) {
        for t in self.0.table.reset_all(reason) {
            self.publish_transition(t, "router").await;
        }
    }

    pub(super) fn router_table(&self) -> &LiveTable {
        &self.0.table
    }
}
