//! Dashboard settings: defaults from the init file, user changes persisted in SQLite and
//! published on a watch channel so running tasks (the metrics sampler, retention) follow them live.

use crate::config::Config;
use crate::core::json_kind as kind;
use crate::db::{Db, DbError};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::watch;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub theme: String,
    pub metrics_interval_ms: i64,
    pub retention_days: i64,
    pub logs_max_rows: i64,
}

const THEMES: [&str; 3] = ["dark", "light", "system"];

/// (key, min, max) for the numeric settings.
const RANGES: [(&str, i64, i64); 3] =
    [("metricsIntervalMs", 250, 60_000), ("retentionDays", 1, 365), ("logsMaxRows", 1_000, 5_000_000)];

impl Settings {
    pub fn defaults(config: &Config) -> Self {
        Self {
            theme: "dark".into(),
            metrics_interval_ms: config.metrics.interval_ms,
            retention_days: config.metrics.retention_days,
            logs_max_rows: config.logging.max_rows,
        }
    }

    /// Applies one validated change; the error names `settings.<key>`.
    fn apply(&mut self, key: &str, value: &Value) -> Result<(), SettingsError> {
        let field = format!("settings.{key}");
        if key == "theme" {
            let theme = value.as_str().filter(|t| THEMES.contains(t));
            self.theme = theme
                .ok_or_else(|| {
                    SettingsError::invalid(&field, format!("must be one of {}, got {value}", THEMES.join(", ")))
                })?
                .to_string();
            return Ok(());
        }
        let Some((_, min, max)) = RANGES.iter().find(|(k, _, _)| *k == key) else {
            return Err(SettingsError::invalid(field, "unknown setting"));
        };
        let n = value
            .as_i64()
            .ok_or_else(|| SettingsError::invalid(&field, format!("must be an integer, got {}", kind(value))))?;
        if n < *min || n > *max {
            return Err(SettingsError::invalid(field, format!("must be between {min} and {max}, got {n}")));
        }
        match key {
            "metricsIntervalMs" => self.metrics_interval_ms = n,
            "retentionDays" => self.retention_days = n,
            _ => self.logs_max_rows = n,
        }
        Ok(())
    }
}

/// Cheap to clone; the current settings are readable without touching the database.
#[derive(Clone)]
pub struct SettingsStore {
    db: Db,
    tx: watch::Sender<Settings>,
}

impl SettingsStore {
    /// Defaults overlaid with what is stored; stored values that no longer validate are skipped with a warning.
    pub async fn load(db: Db, config: &Config) -> Result<Self, DbError> {
        let mut settings = Settings::defaults(config);
        for (key, value) in db.load_settings().await? {
            if let Err(err) = settings.apply(&key, &value) {
                tracing::warn!(%err, "ignoring stored setting");
            }
        }
        Ok(Self { db, tx: watch::Sender::new(settings) })
    }

    pub fn current(&self) -> Settings {
        self.tx.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<Settings> {
        self.tx.subscribe()
    }

    /// Validates every change first, then stores them together: a bad key changes nothing.
    pub async fn update(&self, changes: &Map<String, Value>) -> Result<Settings, SettingsError> {
        let mut next = self.current();
        for (key, value) in changes {
            next.apply(key, value)?;
        }
        self.db.save_settings(changes.clone()).await?;
        self.tx.send_replace(next.clone());
        Ok(next)
    }
}

/// A change `settings:update` refuses, or a failure to store it.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

impl SettingsError {
    fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid { field: field.into(), message: message.into() }
    }
}
