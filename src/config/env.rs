//! Environment overrides from the init-file guide, each mapped to one config key.

use super::schema::Config;
use super::validate::ConfigIssue;

/// The variables we read, with the key each overrides (documented in the README).
pub const ENV_OVERRIDES: [(&str, &str); 6] = [
    ("LLAMA_ROUTER_PORT", "router.port"),
    ("LLAMA_MODELS_DIR", "models.directory"),
    ("LLAMA_MODELS_MAX", "models.maxLoaded"),
    ("LLAMA_CONTEXT_SIZE", "performance.contextSize"),
    ("LLAMA_GPU_LAYERS", "performance.gpuLayers"),
    ("LLAMA_AUTO_START", "startup.autoStart"),
];

/// Applies every set variable; an unparsable value is an issue naming the variable.
pub fn apply(config: &mut Config, env: &dyn Fn(&str) -> Option<String>) -> Vec<ConfigIssue> {
    let mut issues = Vec::new();
    for (name, _) in ENV_OVERRIDES {
        let Some(raw) = env(name).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        let raw = raw.trim();
        let result = match name {
            "LLAMA_ROUTER_PORT" => parse::<u16>(raw, "a port number (1-65535)").map(|v| config.router.port = v),
            "LLAMA_MODELS_DIR" => {
                config.models.directory = raw.to_string();
                Ok(())
            }
            "LLAMA_MODELS_MAX" => parse::<i64>(raw, "an integer").map(|v| config.models.max_loaded = v),
            "LLAMA_CONTEXT_SIZE" => parse::<i64>(raw, "an integer").map(|v| config.performance.context_size = v),
            "LLAMA_GPU_LAYERS" => parse::<i64>(raw, "an integer").map(|v| config.performance.gpu_layers = v),
            _ => parse_bool(raw).map(|v| config.startup.auto_start = v),
        };
        if let Err(message) = result {
            issues.push(ConfigIssue::new(name, message));
        }
    }
    issues
}

fn parse<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, String> {
    raw.parse().map_err(|_| format!("must be {what}, got '{raw}'"))
}

fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("must be true or false, got '{raw}'")),
    }
}
