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
        let pruned = (
            db.prune_samples(cutoff).await,
            db.prune_logs(s.logs_max_rows, cutoff).await,
            db.prune_requests(cutoff).await,
        );
        match pruned {
            (Ok(samples), Ok(logs), Ok(requests)) if samples + logs + requests > 0 => {
                tracing::info!(samples, logs, requests, "retention removed old rows")
            }
            (Err(err), _, _) | (_, Err(err), _) | (_, _, Err(err)) => {
                tracing::warn!(error = %err, "retention pass failed")
            }
            _ => {}
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = cancel.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::db::{Db, NewLog, SampleRow, now_ms};

    fn line(ts: i64, n: usize) -> NewLog {
        NewLog { timestamp: ts, level: "info", source: "test".into(), model: None, message: format!("line {n}") }
    }

    #[tokio::test]
    async fn pruning_keeps_the_newest_logs_and_recent_samples() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        let now = now_ms();
        db.insert_logs((0..1500).map(|n| line(now, n)).chain([line(now - 10 * super::DAY_MS, 0)]).collect())
            .await
            .unwrap();
        for ts in [now - 10 * super::DAY_MS, now] {
            let sample = serde_json::json!({"timestamp": ts});
            db.insert_sample(SampleRow { ts, cpu_percent: 1.0, mem_percent: 1.0, rss_bytes: 1, sample }).await.unwrap();
        }
        let cutoff = now - 7 * super::DAY_MS;
        db.prune_logs(1000, cutoff).await.unwrap();
        db.prune_samples(cutoff).await.unwrap();

        let query = crate::db::LogQuery { limit: 1000, ..Default::default() };
        let (kept, has_more) = db.query_logs(query).await.unwrap();
        assert_eq!(kept.len(), 1000);
        assert!(!has_more, "older lines beyond the cap must be gone");
        assert!(kept.iter().all(|l| l.timestamp >= cutoff));
        assert_eq!(kept[0].message, "line 1499", "the newest line is kept");
        let samples = db.sample_history(0, i64::MAX, 10).await.unwrap();
        assert_eq!(samples, [serde_json::json!({"timestamp": now})]);
    }
}
