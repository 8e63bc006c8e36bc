//! Keeps metrics and logs bounded: age by `retentionDays`, log rows by `logsMaxRows` (live settings).

use crate::db::{Db, now_ms};
use crate::settings::SettingsStore;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const EVERY: Duration = Duration::from_secs(600);
const DAY_MS: i64 = 86_400_000;

pub async fn run(db: Db, settings: SettingsStore, cancel: CancellationToken) {
    loop {
        let s = settings.current();
        let cutoff = now_ms() - s.retention_days * DAY_MS;
        match (db.prune_samples(cutoff).await, db.prune_logs(s.logs_max_rows, cutoff).await) {
            (Ok(samples), Ok(logs)) if samples + logs > 0 => {
                tracing::info!(samples, logs, "retention removed old rows")
            }
            (Err(err), _) | (_, Err(err)) => tracing::warn!(error = %err, "retention pass failed"),
            _ => {}
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = cancel.cancelled() => return,
        }
    }
}
