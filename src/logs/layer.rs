//! A tracing layer that hands each event to the log writer over a bounded channel.
//! It never blocks the logging thread: when the writer falls behind, lines are counted as dropped
//! and the writer reports the count as a log line of its own.

use crate::db::{NewLog, now_ms};
use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// How many lines may wait for the writer.
pub const QUEUE: usize = 8192;

pub struct DbLogLayer {
    tx: mpsc::Sender<NewLog>,
    dropped: Arc<AtomicU64>,
}

impl DbLogLayer {
    pub fn new(tx: mpsc::Sender<NewLog>, dropped: Arc<AtomicU64>) -> Self {
        Self { tx, dropped }
    }
}

impl<S: Subscriber> Layer<S> for DbLogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if !is_stored(meta.target(), *meta.level()) {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let (message, model) = fields.finish();
        let line = NewLog {
            timestamp: now_ms(),
            level: level_name(*meta.level()),
            source: source_of(meta.target()),
            model,
            message,
        };
        if self.tx.try_send(line).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Our own lines at every level the filter lets through; other crates' only from info up (they still reach
/// stderr and `logging.logFile`). Each stored line is broadcast as `logs:entry`, and the websocket and HTTP
/// crates log every frame they send at debug/trace: storing those lines would broadcast them, which logs
/// more frames, a loop that floods the server under `RUST_LOG=trace`.
fn is_stored(target: &str, level: Level) -> bool {
    level <= Level::INFO || target == "llama_dashboard" || target.starts_with("llama_dashboard::")
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

/// `llama_dashboard::metrics::sample` -> `metrics`; our root -> `dashboard`; other crates by name.
fn source_of(target: &str) -> String {
    let mut parts = target.split("::");
    match (parts.next(), parts.next()) {
        (Some("llama_dashboard"), Some(module)) => module.to_string(),
        (Some("llama_dashboard"), None) => "dashboard".into(),
        (Some(krate), _) => krate.to_string(),
        (None, _) => "unknown".into(),
    }
}

/// Collects `message` plus the other fields as `key=value`; `model` is kept apart for filtering.
#[derive(Default)]
struct Fields {
    message: String,
    extra: String,
    model: Option<String>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message.push_str(value),
            "model" => self.model = Some(value.to_string()),
            name => {
                let _ = write!(self.extra, " {name}={value}");
            }
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => {
                let _ = write!(self.message, "{value:?}");
            }
            "model" => self.model = Some(format!("{value:?}")),
            name => {
                let _ = write!(self.extra, " {name}={value:?}");
            }
        }
    }
}

impl Fields {
    fn finish(mut self) -> (String, Option<String>) {
        self.message.push_str(&self.extra);
        (self.message, self.model)
    }
}

#[cfg(test)]
mod tests {
    use super::is_stored;
    use tracing::Level;

    #[test]
    fn other_crates_are_stored_from_info_up_and_ours_at_every_level() {
        assert!(is_stored("llama_dashboard::live", Level::TRACE));
        assert!(is_stored("llama_dashboard", Level::DEBUG));
        assert!(is_stored("tungstenite::protocol", Level::INFO));
        assert!(is_stored("hyper", Level::WARN));
        assert!(!is_stored("tungstenite::protocol", Level::TRACE));
        assert!(!is_stored("tokio_tungstenite", Level::DEBUG));
        assert!(!is_stored("llama_dashboard_other", Level::DEBUG));
    }
}
