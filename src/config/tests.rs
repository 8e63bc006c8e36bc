//! Precedence and validation rules, each checked for the message a user would read.

use super::*;
use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;

fn issues_of(value: serde_json::Value) -> Vec<String> {
    match config_from_value(&value) {
        Ok(_) => Vec::new(),
        Err(issues) => issues.iter().map(ToString::to_string).collect(),
    }
}

fn write_config(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("init.json");
    std::fs::write(&path, text).unwrap();
    path
}

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |k| map.get(k).cloned()
}

#[test]
fn an_empty_object_is_the_defaults() {
    assert_eq!(config_from_value(&json!({})).unwrap(), Config::default());
}

#[test]
fn every_range_rule_names_its_key() {
    let cases = [
        (json!({"performance": {"contextSize": 64}}), "performance.contextSize: must be >= 128, got 64"),
        (json!({"performance": {"batchSize": 0}}), "performance.batchSize: must be >= 1, got 0"),
        (json!({"performance": {"gpuLayers": -2}}), "performance.gpuLayers: must be >= -1, got -2"),
        (json!({"performance": {"parallelSlots": 0}}), "performance.parallelSlots: must be >= 1, got 0"),
        (json!({"performance": {"httpThreads": 0}}), "performance.httpThreads: must be -1 (automatic) or >= 1, got 0"),
        (json!({"performance": {"threads": -5}}), "performance.threads: must be -1 (automatic) or >= 1, got -5"),
        (json!({"models": {"maxLoaded": 0}}), "models.maxLoaded: must be >= 1, got 0"),
        (json!({"models": {"directory": " "}}), "models.directory: must not be empty"),
        (
            json!({"models": {"preloadModels": ["../x"]}}),
            "models.preloadModels[0]: must be a model id (no path separators)",
        ),
        (json!({"router": {"port": 0}}), "router.port: must be >= 1, got 0"),
        (json!({"router": {"port": 3000}}), "router.port: must differ from server.port (3000)"),
        (
            json!({"logging": {"level": "loud"}}),
            "logging.level: must be one of trace, debug, info, warn, error, got 'loud'",
        ),
        (json!({"logging": {"maxRows": 10}}), "logging.maxRows: must be >= 1000, got 10"),
        (json!({"startup": {"timeout": 10}}), "startup.timeout: must be >= 1000, got 10"),
        (json!({"startup": {"retryAttempts": 101}}), "startup.retryAttempts: must be <= 100, got 101"),
        (json!({"metrics": {"intervalMs": 100}}), "metrics.intervalMs: must be >= 250, got 100"),
        (json!({"metrics": {"retentionDays": 0}}), "metrics.retentionDays: must be >= 1, got 0"),
        (json!({"security": {"adminToken": "short"}}), "security.adminToken: must be at least 8 characters"),
        (
            json!({"server": {"host": "0.0.0.0"}}),
            "security.adminToken: required when server.host (0.0.0.0) is not a loopback address",
        ),
    ];
    for (config, expected) in cases {
        assert_eq!(issues_of(config.clone()), [expected], "for {config}");
    }
}

/// The key each rule names (the message is the e2e invalid-config table's business).
fn issue_keys(value: serde_json::Value) -> Vec<String> {
    issues_of(value).iter().map(|i| i.split(": ").next().unwrap_or_default().to_string()).collect()
}

#[test]
fn every_shape_rule_names_its_key() {
    let model = |m: serde_json::Value| json!({"backends": {"models": [m]}});
    let cases = [
        (json!({"": 1}), "(root)"),
        (json!({"router": {"host": "192.0.2.7"}}), "router.host"),
        (json!({"models": {"preloadModels": ["a/b"]}}), "models.preloadModels[0]"),
        (json!({"models": {"preloadModels": ["a\\b"]}}), "models.preloadModels[0]"),
        (json!({"models": {"preloadModels": [" "]}}), "models.preloadModels[0]"),
        (json!({"proxy": {"maxBodyBytes": 4_294_967_297_u64}}), "proxy.maxBodyBytes"),
        (json!({"security": {"adminToken": "  seven  "}}), "security.adminToken"),
        (json!({"security": {"corsOrigins": ["app.example.com"]}}), "security.corsOrigins[0]"),
        (json!({"security": {"allowedHosts": ["http://dash.lan"]}}), "security.allowedHosts[0]"),
        (json!({"backends": {"basePort": 80}}), "backends.basePort"),
        (model(json!({"name": "a/b", "path": "/m/a.gguf"})), "backends.models[0].name"),
        (model(json!({"name": "a", "aliases": ["../x"], "path": "/m/a.gguf"})), "backends.models[0].name"),
        (json!({"backends": {"defaultSpawn": {"command": [" "]}}}), "backends.defaultSpawn.command"),
    ];
    for (config, key) in cases {
        assert_eq!(issue_keys(config.clone()), [key], "for {config}");
    }
}

#[test]
fn values_at_the_edges_of_each_rule_are_accepted() {
    let edges = json!({
        "router": {"host": "127.0.0.2", "port": 1},
        "models": {"preloadModels": ["Qwen3-8B.Q4_K_M"]},
        "proxy": {"maxBodyBytes": 4_294_967_296_u64, "queueSize": 100_000},
        "startup": {"retryAttempts": 100},
        "security": {"adminToken": "eight-ch", "corsOrigins": ["*", "https://app.example.com"], "allowedHosts": ["*.lan"]},
        "backends": {"basePort": 1024, "models": [{"name": "a", "aliases": ["alpha"], "path": "/m/a.gguf"}]},
    });
    assert_eq!(issues_of(edges), Vec::<String>::new());
}

#[test]
fn exposed_host_with_a_token_is_accepted() {
    let config = json!({"server": {"host": "0.0.0.0"}, "security": {"adminToken": "a-long-secret"}});
    assert!(issues_of(config).is_empty());
}

#[test]
fn structural_problems_name_their_key_and_every_section_is_reported() {
    let issues = issues_of(json!({
        "router": {"prot": 1},
        "performance": {"contextSize": "big"},
        "metrics": {"intervalMs": 10},
        "extra": true
    }));
    assert_eq!(issues.len(), 4, "{issues:?}");
    assert!(issues.iter().any(|i| i.starts_with("router.prot: unknown key")));
    assert!(issues.iter().any(|i| i.starts_with("performance.contextSize: invalid type: string \"big\"")));
    assert!(issues.contains(&"metrics.intervalMs: must be >= 250, got 10".to_string()));
    assert!(issues.contains(&"extra: unknown key".to_string()));
}

#[test]
fn precedence_is_cli_then_env_then_file_then_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(
        &dir,
        r#"{"server": {"port": 4000, "host": "127.0.0.1"}, "router": {"port": 9000}, "models": {"maxLoaded": 2}}"#,
    );
    let cli = CliOverrides { config: Some(path), host: None, port: Some(4100) };
    let env = env_of(&[("LLAMA_ROUTER_PORT", "9100"), ("LLAMA_MODELS_DIR", "/m")]);
    let c = load(&cli, &env).unwrap().config;
    assert_eq!(c.server.port, 4100, "CLI beats file");
    assert_eq!(c.router.port, 9100, "env beats file");
    assert_eq!(c.models.directory, "/m", "env beats default");
    assert_eq!(c.models.max_loaded, 2, "file beats default");
    assert_eq!(c.performance.context_size, 4096, "default");
}

#[test]
fn every_env_override_applies_and_bad_values_name_the_variable() {
    let env = env_of(&[
        ("LLAMA_MODELS_MAX", "3"),
        ("LLAMA_CONTEXT_SIZE", "8192"),
        ("LLAMA_GPU_LAYERS", "20"),
        ("LLAMA_AUTO_START", "false"),
    ]);
    let c = load(&CliOverrides::default(), &env).unwrap().config;
    assert_eq!((c.models.max_loaded, c.performance.context_size, c.performance.gpu_layers), (3, 8192, 20));
    assert!(!c.startup.auto_start);

    let env = env_of(&[("LLAMA_ROUTER_PORT", "eighty"), ("LLAMA_AUTO_START", "maybe"), ("LLAMA_CONTEXT_SIZE", "64")]);
    let err = load(&CliOverrides::default(), &env).unwrap_err().to_string();
    assert!(err.contains("LLAMA_ROUTER_PORT: must be a port number (1-65535), got 'eighty'"), "{err}");
    assert!(err.contains("LLAMA_AUTO_START: must be true or false, got 'maybe'"), "{err}");
    assert!(err.contains("performance.contextSize: must be >= 128, got 64"), "{err}");
}

#[test]
fn a_file_mixing_structural_and_range_problems_lists_them_all() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(
        &dir,
        r#"{"router": {"prot": 1}, "performance": {"contextSize": 64}, "metrics": {"retentionDays": 0}}"#,
    );
    let cli = CliOverrides { config: Some(path), ..Default::default() };
    let err = load(&cli, &|_| None).unwrap_err().to_string();
    for expected in ["router.prot: unknown key", "performance.contextSize: must be >= 128", "metrics.retentionDays"] {
        assert!(err.contains(expected), "missing {expected}: {err}");
    }
}

#[test]
fn malformed_json_reports_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(&dir, "{\n  \"server\": {\n    \"port\": 3000,\n  }\n}");
    let cli = CliOverrides { config: Some(path), ..Default::default() };
    let err = load(&cli, &|_| None).unwrap_err();
    assert!(matches!(err, ConfigError::Syntax { line: 4, .. }), "{err}");
    assert!(err.to_string().contains("line 4 column 3"), "{err}");
}

#[test]
fn a_named_config_that_does_not_exist_is_an_error() {
    let cli = CliOverrides { config: Some("/nonexistent/init.json".into()), ..Default::default() };
    let err = load(&cli, &|_| None).unwrap_err().to_string();
    assert!(err.contains("/nonexistent/init.json does not exist"), "{err}");
}

#[test]
fn the_shipped_init_file_is_valid() {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/", "llama-router.init.json"));
    let cli = CliOverrides { config: Some(path), ..Default::default() };
    let loaded = load(&cli, &|_| None).unwrap();
    assert_eq!(loaded.config.server.port, 3000);
}

#[test]
fn redaction_hides_secrets() {
    let mut c = Config::default();
    c.security.admin_token = Some("super-secret-token".into());
    c.security.api_keys = vec!["sk-1".into()];
    let shown = c.redacted();
    let text = shown.to_string();
    assert!(!text.contains("super-secret-token") && !text.contains("sk-1"), "{text}");
    assert_eq!(shown["security"]["adminToken"], placeholder("super-secret-token"));
    assert_eq!(shown["security"]["apiKeys"], json!([placeholder("sk-1")]));
    assert_eq!(shown["server"]["port"], 3000, "everything else is shown as it is");
}

#[test]
fn every_spelling_of_a_boolean_variable_is_understood() {
    for (raw, expected) in [("1", true), ("TRUE", true), ("yes", true), ("On", true), ("0", false), ("off", false)] {
        let c = load(&CliOverrides::default(), &env_of(&[("LLAMA_AUTO_START", raw)])).unwrap().config;
        assert_eq!(c.startup.auto_start, expected, "{raw}");
    }
}

#[test]
fn an_invalid_file_is_named_in_the_error_and_invalid_defaults_name_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(&dir, r#"{"performance": {"contextSize": 64}}"#);
    let cli = CliOverrides { config: Some(path.clone()), ..Default::default() };
    let err = load(&cli, &|_| None).unwrap_err().to_string();
    assert!(err.starts_with(&format!("invalid configuration in {}:\n", path.display())), "{err}");
    let issues = vec![ConfigIssue::new("performance.contextSize", "must be >= 128, got 64")];
    let err = ConfigError::Invalid { origin: None, issues }.to_string();
    assert_eq!(err, "invalid configuration:\n  performance.contextSize: must be >= 128, got 64");
}

#[test]
fn the_shared_config_hands_out_the_latest_replacement() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(&dir, r#"{"server": {"port": 4100}}"#);
    let cli = CliOverrides { config: Some(path.clone()), ..Default::default() };
    let shared = SharedConfig::new(load(&cli, &|_| None).unwrap(), cli.clone());
    assert_eq!(shared.config().server.port, 4100);
    assert!(matches!(shared.source(), ConfigSource::File(p) if p == path));
    let earlier = shared.config();
    shared.replace(LoadedConfig { config: Config::default(), source: ConfigSource::Defaults });
    assert_eq!(shared.config().server.port, 3000);
    assert!(matches!(shared.source(), ConfigSource::Defaults));
    assert_eq!(earlier.server.port, 4100, "a snapshot taken before stays as it was");
}
