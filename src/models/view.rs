//! Models as the contract's Model objects (`models:list`, `snapshot`, `models:updated`) and the
//! `models:status` payload, for every kind. Typed here, serialized to exactly today's wire shape.

use super::kind::ModelKind;
use super::status::ModelStatus;
use crate::config::ModelOrigin;
use crate::db::ModelRow;
use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelView {
    pub id: String,
    pub source: ModelKind,
    #[serde(flatten)]
    pub details: Details,
    #[serde(flatten)]
    pub live: Live,
    pub rss_bytes: Option<u64>,
    /// Other names requests may use (router presets' aliases, or the backend's `aliases`).
    #[serde(skip)]
    pub aliases: Vec<String>,
}

/// What changes while a model runs: the fields of `models:status`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Live {
    pub status: ModelStatus,
    /// 0..1 while the router loads it.
    pub progress: Option<f64>,
    pub error: Option<String>,
    /// Idle seconds before it is unloaded (0 = never).
    pub ttl_sec: i64,
    /// When it will be unloaded if nothing uses it (ms since the epoch); `None` while busy, not loaded
    /// or pinned.
    pub unload_at: Option<i64>,
    /// Never evicted nor unloaded for being idle.
    pub pinned: bool,
}

/// `models:status`: `{id, status, progress, error, ttlSec, unloadAt}`, plus `source:"backend"` for own backends.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusUpdate {
    pub id: String,
    #[serde(flatten)]
    pub live: Live,
    #[serde(skip_serializing_if = "is_router")]
    pub source: ModelKind,
}

fn is_router(kind: &ModelKind) -> bool {
    *kind == ModelKind::Router
}

/// The descriptive fields, by where the model comes from.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Details {
    /// A GGUF file in `models.directory`, as the last scan stored it.
    File(FileDetails),
    /// A model only the router knows (a section of `--models-preset` that is not a file of ours).
    Preset(PresetDetails),
    Backend(BackendDetails),
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileDetails {
    pub path: String,
    pub size_bytes: i64,
    pub architecture: Option<String>,
    pub parameters: Option<i64>,
    pub quantization: Option<String>,
    pub context_length: Option<i64>,
    pub group: Option<String>,
    pub state: String,
    pub last_used: Option<i64>,
    pub modified_at: Option<i64>,
    pub metadata: Option<Value>,
    pub metadata_error: Option<String>,
    pub projector: Option<String>,
}

impl From<&ModelRow> for FileDetails {
    fn from(row: &ModelRow) -> Self {
        Self {
            path: row.path.clone(),
            size_bytes: row.size_bytes,
            architecture: row.architecture.clone(),
            parameters: row.parameters,
            quantization: row.quantization.clone(),
            context_length: row.context_length,
            group: row.group.clone(),
            state: row.state.clone(),
            last_used: row.last_used,
            modified_at: row.modified_at,
            metadata: row.metadata.as_deref().and_then(|m| serde_json::from_str(m).ok()),
            metadata_error: row.metadata_error.clone(),
            projector: row.projector.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PresetDetails {
    pub path: Option<String>,
    pub state: &'static str,
    pub preset: bool,
}

impl PresetDetails {
    pub fn new() -> Self {
        Self { path: None, state: "auto", preset: true }
    }
}

impl Default for PresetDetails {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendDetails {
    pub path: String,
    pub state: ModelOrigin,
    pub group: String,
    pub aliases: Vec<String>,
    pub mmproj: Option<String>,
    pub exit_code: Option<i32>,
    pub last_lines: Vec<String>,
    pub port: Option<u16>,
    pub reason: Option<String>,
    /// `sizeBytes`, `architecture`, `parameters`, `quantization`, `contextLength`, `metadata`,
    /// `metadataError`: what the file's GGUF header says (empty until it was read).
    #[serde(flatten)]
    pub gguf: Map<String, Value>,
    /// The memory estimate (`memory::Need` plus `freeBytes`), `null` when unknown.
    pub memory: Value,
}

impl ModelView {
    pub fn status_update(&self) -> StatusUpdate {
        StatusUpdate { id: self.id.clone(), live: self.live.clone(), source: self.source }
    }

    /// When its file last changed (ms), for `/v1/models`' `created`.
    pub fn modified_at(&self) -> Option<i64> {
        match &self.details {
            Details::File(f) => f.modified_at,
            _ => None,
        }
    }

    /// A GGUF fact by its wire name (`architecture`, `sizeBytes`, ...), for `/v1/models`' `meta`.
    pub fn fact(&self, key: &str) -> Value {
        match &self.details {
            Details::File(f) => serde_json::to_value(f).ok().and_then(|v| v.get(key).cloned()).unwrap_or(Value::Null),
            Details::Backend(b) => b.gguf.get(key).cloned().unwrap_or(Value::Null),
            Details::Preset(_) => Value::Null,
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// A list of models as the wire carries it.
pub fn to_json(models: &[ModelView]) -> Value {
    Value::Array(models.iter().map(ModelView::to_json).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live() -> Live {
        Live {
            status: ModelStatus::Loaded,
            progress: None,
            error: None,
            ttl_sec: 300,
            unload_at: Some(7),
            pinned: false,
        }
    }

    #[test]
    fn a_preset_serializes_like_the_contracts_model() {
        let view = ModelView {
            id: "p".into(),
            source: ModelKind::Router,
            details: Details::Preset(PresetDetails::new()),
            live: live(),
            rss_bytes: None,
            aliases: vec!["x".into()],
        };
        let json = view.to_json();
        assert_eq!(json["source"], "router");
        assert_eq!(json["preset"], true);
        assert_eq!(json["state"], "auto");
        assert!(json["path"].is_null() && json.get("path").is_some());
        assert_eq!(
            (json["status"].clone(), json["ttlSec"].clone(), json["unloadAt"].clone()),
            ("loaded".into(), 300.into(), 7.into())
        );
        assert!(json.get("aliases").is_none(), "router aliases are not a Model field");
    }

    #[test]
    fn status_updates_name_the_source_only_for_own_backends() {
        let router = StatusUpdate { id: "a".into(), live: live(), source: ModelKind::Router };
        assert!(serde_json::to_value(&router).unwrap().get("source").is_none());
        let backend = StatusUpdate { source: ModelKind::Backend, ..router };
        assert_eq!(serde_json::to_value(&backend).unwrap()["source"], "backend");
    }
}
