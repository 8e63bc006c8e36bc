//! Where the effective config comes from. Precedence: CLI > env > file > defaults.

use super::schema::Config;
use super::validate::{ConfigIssue, parse_sections_lenient, with_range_issues, without_position};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The default init file, looked up in the working directory when `--config` is absent.
pub const DEFAULT_CONFIG_FILE: &str = "llama-router.init.json";

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("config file {path} does not exist (named by --config)")]
    Missing { path: PathBuf },
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file {path} is not valid JSON: {message} at line {line} column {column}")]
    Syntax { path: PathBuf, message: String, line: usize, column: usize },
    #[error("invalid configuration{}:\n{}", origin_suffix(.origin), list(.issues))]
    Invalid { origin: Option<PathBuf>, issues: Vec<ConfigIssue> },
}

fn origin_suffix(origin: &Option<PathBuf>) -> String {
    origin.as_ref().map(|p| format!(" in {}", p.display())).unwrap_or_default()
}

fn list(issues: &[ConfigIssue]) -> String {
    issues.iter().map(|i| format!("  {i}")).collect::<Vec<_>>().join("\n")
}

/// Values given on the command line; `None` leaves the lower layers in charge.
#[derive(Debug, Clone, Default)]
pub struct CliOverrides {
    pub config: Option<PathBuf>,
    pub host: Option<String>,
    pub port: Option<u16>,
}

/// Where the file layer came from, reported by `router:init:load` and at startup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    File(PathBuf),
    Defaults,
}

#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    pub source: ConfigSource,
}

/// Loads file (or defaults), applies `env` then CLI, validates the result, listing every problem.
pub fn load(cli: &CliOverrides, env: &dyn Fn(&str) -> Option<String>) -> Result<LoadedConfig, ConfigError> {
    let path = file_to_load(cli)?;
    let raw = match &path {
        Some(path) => read_json(path)?,
        None => serde_json::json!({}),
    };
    let config = effective(&raw, cli, env).map_err(|issues| ConfigError::Invalid { origin: path.clone(), issues })?;
    let source = path.map_or(ConfigSource::Defaults, ConfigSource::File);
    Ok(LoadedConfig { config, source })
}

/// The config that runs from an init file's JSON: the file's values, then `env`, then the command
/// line, validated as a whole. Writers call it on the text they are about to write, so nothing that
/// would not load is ever written.
pub fn effective(
    raw: &serde_json::Value,
    cli: &CliOverrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, Vec<ConfigIssue>> {
    let (mut config, mut issues) = parse_sections_lenient(raw);
    issues.extend(super::env::apply(&mut config, env));
    if let Some(host) = &cli.host {
        config.server.host = host.clone();
    }
    if let Some(port) = cli.port {
        config.server.port = port;
    }
    let issues = with_range_issues(&config, issues);
    if issues.is_empty() { Ok(config) } else { Err(issues) }
}

fn file_to_load(cli: &CliOverrides) -> Result<Option<PathBuf>, ConfigError> {
    match &cli.config {
        Some(path) if path.is_file() => Ok(Some(path.clone())),
        Some(path) => Err(ConfigError::Missing { path: path.clone() }),
        None => {
            let default = PathBuf::from(DEFAULT_CONFIG_FILE);
            Ok(default.is_file().then_some(default))
        }
    }
}

fn read_json(path: &Path) -> Result<serde_json::Value, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
    serde_json::from_str(&text).map_err(|e| ConfigError::Syntax {
        path: path.into(),
        message: without_position(&e.to_string()).to_string(),
        line: e.line(),
        column: e.column(),
    })
}
