//! One status vocabulary for every kind of model, and the one table that says which lifecycle event a
//! change is stored as (`model_events`, shown on the Models page).

use crate::backends::{BackendState, BackendStatus};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelStatus {
    Unloaded,
    Loading,
    Loaded,
    Unloading,
    Error,
}

impl ModelStatus {
    /// llama.cpp's router's word for it (its `status.value`), for clients written for that router: a
    /// failed model is `unloaded` there (with `failed: true` beside it); `unloading` has no word of
    /// its own there and keeps ours, which such clients show as neither loaded nor unloaded.
    pub fn llamacpp(self) -> &'static str {
        match self {
            Self::Unloaded | Self::Error => "unloaded",
            Self::Loading => "loading",
            Self::Loaded => "loaded",
            Self::Unloading => "unloading",
        }
    }

    /// Loaded, unloaded or failed: a change to one of these is announced with the whole list.
    pub fn settled(self) -> bool {
        !matches!(self, Self::Loading | Self::Unloading)
    }
}

impl From<BackendState> for ModelStatus {
    fn from(state: BackendState) -> Self {
        match state {
            BackendState::Stopped => Self::Unloaded,
            BackendState::Starting => Self::Loading,
            BackendState::Ready => Self::Loaded,
            BackendState::Stopping => Self::Unloading,
            BackendState::Error => Self::Error,
        }
    }
}

/// The event stored for a router-mode model moving `from` -> `to` (none for progress within a load).
pub fn router_event(from: ModelStatus, to: ModelStatus) -> Option<&'static str> {
    match (from, to) {
        (_, ModelStatus::Loading) if from != ModelStatus::Loading => Some("loading"),
        (_, ModelStatus::Loaded) => Some("loaded"),
        (_, ModelStatus::Unloaded) => Some("unloaded"),
        (ModelStatus::Loading, ModelStatus::Error) => Some("load_failed"),
        (_, ModelStatus::Error) => Some("crashed"),
        _ => None,
    }
}

/// The event stored for an own backend that reached `now`. Its statuses are followed through a watch
/// channel, which may skip a short-lived state, so the event is told by the state reached and its reason.
pub fn backend_event(now: &BackendStatus) -> &'static str {
    match (now.state, now.reason.as_deref()) {
        (BackendState::Starting, _) => "loading",
        (BackendState::Ready, _) => "loaded",
        (BackendState::Stopping, _) => "unload_requested",
        (BackendState::Stopped, _) => "unloaded",
        (BackendState::Error, Some("crash")) => "crashed",
        (BackendState::Error, Some("memory")) => "load_refused",
        (BackendState::Error, Some("crash loop")) => "crash_loop",
        (BackendState::Error, _) => "load_failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_within_a_load_is_not_an_event_but_every_settling_is() {
        assert_eq!(router_event(ModelStatus::Loading, ModelStatus::Loading), None);
        assert_eq!(router_event(ModelStatus::Unloaded, ModelStatus::Loading), Some("loading"));
        assert_eq!(router_event(ModelStatus::Loading, ModelStatus::Error), Some("load_failed"));
        assert_eq!(router_event(ModelStatus::Loaded, ModelStatus::Error), Some("crashed"));
        assert_eq!(router_event(ModelStatus::Loaded, ModelStatus::Unloading), None);
    }

    #[test]
    fn both_kinds_speak_the_same_vocabulary() {
        let wire = |s: ModelStatus| serde_json::to_value(s).unwrap();
        assert_eq!(wire(BackendState::Ready.into()), "loaded");
        assert_eq!(wire(BackendState::Stopped.into()), "unloaded");
        assert_eq!(wire(BackendState::Stopping.into()), "unloading");
        assert!(!ModelStatus::from(BackendState::Starting).settled());
    }
}
