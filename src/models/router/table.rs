//! The live status of router-mode models, as the router reports it, with the transitions we record.
//! Only the follower task and the load/unload requests write here.

use crate::models::ModelStatus;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct LiveModel {
    pub status: ModelStatus,
    pub progress: Option<f64>,
    pub error: Option<String>,
    /// When the current load or unload began (for durations).
    pub since: Instant,
    pub unload_requested: bool,
    /// Other names the router answers to (`aliases` of `/models`, from presets).
    pub aliases: Vec<String>,
    /// The loopback port of the model's own llama-server while it is loaded (the router reports it in
    /// `/models` → `status.args`); forgotten on any other status.
    pub port: Option<u16>,
}

impl Default for LiveModel {
    fn default() -> Self {
        Self {
            status: ModelStatus::Unloaded,
            progress: None,
            error: None,
            since: Instant::now(),
            unload_requested: false,
            aliases: Vec::new(),
            port: None,
        }
    }
}

/// What a status report changed, for the event log and the broadcasts.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub id: String,
    pub from: ModelStatus,
    pub to: ModelStatus,
    pub progress: Option<f64>,
    pub error: Option<String>,
    pub duration_ms: Option<i64>,
    pub exit_code: Option<i64>,
    /// How long it had been loaded, when it was (for the crash backoff's stable-run rule).
    pub loaded_for: Option<std::time::Duration>,
}

#[derive(Clone, Default)]
pub struct LiveTable(Arc<RwLock<HashMap<String, LiveModel>>>);

impl LiveTable {
    pub fn get(&self, id: &str) -> LiveModel {
        self.0.read().ok().and_then(|t| t.get(id).cloned()).unwrap_or_default()
    }

    /// Every model the router has reported (presets from `--models-preset` included).
    pub fn ids(&self) -> Vec<String> {
        self.0.read().map(|t| t.keys().cloned().collect()).unwrap_or_default()
    }

    pub fn contains(&self, id: &str) -> bool {
        self.0.read().is_ok_and(|t| t.contains_key(id))
    }

    /// The id of the model that has `alias` among its aliases.
    pub fn id_for_alias(&self, alias: &str) -> Option<String> {
        let table = self.0.read().ok()?;
        table.iter().find(|(_, m)| m.aliases.iter().any(|a| a == alias)).map(|(id, _)| id.clone())
    }

    /// Forgets the models the router no longer lists (after it read its models directory again).
    pub fn keep_only(&self, listed: &[String]) {
        if let Ok(mut table) = self.0.write() {
            table.retain(|id, _| listed.contains(id));
        }
    }

    /// How many models the router reported.
    pub fn count(&self) -> usize {
        self.0.read().map(|t| t.len()).unwrap_or(0)
    }

    /// The port of `id`'s own process, while it is loaded.
    pub fn port(&self, id: &str) -> Option<u16> {
        let table = self.0.read().ok()?;
        table.get(id).filter(|m| m.status == ModelStatus::Loaded).and_then(|m| m.port)
    }

    /// Records where a loaded model's process answers; ignored unless it is loaded.
    pub fn set_port(&self, id: &str, port: u16) {
        if let Ok(mut table) = self.0.write()
            && let Some(model) = table.get_mut(id).filter(|m| m.status == ModelStatus::Loaded)
        {
            model.port = Some(port);
        }
    }

    /// Forgets `port` for `id` (the process did not answer there), unless a newer one was learnt.
    pub fn forget_port(&self, id: &str, port: u16) {
        if let Ok(mut table) = self.0.write()
            && let Some(model) = table.get_mut(id).filter(|m| m.port == Some(port))
        {
            model.port = None;
        }
    }

    pub fn set_aliases(&self, id: &str, aliases: Vec<String>) {
        if let Ok(mut table) = self.0.write() {
            table.entry(id.to_string()).or_default().aliases = aliases;
        }
    }

    /// Marks a request we made (loading / unloading) before the router confirms it.
    pub fn requested(&self, id: &str, status: ModelStatus) -> Option<Transition> {
        self.set(id, status, None, None)
    }

    /// Applies a router report. `exit_code` comes with `unloaded`: non-zero without our asking is a crash.
    pub fn report(
        &self,
        id: &str,
        reported: &str,
        progress: Option<f64>,
        exit_code: Option<i64>,
    ) -> Option<Transition> {
        let current = self.get(id);
        let (status, error) = match reported {
            "loading" => (ModelStatus::Loading, None),
            "loaded" => (ModelStatus::Loaded, None),
            "unloaded" if exit_code.unwrap_or(0) != 0 && !current.unload_requested => {
                (ModelStatus::Error, Some(format!("model process exited with code {}", exit_code.unwrap_or(-1))))
            }
            "unloaded" => (ModelStatus::Unloaded, None),
            other => (ModelStatus::Error, Some(format!("router reported status '{other}'"))),
        };
        let mut t = self.set(id, status, progress, error)?;
        t.exit_code = exit_code;
        Some(t)
    }

    /// Everything not unloaded becomes unloaded (the router stopped: its children died with it).
    pub fn reset_all(&self, error: Option<&str>) -> Vec<Transition> {
        let ids = self.ids();
        let next = if error.is_some() { ModelStatus::Error } else { ModelStatus::Unloaded };
        ids.iter()
            .filter(|id| {
                matches!(self.get(id).status, ModelStatus::Loading | ModelStatus::Loaded | ModelStatus::Unloading)
            })
            .filter_map(|id| self.set(id, next, None, error.map(str::to_string)))
            .collect()
    }

    fn set(&self, id: &str, status: ModelStatus, progress: Option<f64>, error: Option<String>) -> Option<Transition> {
        let mut table = self.0.write().ok()?;
        let entry = table.entry(id.to_string()).or_default();
        let from = entry.status;
        if from == status && entry.progress == progress {
            return None;
        }
        let finished = from != status && matches!(from, ModelStatus::Loading | ModelStatus::Unloading);
        let duration_ms = finished.then(|| entry.since.elapsed().as_millis() as i64);
        let loaded_for = (from == ModelStatus::Loaded && status != from).then(|| entry.since.elapsed());
        if from != status {
            entry.since = Instant::now();
            entry.unload_requested =
                status == ModelStatus::Unloading || (entry.unload_requested && status != ModelStatus::Loading);
        }
        if status != ModelStatus::Loaded {
            entry.port = None;
        }
        entry.status = status;
        entry.progress = progress;
        entry.error = error.clone();
        Some(Transition {
            id: id.to_string(),
            from,
            to: status,
            progress,
            error,
            duration_ms,
            exit_code: None,
            loaded_for,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_goes_through_progress_to_loaded_with_a_duration() {
        let t = LiveTable::default();
        assert_eq!(t.requested("m", ModelStatus::Loading).map(|x| x.to), Some(ModelStatus::Loading));
        let p = t.report("m", "loading", Some(0.5), None).unwrap();
        assert_eq!((p.to, p.progress), (ModelStatus::Loading, Some(0.5)));
        assert!(t.report("m", "loading", Some(0.5), None).is_none(), "repeats are not transitions");
        let done = t.report("m", "loaded", None, None).unwrap();
        assert_eq!(done.to, ModelStatus::Loaded);
        assert!(done.duration_ms.is_some());
    }

    #[test]
    fn an_exit_nobody_asked_for_is_an_error_but_a_requested_unload_is_not() {
        let t = LiveTable::default();
        t.report("a", "loaded", None, None);
        let crash = t.report("a", "unloaded", None, Some(139)).unwrap();
        assert_eq!(crash.to, ModelStatus::Error);
        assert!(crash.error.unwrap().contains("139"));

        t.report("b", "loaded", None, None);
        t.requested("b", ModelStatus::Unloading);
        let ok = t.report("b", "unloaded", None, Some(1)).unwrap();
        assert_eq!(ok.to, ModelStatus::Unloaded);
    }

    #[test]
    fn a_port_is_known_only_while_loaded() {
        let t = LiveTable::default();
        t.report("m", "loading", None, None);
        t.set_port("m", 4000);
        assert_eq!(t.port("m"), None, "not loaded yet: ignored");
        t.report("m", "loaded", None, None);
        t.set_port("m", 4001);
        assert_eq!(t.port("m"), Some(4001));
        t.forget_port("m", 4000);
        assert_eq!(t.port("m"), Some(4001), "an older port does not erase the newer one");
        t.report("m", "unloaded", None, None);
        assert_eq!(t.port("m"), None);
        t.report("m", "loaded", None, None);
        assert_eq!(t.port("m"), None, "a new process: its port must be learnt again");
        t.set_port("m", 4002);
        t.forget_port("m", 4002);
        assert_eq!(t.port("m"), None);
    }

    #[test]
    fn a_router_stop_resets_loaded_models() {
        let t = LiveTable::default();
        t.report("a", "loaded", None, None);
        t.report("b", "unloaded", None, None);
        let changed = t.reset_all(None);
        assert_eq!(changed.len(), 1);
        assert_eq!(t.get("a").status, ModelStatus::Unloaded);
    }
}
