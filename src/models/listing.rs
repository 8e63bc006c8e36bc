//! `models:list` without building the list per call: each catalog file's descriptive fields are
//! serialized once, when the catalog is read or a file changes ([`Fixed`]), and a call only adds the
//! live fields. The result serializes to exactly what `to_json(&list())` gives (a test holds them
//! together).

use super::kind::ModelKind;
use super::view::{Live, ModelView, PresetDetails};
use super::{ModelStatus, Models};
use crate::db::ModelRow;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;
use std::sync::{Arc, LazyLock};

/// A model's members that change only with its file or its config, each value already serialized.
#[derive(Debug, Default)]
pub struct Fixed(Vec<(String, Box<RawValue>)>);

impl Fixed {
    pub fn of(details: &impl Serialize) -> Self {
        let Ok(serde_json::Value::Object(members)) = serde_json::to_value(details) else { return Self::default() };
        Self(members.into_iter().filter_map(|(k, v)| Some((k, serde_json::value::to_raw_value(&v).ok()?))).collect())
    }
}

/// A file of the catalog as the list shows it.
#[derive(Debug, Clone)]
pub struct CatalogFile {
    pub row: ModelRow,
    pub fixed: Arc<Fixed>,
}

impl From<ModelRow> for CatalogFile {
    fn from(row: ModelRow) -> Self {
        let fixed = Arc::new(Fixed::of(&super::view::FileDetails::from(&row)));
        Self { row, fixed }
    }
}

static PRESET: LazyLock<Arc<Fixed>> = LazyLock::new(|| Arc::new(Fixed::of(&PresetDetails::new())));

/// One model of `models:list`: a `ModelView` on the wire.
pub struct Listed {
    id: String,
    source: ModelKind,
    fixed: Arc<Fixed>,
    live: Live,
    rss_bytes: Option<u64>,
}

impl Serialize for Listed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("source", &self.source)?;
        for (key, value) in &self.fixed.0 {
            map.serialize_entry(key, value)?;
        }
        let live = &self.live;
        map.serialize_entry("status", &live.status)?;
        map.serialize_entry("progress", &live.progress)?;
        map.serialize_entry("error", &live.error)?;
        map.serialize_entry("ttlSec", &live.ttl_sec)?;
        map.serialize_entry("unloadAt", &live.unload_at)?;
        map.serialize_entry("pinned", &live.pinned)?;
        map.serialize_entry("rssBytes", &self.rss_bytes)?;
        map.end()
    }
}

impl From<ModelView> for Listed {
    fn from(view: ModelView) -> Self {
        let fixed = Arc::new(Fixed::of(&view.details));
        Self { id: view.id, source: view.source, fixed, live: view.live, rss_bytes: view.rss_bytes }
    }
}

impl Models {
    /// What `list()` returns, in the same order, ready to serialize.
    pub fn listing(&self) -> Vec<Listed> {
        let files = self.catalog();
        let presets = self.presets_only(&files).into_iter();
        let mut listed: Vec<Listed> = files
            .iter()
            .map(|f| (f.row.id.clone(), f.fixed.clone()))
            .chain(presets.map(|id| (id, PRESET.clone())))
            .map(|(id, fixed)| Listed {
                live: self.router_live(&id),
                id,
                source: ModelKind::Router,
                fixed,
                rss_bytes: None,
            })
            .collect();
        self.add_listed_rss(&mut listed);
        listed.extend(self.backend_views().into_iter().map(Listed::from));
        listed
    }

    fn add_listed_rss(&self, listed: &mut [Listed]) {
        let any_loaded = listed.iter().any(|m| m.live.status == ModelStatus::Loaded);
        let Some(rss_of) = self.children_rss(any_loaded) else { return };
        for model in listed {
            model.rss_bytes = rss_of(&model.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::view::{Details, FileDetails};

    fn row(id: &str) -> ModelRow {
        ModelRow {
            id: id.into(),
            path: format!("/m/{id}.gguf"),
            size_bytes: 42,
            architecture: Some("llama".into()),
            metadata: Some(r#"{"general.name":"x \"quoted\"","n":[1,2]}"#.into()),
            state: "auto".into(),
            ..Default::default()
        }
    }

    fn live() -> Live {
        Live {
            status: ModelStatus::Loaded,
            progress: Some(0.5),
            error: Some("e".into()),
            ttl_sec: 3,
            unload_at: None,
            pinned: false,
        }
    }

    #[test]
    fn a_listed_model_serializes_exactly_like_its_view() {
        let file = CatalogFile::from(row("a"));
        let listed = Listed {
            id: "a".into(),
            source: ModelKind::Router,
            fixed: file.fixed.clone(),
            live: live(),
            rss_bytes: Some(7),
        };
        let view = ModelView {
            id: "a".into(),
            source: ModelKind::Router,
            details: Details::File(FileDetails::from(&file.row)),
            live: live(),
            rss_bytes: Some(7),
            aliases: vec![],
        };
        assert_eq!(serde_json::to_value(&listed).unwrap(), view.to_json());
        let preset = ModelView { details: Details::Preset(PresetDetails::new()), ..view };
        assert_eq!(serde_json::to_value(Listed::from(preset.clone())).unwrap(), preset.to_json());
    }
}
