//! The one owner of "which models exist, in what state, and how to reach them", for every kind
//! ([`ModelKind`]): router-mode models (files of `models.directory` and presets, loaded by llama.cpp's
//! router) and our own backends (`backends.models`). Callers get typed [`ModelView`]s and never ask
//! which kind a model is; every change is published on the bus as `models:status` / `models:updated`.
//!
//! The list is answered from memory: the stored catalog is read into memory at start and after each
//! scan ([`watch_dirs`] rescans when the model directories change), and statuses come from the router's live
//! table and the backends manager.

mod backend;
mod backend_events;
mod error;
pub mod idle;
mod keep_alive;
mod kind;
mod listing;
mod plan;
mod resolve;
pub mod router;
mod scan;
mod status;
mod view;
pub mod watch_dirs;

pub use backend_events::follow as follow_backends;
pub use error::ModelError;
pub use kind::ModelKind;
pub use listing::Listed;
pub use plan::{Fit, FitVerdict, LoadPlan};
pub use resolve::Route;
pub use router::Action;
pub use scan::ScanCounts;
pub use status::ModelStatus;
pub use view::{Details, Live, ModelView, StatusUpdate, to_json};

use crate::backends::{BackendsHandle, MetadataCache};
use crate::config::SharedConfig;
use crate::core::activity::Gates;
use crate::core::bus::{Bus, LiveEvent};
use crate::db::{Db, ModelRow};
use crate::metrics::Sample;
use crate::supervisor::RouterHandle;
use router::LiveTable;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::watch;

/// What the model service reads but does not own.
pub struct Parts {
    pub config: SharedConfig,
    pub db: Db,
    pub bus: Bus,
    pub activity: Gates,
    pub router: RouterHandle,
    pub backends: BackendsHandle,
    pub metadata: MetadataCache,
    /// The latest system sample (free memory for the backends' estimates).
    pub latest: watch::Receiver<Option<Sample>>,
}

/// Cheap to clone; lives in `AppState` and in the tasks that follow the router and the backends.
#[derive(Clone)]
pub struct Models(Arc<Inner>);

struct Inner {
    parts: Parts,
    /// Router-mode models as the router reports them.
    table: LiveTable,
    /// For the router's `/models` API.
    client: crate::process::Loopback,
    /// Router-mode models' own idle TTLs (seconds), mirrored from SQLite.
    ttls: RwLock<HashMap<String, i64>>,
    /// Router-mode loads deciding which model makes room for them.
    room: router::Room,
    /// Router-mode models the user pinned, mirrored from SQLite.
    pins: RwLock<std::collections::HashSet<String>>,
    /// TTLs requests asked for, until the model unloads.
    asked: keep_alive::Asked,
    /// The stored catalog of `models.directory`.
    files: RwLock<Arc<Vec<listing::CatalogFile>>>,
    /// Router-mode models whose process crashed or failed to load: the next start waits for its backoff.
    crashes: std::sync::Mutex<HashMap<String, crate::process::restart::Backoff>>,
    /// One scan at a time (two would race on the database and the init file).
    scanning: tokio::sync::Mutex<()>,
}

/// What `models:load` / `models:unload` answer at once: `{id, status}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Ack {
    pub id: String,
    pub status: ModelStatus,
}

impl Models {
    pub fn new(parts: Parts) -> Self {
        // No overall timeout: the router's status stream stays open.
        let client = crate::process::Loopback::new(Duration::from_secs(2), None);
        Self(Arc::new(Inner {
            parts,
            table: LiveTable::default(),
            client,
            ttls: RwLock::default(),
            pins: RwLock::default(),
            room: router::Room::default(),
            asked: keep_alive::Asked::default(),
            files: RwLock::default(),
            crashes: std::sync::Mutex::default(),
            scanning: tokio::sync::Mutex::new(()),
        }))
    }

    /// Reads the stored catalog and the per-model TTLs into memory.
    pub async fn load_stored(&self) -> Result<(), ModelError> {
        let rows = self.0.parts.db.list_models().await?;
        self.set_files(rows);
        let ttls = self.0.parts.db.model_ttls().await?;
        if let Ok(mut map) = self.0.ttls.write() {
            *map = ttls;
        }
        let pins = self.0.parts.db.pinned_models().await?;
        if let Ok(mut set) = self.0.pins.write() {
            *set = pins;
        }
        Ok(())
    }

    /// Pins or unpins a router-mode model (stored); own backends keep `pinned` in `backends.models`.
    pub async fn set_router_pinned(&self, id: &str, pinned: bool) -> Result<(), ModelError> {
        self.0.parts.db.set_model_pinned(id.to_string(), pinned).await?;
        if let Ok(mut set) = self.0.pins.write() {
            if pinned {
                set.insert(id.to_string());
            } else {
                set.remove(id);
            }
        }
        Ok(())
    }

    fn router_pinned(&self, id: &str) -> bool {
        self.0.pins.read().is_ok_and(|set| set.contains(id))
    }

    /// Every model of every kind: the catalog's files (sorted by id), presets only the router knows,
    /// then `backends.models` in their configured order.
    pub fn list(&self) -> Vec<ModelView> {
        let mut views = self.router_views();
        views.extend(self.backend_views());
        views
    }

    /// The model with this id.
    pub fn get(&self, id: &str) -> Option<ModelView> {
        if let Some(view) = self.backend_view_of(id) {
            return Some(view);
        }
        self.router_view_of(id)
    }

    /// The model with this id or alias.
    pub fn find(&self, name: &str) -> Option<ModelView> {
        self.get(name).or_else(|| self.list().into_iter().find(|m| m.aliases.iter().any(|a| a == name)))
    }

    pub fn kind_of(&self, id: &str) -> Option<ModelKind> {
        if self.0.parts.config.config().backends.model(id).is_some() {
            return Some(ModelKind::Backend);
        }
        self.router_knows(id).then_some(ModelKind::Router)
    }

    /// Starts loading; progress and the end arrive as `models:status`. A name no kind knows yet is asked
    /// of the router (its presets are known only once it reported them).
    pub async fn load(&self, id: &str, actor: &'static str) -> Result<Ack, ModelError> {
        match self.kind_of(id).unwrap_or(ModelKind::Router) {
            ModelKind::Router => {
                self.make_router_room(id).await?;
                self.router_request(id, Action::Load, actor).await
            }
            ModelKind::Backend => self.backend_load(id, actor).await,
        }
    }

    /// Starts unloading (own backends after their requests in flight); the end arrives as `models:status`.
    pub async fn unload(&self, id: &str, actor: &'static str) -> Result<Ack, ModelError> {
        match self.kind_of(id).unwrap_or(ModelKind::Router) {
            ModelKind::Router => self.router_request(id, Action::Unload, actor).await,
            ModelKind::Backend => {
                self.0.parts.backends.stop(id, actor).await?;
                Ok(Ack { id: id.into(), status: ModelStatus::Unloading })
            }
        }
    }

    /// An `error` state back to `unloaded` (an own backend's crash backoff is cleared too).
    pub async fn reset(&self, id: &str) -> Result<Ack, ModelError> {
        match self.kind_of(id).ok_or_else(|| ModelError::NotFound(id.into()))? {
            ModelKind::Backend => self.0.parts.backends.reset(id).await?,
            ModelKind::Router => self.router_reset(id).await,
        }
        let status = self.get(id).map_or(ModelStatus::Unloaded, |m| m.live.status);
        Ok(Ack { id: id.into(), status })
    }

    /// Asks every running own backend to stop (each after its requests in flight); the ids asked.
    pub async fn stop_backends(&self, reason: &'static str) -> Result<Vec<String>, ModelError> {
        Ok(self.0.parts.backends.stop_all(reason).await?)
    }

    /// A router-mode model's idle TTL in seconds (`None`: back to `models.idleTimeoutSec`), stored.
    pub async fn set_ttl(&self, id: &str, ttl_sec: Option<i64>) -> Result<(), ModelError> {
        self.0.parts.db.set_model_ttl(id.to_string(), ttl_sec).await?;
        self.forget_keep_alive(id);
        if let Ok(mut map) = self.0.ttls.write() {
            match ttl_sec {
                Some(ttl) => map.insert(id.to_string(), ttl),
                None => map.remove(id),
            };
        }
        Ok(())
    }

    /// Broadcasts the whole list (`models:updated`).
    pub fn publish_list(&self) {
        let models = view::to_json(&self.list());
        self.0.parts.bus.publish(LiveEvent::ModelsUpdated(json!({"models": models})));
    }

    /// Re-sends a model's status (after a `/v1` request moved its unload time).
    pub fn publish_status(&self, id: &str) {
        if let Some(view) = self.get(id) {
            self.publish_update(&view.status_update());
        }
    }

    fn publish_update(&self, update: &StatusUpdate) {
        let data = serde_json::to_value(update).unwrap_or_default();
        self.0.parts.bus.publish(LiveEvent::ModelsStatus(data));
    }

    fn set_files(&self, rows: Vec<ModelRow>) {
        let catalog = Arc::new(rows.into_iter().map(listing::CatalogFile::from).collect());
        if let Ok(mut files) = self.0.files.write() {
            *files = catalog;
        }
    }

    /// The stored catalog as last read (shared: a scan replaces it whole).
    fn catalog(&self) -> Arc<Vec<listing::CatalogFile>> {
        self.0.files.read().map(|f| f.clone()).unwrap_or_default()
    }

    fn config(&self) -> Arc<crate::config::Config> {
        self.0.parts.config.config()
    }
}
