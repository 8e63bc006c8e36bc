//! Stores queued log lines in batches and publishes each stored line as `logs:entry`.

use crate::core::bus::{Bus, LiveEvent};
use crate::core::drops::{Drops, Kind};
use crate::db::{Db, NewLog, now_ms};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const BATCH: usize = 256;

pub struct LogWriter {
    pub rx: mpsc::Receiver<NewLog>,
    pub dropped: Arc<AtomicU64>,
    pub db: Db,
    pub bus: Bus,
    pub drops: Drops,
    pub cancel: CancellationToken,
}

impl LogWriter {
    /// Runs until cancelled, then stores what is still queued.
    pub async fn run(mut self) {
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            tokio::select! {
                n = self.rx.recv_many(&mut batch, BATCH) => if n == 0 { return },
                _ = self.cancel.cancelled() => break,
            }
            self.flush(&mut batch).await;
        }
        while let Ok(line) = self.rx.try_recv() {
            batch.push(line);
        }
        self.flush(&mut batch).await;
    }

    async fn flush(&self, batch: &mut Vec<NewLog>) {
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        self.drops.count(Kind::Logs, dropped);
        if dropped > 0 {
            batch.push(NewLog {
                timestamp: now_ms(),
                level: "warn",
                source: "logs".into(),
                model: None,
                message: format!("{dropped} log lines were dropped because the log writer fell behind"),
            });
        }
        if batch.is_empty() {
            return;
        }
        let count = batch.len() as u64;
        match self.db.insert_logs(std::mem::take(batch)).await {
            Ok(rows) => {
                self.drops.write_succeeded();
                for row in rows {
                    self.bus.publish(LiveEvent::LogsEntry(serde_json::json!({ "entry": row })));
                }
            }
            // Not logged through tracing: that would feed the failure back into this writer.
            Err(err) => {
                if self.drops.write_failed(Kind::Logs, count, &err) {
                    let dropped = self.drops.total(Kind::Logs);
                    eprintln!("llama-dashboard: log lines not stored ({dropped} so far): {err}");
                }
            }
        }
    }
}
