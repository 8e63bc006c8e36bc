//! One idle rule and one idle task for every kind of model: a loaded model with nothing in flight or
//! queued is unloaded once it has been idle for its TTL (llama.cpp's router has no such rule; our own
//! backends follow the same one, so the page's countdown means the same thing for both).

use super::{ModelStatus, Models};
use crate::core::clock::now_ms;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const TICK: Duration = Duration::from_secs(1);

/// When a model will be unloaded if nothing uses it (ms since the epoch): `loaded_since` (when it became
/// loaded, `None` while it is not) or its last request, whichever is later, plus the TTL. `None` when the
/// TTL is 0 (never), while it is busy, or while it is not loaded.
pub fn unload_at(ttl_sec: i64, loaded_since: Option<Instant>, last_active: Option<Instant>, busy: bool) -> Option<i64> {
    let loaded_since = loaded_since?;
    if ttl_sec <= 0 || busy {
        return None;
    }
    let idle_since = last_active.map_or(loaded_since, |at| at.max(loaded_since));
    let idle_ms = Instant::now().saturating_duration_since(idle_since).as_millis() as i64;
    Some(now_ms() - idle_ms + ttl_sec * 1000)
}

/// Once a second, unloads every model whose unload time passed.
pub async fn run(models: Models, cancel: CancellationToken) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = cancel.cancelled() => return,
        }
        for view in models.list() {
            let due = view.live.status == ModelStatus::Loaded && view.live.unload_at.is_some_and(|at| at <= now_ms());
            if !due {
                continue;
            }
            let ttl = view.live.ttl_sec;
            tracing::info!(model = %view.id, ttl, "unloading model idle for {ttl} s");
            if let Err(err) = models.unload(&view.id, "idle").await {
                tracing::warn!(model = %view.id, error = %err, "idle unload failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_counts_from_the_later_of_loading_and_the_last_request() {
        let loaded = Instant::now() - Duration::from_secs(100);
        let at = unload_at(300, Some(loaded), None, false).unwrap();
        assert!((at - (now_ms() + 200_000)).abs() < 1_000, "{at}");
        let recent = Instant::now() - Duration::from_secs(10);
        let at = unload_at(300, Some(loaded), Some(recent), false).unwrap();
        assert!((at - (now_ms() + 290_000)).abs() < 1_000, "{at}");
    }

    #[test]
    fn never_while_busy_unloaded_or_with_ttl_zero() {
        let loaded = Some(Instant::now());
        assert_eq!(unload_at(300, loaded, None, true), None);
        assert_eq!(unload_at(300, None, None, false), None);
        assert_eq!(unload_at(0, loaded, None, false), None);
    }
}
