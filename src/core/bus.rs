//! The one way news reaches the dashboard: producers publish typed [`LiveEvent`]s here, and the
//! Socket.IO bridge (`live::bridge`) is the only task that turns them into broadcasts. Producers never
//! wait for clients; a bridge that falls behind the bus sends every client one fresh snapshot instead.
//!
//! Order contract: a request handler that published events can wait for [`Bus::delivered`] before it
//! replies, so that a client sees the broadcasts its request caused before the reply (as it always did).

use serde_json::Value;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// How many events may wait for the bridge before it counts as lagging.
const CAPACITY: usize = 4096;

/// Every broadcast of the Socket.IO contract (`docs/socket-events.md`, "Broadcasts"), with its `data`.
/// `snapshot` is not published: the bridge builds it per client.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
    MetricsUpdate(Value),
    LogsEntry(Value),
    SettingsUpdated(Value),
    RouterStatus(Value),
    ModelsStatus(Value),
    ModelsUpdated(Value),
    RequestsCompleted(Value),
    RequestsStats(Value),
    PullProgress(Value),
    PullDone(Value),
    PullError(Value),
    NodesStatus(Value),
}

impl LiveEvent {
    /// Every broadcast name, in the order of the docs; the browser client mirrors this list.
    pub const NAMES: [&'static str; 13] = [
        "snapshot",
        "metrics:update",
        "logs:entry",
        "settings:updated",
        "router:status",
        "models:status",
        "models:updated",
        "requests:completed",
        "requests:stats",
        "models:pull:progress",
        "models:pull:done",
        "models:pull:error",
        "nodes:status",
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Self::MetricsUpdate(_) => "metrics:update",
            Self::LogsEntry(_) => "logs:entry",
            Self::SettingsUpdated(_) => "settings:updated",
            Self::RouterStatus(_) => "router:status",
            Self::ModelsStatus(_) => "models:status",
            Self::ModelsUpdated(_) => "models:updated",
            Self::RequestsCompleted(_) => "requests:completed",
            Self::RequestsStats(_) => "requests:stats",
            Self::PullProgress(_) => "models:pull:progress",
            Self::PullDone(_) => "models:pull:done",
            Self::PullError(_) => "models:pull:error",
            Self::NodesStatus(_) => "nodes:status",
        }
    }

    pub fn data(&self) -> &Value {
        match self {
            Self::MetricsUpdate(v)
            | Self::LogsEntry(v)
            | Self::SettingsUpdated(v)
            | Self::RouterStatus(v)
            | Self::ModelsStatus(v)
            | Self::ModelsUpdated(v)
            | Self::RequestsCompleted(v)
            | Self::RequestsStats(v)
            | Self::PullProgress(v)
            | Self::PullDone(v)
            | Self::PullError(v)
            | Self::NodesStatus(v) => v,
        }
    }
}

/// A published event with its sequence number (1, 2, ...).
#[derive(Debug, Clone)]
pub struct Published {
    pub seq: u64,
    pub event: LiveEvent,
}

/// Cheap to clone; lives in `AppState` and in every producer that publishes.
#[derive(Clone)]
pub struct Bus {
    tx: broadcast::Sender<Published>,
    /// The last sequence number handed out; held while sending, so sequence order is delivery order.
    published: Arc<Mutex<u64>>,
    delivered: watch::Sender<u64>,
    audience: Arc<AtomicUsize>,
    sessions: watch::Sender<u64>,
}

impl Default for Bus {
    fn default() -> Self {
        Self::new()
    }
}

impl Bus {
    pub fn new() -> Self {
        Self {
            tx: broadcast::channel(CAPACITY).0,
            published: Arc::default(),
            delivered: watch::channel(0).0,
            audience: Arc::default(),
            sessions: watch::channel(0).0,
        }
    }

    /// Hands `event` to the bridge; never waits for clients.
    pub fn publish(&self, event: LiveEvent) -> u64 {
        let mut last = self.published.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *last += 1;
        let seq = *last;
        if self.tx.send(Published { seq, event }).is_err() {
            // No bridge (tests, or after shutdown): nothing is owed to anyone.
            self.delivered.send_replace(seq);
        }
        seq
    }

    /// For the bridge: every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Published> {
        self.tx.subscribe()
    }

    /// For the bridge: everything up to `seq` reached the clients (or was replaced by a snapshot).
    pub fn mark_delivered(&self, seq: u64) {
        self.delivered.send_if_modified(|at| {
            let newer = seq > *at;
            if newer {
                *at = seq;
            }
            newer
        });
    }

    /// Waits (at most `limit`) until the bridge handled everything published so far.
    pub async fn delivered(&self, limit: Duration) {
        let target = *self.published.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut delivered = self.delivered.subscribe();
        let _ = tokio::time::timeout(limit, delivered.wait_for(|at| *at >= target)).await;
    }

    /// Connected dashboard clients (kept by the Socket.IO layer); producers skip work nobody would see.
    pub fn audience(&self) -> usize {
        self.audience.load(Ordering::Relaxed)
    }

    /// A client connected (called once per client, before any `left`).
    pub fn joined(&self) {
        self.audience.fetch_add(1, Ordering::Relaxed);
    }

    pub fn left(&self) {
        let _ = self.audience.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| Some(n.saturating_sub(1)));
    }

    /// Asks the bridge to disconnect clients admitted under an admin token that is no longer in force
    /// (after something other than a socket request re-read the init file).
    pub fn recheck_sessions(&self) {
        self.sessions.send_modify(|n| *n += 1);
    }

    pub fn session_rechecks(&self) -> watch::Receiver<u64> {
        self.sessions.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn events_reach_a_subscriber_in_order_and_delivery_is_awaited() {
        let bus = Bus::new();
        let mut rx = bus.subscribe();
        let a = bus.publish(LiveEvent::LogsEntry(Value::from(1)));
        let b = bus.publish(LiveEvent::ModelsStatus(Value::from(2)));
        assert!(a < b);
        let first = rx.recv().await.unwrap();
        assert_eq!((first.seq, first.event.name()), (a, "logs:entry"));
        let second = rx.recv().await.unwrap();
        assert_eq!((second.seq, second.event.data()), (b, &Value::from(2)));
        bus.mark_delivered(b);
        tokio::time::timeout(Duration::from_millis(100), bus.delivered(Duration::from_secs(5))).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_for_delivery_is_bounded() {
        let bus = Bus::new();
        let _rx = bus.subscribe();
        bus.publish(LiveEvent::MetricsUpdate(Value::Null));
        bus.delivered(Duration::from_millis(200)).await;
    }

    #[test]
    fn every_name_is_listed_once() {
        let events = [
            LiveEvent::MetricsUpdate(Value::Null),
            LiveEvent::LogsEntry(Value::Null),
            LiveEvent::SettingsUpdated(Value::Null),
            LiveEvent::RouterStatus(Value::Null),
            LiveEvent::ModelsStatus(Value::Null),
            LiveEvent::ModelsUpdated(Value::Null),
            LiveEvent::RequestsCompleted(Value::Null),
            LiveEvent::RequestsStats(Value::Null),
            LiveEvent::PullProgress(Value::Null),
            LiveEvent::PullDone(Value::Null),
            LiveEvent::PullError(Value::Null),
            LiveEvent::NodesStatus(Value::Null),
        ];
        for event in &events {
            assert_eq!(LiveEvent::NAMES.iter().filter(|n| **n == event.name()).count(), 1, "{}", event.name());
        }
        assert_eq!(LiveEvent::NAMES.len(), events.len() + 1, "snapshot plus one name per variant");
    }
}
