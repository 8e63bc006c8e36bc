//! `requests:stats`: each model's live queue (running, waiting, limit, recent waits) and stored totals
//! over a window. Broadcast at most twice a second while requests come and go.

use crate::core::activity::Gates;
use crate::core::bus::{Bus, LiveEvent};
use crate::db::{Db, ModelTotals, now_ms};
use crate::error::ApiError;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const COALESCE: Duration = Duration::from_millis(500);
pub const DEFAULT_WINDOW_MS: i64 = 3_600_000;

pub async fn payload(activity: &Gates, db: &Db, since: i64) -> Result<Value, ApiError> {
    let queues = activity.stats();
    let models = db.request_totals(since).await?;
    let totals = sum(&models);
    Ok(json!({
        "since": since,
        "queues": queues,
        "active": queues.iter().map(|q| q.active).sum::<usize>(),
        "queued": queues.iter().map(|q| q.queued).sum::<usize>(),
        "models": models,
        "totals": totals,
    }))
}

fn sum(models: &[ModelTotals]) -> ModelTotals {
    let requests: i64 = models.iter().map(|m| m.requests).sum();
    let weighted = |f: fn(&ModelTotals) -> Option<f64>| {
        let (sum, n) = models
            .iter()
            .filter_map(|m| f(m).map(|v| (v * m.requests as f64, m.requests)))
            .fold((0.0, 0i64), |(s, n), (v, c)| (s + v, n + c));
        (n > 0).then(|| sum / n as f64)
    };
    ModelTotals {
        model: None,
        requests,
        errors: models.iter().map(|m| m.errors).sum(),
        prompt_tokens: models.iter().map(|m| m.prompt_tokens).sum(),
        completion_tokens: models.iter().map(|m| m.completion_tokens).sum(),
        avg_ttft_ms: weighted(|m| m.avg_ttft_ms),
        avg_total_ms: weighted(|m| m.avg_total_ms),
        avg_queue_ms: weighted(|m| m.avg_queue_ms),
        avg_tokens_per_second: weighted(|m| m.avg_tokens_per_second),
    }
}

/// Broadcasts `requests:stats` after queue changes, coalesced.
pub async fn run(activity: Gates, db: Db, bus: Bus, cancel: CancellationToken) {
    let changed = activity.changed.clone();
    loop {
        tokio::select! {
            _ = changed.notified() => {}
            _ = cancel.cancelled() => return,
        }
        tokio::select! {
            _ = tokio::time::sleep(COALESCE) => {}
            _ = cancel.cancelled() => return,
        }
        if bus.audience() == 0 {
            continue;
        }
        match payload(&activity, &db, now_ms() - DEFAULT_WINDOW_MS).await {
            Ok(data) => {
                bus.publish(LiveEvent::RequestsStats(data));
            }
            Err(err) => tracing::warn!(error = %err, "requests:stats not sent"),
        }
    }
}
