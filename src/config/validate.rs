//! Turns untrusted JSON into a [`Config`] and lists every problem with its key path.
//! Structural problems (unknown keys, wrong types) are collected per section so that a bad
//! `router` section does not hide a bad `metrics` one; range rules are checked afterwards.

use super::schema::Config;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::net::IpAddr;

/// One problem in a config, e.g. `performance.contextSize: must be >= 128, got 64`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigIssue {
    pub path: String,
    pub message: String,
}

impl ConfigIssue {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { path: path.into(), message: message.into() }
    }
}

impl std::fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Parses and validates; `Err` carries every issue found.
pub fn config_from_value(value: &Value) -> Result<Config, Vec<ConfigIssue>> {
    let (config, structural) = parse_sections_lenient(value);
    let issues = with_range_issues(&config, structural);
    if issues.is_empty() { Ok(config) } else { Err(issues) }
}

/// Adds the range problems to the structural ones, skipping sections that failed to parse:
/// there the checks would only see defaults.
pub fn with_range_issues(config: &Config, mut issues: Vec<ConfigIssue>) -> Vec<ConfigIssue> {
    let broken: Vec<String> = issues.iter().map(|i| section_of(&i.path).to_string()).collect();
    issues.extend(validate(config).into_iter().filter(|i| !broken.iter().any(|b| b == section_of(&i.path))));
    issues
}

fn section_of(path: &str) -> &str {
    path.split(['.', '[']).next().unwrap_or(path)
}

/// Structure only (unknown keys, wrong types), each section on its own:
/// the sections that parsed, defaults for the rest, and the problems found.
pub fn parse_sections_lenient(value: &Value) -> (Config, Vec<ConfigIssue>) {
    let Some(map) = value.as_object() else {
        return (Config::default(), vec![ConfigIssue::new("(root)", "must be a JSON object")]);
    };
    let mut config = Config::default();
    let mut issues = Vec::new();
    for (key, section) in map {
        let result = match key.as_str() {
            "version" => section_into(key, section, &mut config.version),
            "server" => section_into(key, section, &mut config.server),
            "router" => section_into(key, section, &mut config.router),
            "models" => section_into(key, section, &mut config.models),
            "performance" => section_into(key, section, &mut config.performance),
            "logging" => section_into(key, section, &mut config.logging),
            "startup" => section_into(key, section, &mut config.startup),
            "security" => section_into(key, section, &mut config.security),
            "metrics" => section_into(key, section, &mut config.metrics),
            "proxy" => section_into(key, section, &mut config.proxy),
            "backends" => section_into(key, section, &mut config.backends),
            "nodes" => section_into(key, section, &mut config.nodes),
            "" => Err(ConfigIssue::new("(root)", "has an empty key (\"\"), which is not a setting")),
            _ => Err(ConfigIssue::new(key.clone(), "unknown key")),
        };
        if let Err(issue) = result {
            issues.push(issue);
        }
    }
    (config, issues)
}

fn section_into<T: DeserializeOwned>(key: &str, value: &Value, slot: &mut T) -> Result<(), ConfigIssue> {
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(parsed) => {
            *slot = parsed;
            Ok(())
        }
        Err(err) => {
            let inner = err.path().to_string();
            let path = if inner == "." { key.to_string() } else { format!("{key}.{inner}") };
            Err(ConfigIssue::new(path, clean_serde_message(&err.inner().to_string())))
        }
    }
}

/// A serde message without its trailing " at line L column C" (bogus for a `Value`, reported apart for files).
pub fn without_position(message: &str) -> &str {
    message.find(" at line ").map_or(message, |idx| &message[..idx])
}

/// serde's wording, made to read like ours: "unknown key; expected one of ...", no bogus position.
fn clean_serde_message(message: &str) -> String {
    let message = without_position(message);
    match message.strip_prefix("unknown field `") {
        Some(rest) => match rest.split_once("`, ") {
            Some((_, expected)) => format!("unknown key; {expected}"),
            None => "unknown key".to_string(),
        },
        None => message.to_string(),
    }
}

/// Range and consistency rules over a structurally valid config.
pub fn validate(c: &Config) -> Vec<ConfigIssue> {
    let mut v = Issues::default();
    v.non_empty("server.host", &c.server.host);
    v.non_empty("router.host", &c.router.host);
    v.min("router.port", i64::from(c.router.port), 1);
    if !is_loopback(&c.router.host) && !c.router.allow_non_loopback {
        v.push(
            "router.host",
            format!("'{}' is not a loopback address; set router.allowNonLoopback to expose the router", c.router.host),
        );
    }
    v.range("server.maxConnections", c.server.max_connections, 16, 1_000_000);
    v.range("server.headerTimeoutMs", c.server.header_timeout_ms, 1_000, 600_000);
    v.range("server.sendTimeoutMs", c.server.send_timeout_ms, 1_000, 3_600_000);
    v.range("server.shutdownTimeoutSec", c.server.shutdown_timeout_sec, 0, 3_600);
    if c.server.port != 0 && c.server.port == c.router.port {
        v.push("router.port", format!("must differ from server.port ({})", c.server.port));
    }
    if c.security.admin_token.is_none() && !is_loopback(&c.server.host) {
        v.push(
            "security.adminToken",
            format!("required when server.host ({}) is not a loopback address", c.server.host),
        );
    }
    security_issues(&mut v, &c.security);
    v.non_empty("models.directory", &c.models.directory);
    v.range("models.maxLoaded", c.models.max_loaded, 1, 64);
    v.range("models.idleTimeoutSec", c.models.idle_timeout_sec, 0, 31_536_000);
    for (i, id) in c.models.preload_models.iter().enumerate() {
        if id.trim().is_empty() || id.contains(['/', '\\']) || id.contains("..") {
            v.push(format!("models.preloadModels[{i}]"), "must be a model id (no path separators)");
        }
    }
    v.range("performance.contextSize", c.performance.context_size, 128, 1_048_576);
    v.min("performance.batchSize", c.performance.batch_size, 1);
    v.min("performance.gpuLayers", c.performance.gpu_layers, -1);
    v.range("performance.parallelSlots", c.performance.parallel_slots, 1, 256);
    v.auto_or_positive("performance.httpThreads", c.performance.http_threads);
    v.auto_or_positive("performance.threads", c.performance.threads);
    if !LOG_LEVELS.contains(&c.logging.level.as_str()) {
        v.push("logging.level", format!("must be one of {}, got '{}'", LOG_LEVELS.join(", "), c.logging.level));
    }
    v.min("logging.maxRows", c.logging.max_rows, 1_000);
    v.min("startup.timeout", c.startup.timeout, 1_000);
    v.range("startup.retryAttempts", c.startup.retry_attempts, 0, 100);
    v.min("startup.retryDelay", c.startup.retry_delay, 0);
    v.range("metrics.intervalMs", c.metrics.interval_ms, 250, 60_000);
    v.range("metrics.retentionDays", c.metrics.retention_days, 1, 365);
    v.range("proxy.maxBodyBytes", c.proxy.max_body_bytes, 1024, 4 * 1024 * 1024 * 1024);
    v.range("proxy.queueSize", c.proxy.queue_size, 0, 100_000);
    v.range("proxy.queueTimeoutMs", c.proxy.queue_timeout_ms, 100, 3_600_000);
    v.range("proxy.bodyTimeoutMs", c.proxy.body_timeout_ms, 1_000, 3_600_000);
    backend_issues(&mut v, c);
    v.0.extend(super::nodes::issues(&c.nodes));
    v.0
}

/// Secrets, origins and host names. A secret may not start with the redaction marker, so a placeholder
/// sent back (`***...`) can never become a valid token or key.
fn security_issues(v: &mut Issues, s: &super::schema::SecurityConfig) {
    if let Some(token) = &s.admin_token {
        if token.trim().len() < 8 {
            v.push("security.adminToken", "must be at least 8 characters");
        }
        if token.starts_with(super::REDACTED) {
            v.push("security.adminToken", "must not start with '***' (the placeholder of a redacted secret)");
        }
    }
    for (i, key) in s.api_keys.iter().enumerate() {
        let at = format!("security.apiKeys[{i}]");
        v.non_empty(&at, key);
        if key.starts_with(super::REDACTED) {
            v.push(at, "must not start with '***' (the placeholder of a redacted secret)");
        }
    }
    for (i, origin) in s.cors_origins.iter().enumerate() {
        if origin != "*" && super::Origin::parse(origin).is_none() {
            v.push(
                format!("security.corsOrigins[{i}]"),
                format!("'{origin}' must be \"*\" or an origin such as https://app.example.com (scheme, host, optional port)"),
            );
        }
    }
    for (i, host) in s.allowed_hosts.iter().enumerate() {
        if !super::is_host_pattern(host) {
            v.push(
                format!("security.allowedHosts[{i}]"),
                format!("'{host}' must be a host name such as dashboard.lan or *.example.com (no scheme or port)"),
            );
        }
    }
}

fn backend_issues(v: &mut Issues, c: &Config) {
    let b = &c.backends;
    v.min("backends.basePort", i64::from(b.base_port), 1024);
    v.non_empty("backends.healthEndpoint", &b.health_endpoint);
    if !b.health_endpoint.starts_with('/') {
        v.push("backends.healthEndpoint", "must start with '/'");
    }
    v.range("backends.startTimeoutSec", b.start_timeout_sec, 1, 3_600);
    v.range("backends.connectionTimeoutSec", b.connection_timeout_sec, 1, 600);
    v.range("backends.readTimeoutSec", b.read_timeout_sec, 1, 86_400);
    v.range("backends.idleTimeoutSec", b.idle_timeout_sec, 0, 31_536_000);
    v.range("backends.maxRunning", b.max_running, 0, 64);
    spawn_issues(v, "backends.defaultSpawn", &b.default_spawn);
    let mut names: Vec<&str> = Vec::new();
    for (i, m) in b.models.iter().enumerate() {
        let at = format!("backends.models[{i}]");
        for name in std::iter::once(&m.name).chain(&m.aliases) {
            if !super::backends::is_plain_name(name) {
                v.push(
                    format!("{at}.name"),
                    format!("'{name}' must be a plain name (no '/', '\\', '..' or control characters)"),
                );
            } else if names.contains(&name.as_str()) {
                v.push(format!("{at}.name"), format!("'{name}' is used by another backend model"));
            }
            names.push(name);
        }
        v.non_empty(&format!("{at}.path"), &m.path);
        if let Some(ttl) = m.ttl {
            v.range(&format!("{at}.ttl"), ttl, 0, 31_536_000);
        }
        if let Some(spawn) = &m.spawn {
            spawn_issues(v, &format!("{at}.spawn"), spawn);
        }
    }
}

fn spawn_issues(v: &mut Issues, at: &str, spawn: &super::backends::SpawnConfig) {
    if spawn.command.first().is_none_or(|p| p.trim().is_empty()) {
        v.push(format!("{at}.command"), "must name a program");
    }
    for (flag, why) in [
        ("--port", "set by llama-dashboard"),
        ("--host", "always 127.0.0.1"),
        ("--model", "the model's path"),
        ("--api-key", "a key of its own is set by llama-dashboard"),
        ("--api-key-file", "a key of its own is set by llama-dashboard"),
    ] {
        if spawn.command.iter().any(|a| a == flag) {
            v.push(format!("{at}.command"), format!("must not contain {flag} ({why})"));
        }
    }
}

pub const LOG_LEVELS: [&str; 5] = ["trace", "debug", "info", "warn", "error"];

pub fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[derive(Default)]
struct Issues(Vec<ConfigIssue>);

impl Issues {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigIssue::new(path, message));
    }
    fn min(&mut self, path: &str, value: i64, min: i64) {
        if value < min {
            self.push(path, format!("must be >= {min}, got {value}"));
        }
    }
    fn range(&mut self, path: &str, value: i64, min: i64, max: i64) {
        if value < min {
            self.push(path, format!("must be >= {min}, got {value}"));
        } else if value > max {
            self.push(path, format!("must be <= {max}, got {value}"));
        }
    }
    fn auto_or_positive(&mut self, path: &str, value: i64) {
        if value == 0 || value < -1 {
            self.push(path, format!("must be -1 (automatic) or >= 1, got {value}"));
        }
    }
    fn non_empty(&mut self, path: &str, value: &str) {
        if value.trim().is_empty() {
            self.push(path, "must not be empty");
        }
    }
}
