//! The init file's schema (`llama-router.init.json`): every key optional, defaults below.
//! Field names are camelCase in JSON; unknown keys are rejected so typos surface at startup.

pub use super::backends::BackendsConfig;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    pub version: String,
    pub server: ServerConfig,
    pub router: RouterConfig,
    pub models: ModelsConfig,
    pub performance: PerformanceConfig,
    pub logging: LoggingConfig,
    pub startup: StartupConfig,
    pub security: SecurityConfig,
    pub metrics: MetricsConfig,
    pub proxy: ProxyConfig,
    pub backends: BackendsConfig,
    /// Other llama-dashboards (or OpenAI-compatible servers) whose models are served here too.
    pub nodes: Vec<super::NodeConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            version: "1.0".into(),
            server: ServerConfig::default(),
            router: RouterConfig::default(),
            models: ModelsConfig::default(),
            performance: PerformanceConfig::default(),
            logging: LoggingConfig::default(),
            startup: StartupConfig::default(),
            security: SecurityConfig::default(),
            metrics: MetricsConfig::default(),
            proxy: ProxyConfig::default(),
            backends: BackendsConfig::default(),
            nodes: Vec::new(),
        }
    }
}

/// Our own public port: dashboard, Socket.IO, `/v1`, `/health`, `/metrics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ServerConfig {
    pub host: String,
    pub port: u16,
    /// Open TCP connections (and Socket.IO clients) at once; past it new ones wait to be accepted.
    pub max_connections: i64,
    /// A connection must send a request's headers within this long (also the keep-alive idle limit).
    pub header_timeout_ms: i64,
    /// A write to a client that makes no progress for this long closes the connection (it stopped reading).
    pub send_timeout_ms: i64,
    /// On SIGTERM / Ctrl-C, how long `/v1` requests in flight get to finish before the rest stops.
    pub shutdown_timeout_sec: i64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 3000,
            max_connections: 2048,
            header_timeout_ms: 15_000,
            send_timeout_ms: 60_000,
            shutdown_timeout_sec: 30,
        }
    }
}

/// The native llama-server router process we drive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct RouterConfig {
    pub enabled: bool,
    pub host: String,
    pub port: u16,
    pub server_path: Option<String>,
    /// `host` may be a non-loopback address only when this says so explicitly.
    pub allow_non_loopback: bool,
}

impl Default for RouterConfig {
    fn default() -> Self {
        Self { enabled: true, host: "127.0.0.1".into(), port: 8134, server_path: None, allow_non_loopback: false }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ModelsConfig {
    pub directory: String,
    pub max_loaded: i64,
    pub auto_discovery: bool,
    pub preload_models: Vec<String>,
    /// INI file passed as `--models-preset`.
    pub presets_file: Option<String>,
    /// Router-mode models idle this long (no request in flight or queued) are unloaded; 0 keeps them loaded.
    /// A model's own `ttl` (set with `models:update`) wins.
    pub idle_timeout_sec: i64,
}

impl Default for ModelsConfig {
    fn default() -> Self {
        Self {
            directory: "./models".into(),
            max_loaded: 4,
            auto_discovery: true,
            preload_models: Vec::new(),
            presets_file: None,
            idle_timeout_sec: 300,
        }
    }
}

/// `-1` means "let llama-server decide" for threads and "all layers" for gpuLayers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct PerformanceConfig {
    pub context_size: i64,
    pub batch_size: i64,
    pub gpu_layers: i64,
    pub parallel_slots: i64,
    pub http_threads: i64,
    pub threads: i64,
}

impl Default for PerformanceConfig {
    fn default() -> Self {
        Self { context_size: 4096, batch_size: 512, gpu_layers: -1, parallel_slots: 1, http_threads: -1, threads: -1 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct LoggingConfig {
    pub level: String,
    /// Passes `--verbose` to llama-server.
    pub enable_debug_output: bool,
    pub log_file: Option<String>,
    /// Upper bound on rows kept in the `logs` table.
    pub max_rows: i64,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self { level: "info".into(), enable_debug_output: false, log_file: None, max_rows: 100_000 }
    }
}

/// Times are milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct StartupConfig {
    pub auto_start: bool,
    pub timeout: i64,
    pub retry_attempts: i64,
    pub retry_delay: i64,
}

impl Default for StartupConfig {
    fn default() -> Self {
        Self { auto_start: true, timeout: 30_000, retry_attempts: 3, retry_delay: 2_000 }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct SecurityConfig {
    /// Required on the Socket.IO handshake (`auth.token`) when set.
    pub admin_token: Option<String>,
    /// Bearer keys for `/v1` (enforced by the proxy feature).
    pub api_keys: Vec<String>,
    /// Browser origins allowed besides our own; `"*"` opens `/v1` (only) to every origin.
    pub cors_origins: Vec<String>,
    /// Host names (besides IP literals and `localhost`) requests may name in `Host`; `*.example.com`
    /// matches every subdomain. Anything else is refused (DNS rebinding).
    pub allowed_hosts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct MetricsConfig {
    pub interval_ms: i64,
    pub retention_days: i64,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self { interval_ms: 2_000, retention_days: 7 }
    }
}

/// The OpenAI-compatible `/v1` proxy. Each model serves `performance.parallelSlots` requests at once;
/// up to `queueSize` more wait their turn for at most `queueTimeoutMs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ProxyConfig {
    pub max_body_bytes: i64,
    pub queue_size: i64,
    pub queue_timeout_ms: i64,
    /// The whole request body must arrive within this long.
    pub body_timeout_ms: i64,
    /// Requests for a loaded router-mode model go to its own llama-server, skipping the router's hop.
    pub direct_to_child: bool,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024 * 1024,
            queue_size: 32,
            queue_timeout_ms: 120_000,
            body_timeout_ms: 60_000,
            direct_to_child: true,
        }
    }
}

impl Config {
    /// The config as JSON with each secret replaced by its placeholder (`***` and a tag), safe to show or log.
    pub fn redacted(&self) -> Value {
        let mut copy = self.clone();
        copy.security.admin_token = copy.security.admin_token.as_deref().map(super::save::placeholder);
        copy.security.api_keys = copy.security.api_keys.iter().map(|k| super::save::placeholder(k)).collect();
        super::nodes::redact(&mut copy.nodes);
        serde_json::to_value(copy).unwrap_or(Value::Null)
    }
}
