//! `backends`: our own on-demand llama-server processes, one per model (the llama-router model).
//! For each model we run `command... --model PATH --port P --host 127.0.0.1`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct BackendsConfig {
    /// First port tried for a backend; each backend takes the next free one.
    pub base_port: u16,
    /// Forwarding to a backend: how long to wait for its connection, and for each read of its answer
    /// (not the whole answer: a long generation streams for as long as it takes).
    pub connection_timeout_sec: i64,
    pub read_timeout_sec: i64,
    /// Polled until it answers 200; a backend that does not within `startTimeoutSec` fails.
    pub health_endpoint: String,
    pub start_timeout_sec: i64,
    pub default_spawn: SpawnConfig,
    /// A backend with nothing in flight or queued for this long is stopped (0 = never); a model's `ttl` wins.
    pub idle_timeout_sec: i64,
    /// Most backends running at once (0 = no limit); the least recently used one makes room.
    pub max_running: i64,
    /// GGUF files in the Hugging Face cache (`$HF_HUB_CACHE`, `$HF_HOME/hub`, `~/.cache/huggingface/hub`)
    /// become `auto` models that come and go with their files.
    pub hf_discovery: bool,
    /// Directories `models:import` may read (besides `models.directory` and the Hugging Face cache).
    pub import_roots: Vec<String>,
    pub models: Vec<BackendModel>,
}

impl Default for BackendsConfig {
    fn default() -> Self {
        Self {
            base_port: 50_000,
            connection_timeout_sec: 5,
            read_timeout_sec: 600,
            health_endpoint: "/health".into(),
            start_timeout_sec: 300,
            default_spawn: SpawnConfig::default(),
            idle_timeout_sec: 300,
            max_running: 0,
            hf_discovery: true,
            import_roots: Vec::new(),
            models: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct SpawnConfig {
    /// Program and arguments; a bare `llama-server` is looked up like the router's binary.
    pub command: Vec<String>,
    /// Path prefixes forwarded to the backend; other `/v1` paths get 404.
    pub proxy_endpoints: Vec<String>,
}

impl Default for SpawnConfig {
    fn default() -> Self {
        Self {
            command: vec!["llama-server".into()],
            proxy_endpoints: ["/v1/", "/health", "/slots", "/props"].map(String::from).to_vec(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelOrigin {
    /// Found by discovery; removed when its file goes.
    Auto,
    /// Added by import or by hand; never removed automatically.
    #[default]
    Manual,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BackendModel {
    pub name: String,
    pub path: String,
    #[serde(default)]
    pub state: ModelOrigin,
    /// Models of one group may run together; asking for a model of another group stops them first.
    /// No group: the model is a group of its own.
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub spawn: Option<SpawnConfig>,
    /// Idle seconds before stop (0 = never); default `backends.idleTimeoutSec`.
    #[serde(default)]
    pub ttl: Option<i64>,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// A vision projector, passed as `--mmproj` (paired automatically by discovery and import).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mmproj: Option<String>,
    /// Never stopped to make room (group swap, memory, `maxRunning`) nor for being idle.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pinned: bool,
}

impl BackendModel {
    pub fn group_name(&self) -> &str {
        self.group.as_deref().filter(|g| !g.is_empty()).unwrap_or(&self.name)
    }

    pub fn answers_to(&self, name: &str) -> bool {
        self.name == name || self.aliases.iter().any(|a| a == name)
    }
}

impl BackendsConfig {
    pub fn model(&self, name: &str) -> Option<&BackendModel> {
        self.models.iter().find(|m| m.answers_to(name))
    }

    pub fn spawn_of<'a>(&'a self, model: &'a BackendModel) -> &'a SpawnConfig {
        model.spawn.as_ref().unwrap_or(&self.default_spawn)
    }

    pub fn ttl_of(&self, model: &BackendModel) -> i64 {
        model.ttl.unwrap_or(self.idle_timeout_sec)
    }
}

/// A model name as a client or the config may write it: no path separators, no `..`, no control characters.
pub fn is_plain_name(name: &str) -> bool {
    !name.trim().is_empty()
        && name.len() <= 256
        && !name.contains(['/', '\\'])
        && !name.contains("..")
        && !name.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str, group: Option<&str>, aliases: &[&str]) -> BackendModel {
        BackendModel {
            name: name.into(),
            path: format!("/m/{name}.gguf"),
            state: ModelOrigin::Manual,
            group: group.map(String::from),
            spawn: None,
            ttl: None,
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            mmproj: None,
            pinned: false,
        }
    }

    #[test]
    fn a_model_is_found_by_name_or_alias_and_is_its_own_group_without_one() {
        let config = BackendsConfig {
            models: vec![model("a", None, &["alpha"]), model("b", Some("big"), &[])],
            ..Default::default()
        };
        assert_eq!(config.model("alpha").map(|m| m.name.as_str()), Some("a"));
        assert!(config.model("c").is_none());
        assert_eq!(config.model("a").map(BackendModel::group_name), Some("a"));
        assert_eq!(config.model("b").map(BackendModel::group_name), Some("big"));
        assert_eq!(config.ttl_of(&config.models[0]), 300);
    }

    #[test]
    fn plain_names_exclude_paths_and_control_characters() {
        assert!(is_plain_name("Qwen3-8B-Q4_K_M.gguf"));
        for bad in ["", " ", "a/b", "..", "x\\y", "a\nb"] {
            assert!(!is_plain_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_model_runs_its_own_spawn_or_else_the_default_one() {
        let mut config =
            BackendsConfig { models: vec![model("a", None, &[]), model("b", None, &[])], ..Default::default() };
        config.default_spawn.command = vec!["/opt/llama-server".into()];
        config.models[1].spawn = Some(SpawnConfig { command: vec!["/opt/other".into()], ..Default::default() });
        config.models[1].ttl = Some(60);
        assert_eq!(config.spawn_of(&config.models[0]).command, ["/opt/llama-server"]);
        assert_eq!(config.spawn_of(&config.models[1]).command, ["/opt/other"]);
        assert_eq!(config.ttl_of(&config.models[1]), 60);
    }
}
