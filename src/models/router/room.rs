//! Room for a router-mode load under `models.maxLoaded`. llama.cpp's router would evict its least recently
//! used idle model by itself, pins unknown to it; so before asking it to load, we unload the model it would
//! pick (never a pinned one) and it never has to choose. Loads deciding at the same time are serialized,
//! and a model let through counts as occupying its slot until the router reports it (or the claim
//! expires), so two concurrent loads cannot both take the last free slot.

use super::super::plan::pinned_refusal;
use super::super::{Action, ModelError, ModelStatus, Models};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long a load let through holds its slot before the router reports it loading.
const CLAIM_FOR: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(50);

/// Where a router-mode load finds its slot.
#[derive(Debug, Clone, PartialEq)]
pub enum RouterRoom {
    /// Loaded already, no limit, or a slot is free.
    Free,
    /// The least recently used idle, unpinned loaded model must go first.
    Evict(String),
    /// Every model holding a slot is pinned: the load is refused.
    Pinned(Vec<String>),
    /// Every unpinned loaded model is serving requests: the router queues the load until one is idle.
    Busy,
}

#[derive(Default)]
pub struct Room {
    deciding: tokio::sync::Mutex<()>,
    claims: std::sync::Mutex<HashMap<String, Instant>>,
}

impl Models {
    /// The router-mode model a load of `id` must unload first: the least recently used loaded one with
    /// nothing in flight or queued, never a pinned one (as llama.cpp's router picks, plus pins).
    pub fn router_room(&self, id: &str) -> RouterRoom {
        let max = usize::try_from(self.config().models.max_loaded).unwrap_or(0);
        let occupying = self.occupying();
        if max == 0 || occupying.iter().any(|m| m == id) || occupying.len() < max {
            return RouterRoom::Free;
        }
        let (table, activity) = (&self.0.table, &self.0.parts.activity);
        let idle = occupying.iter().filter(|m| table.get(m).status == ModelStatus::Loaded && !activity.busy(m));
        let victim = idle
            .filter(|m| !self.router_pinned(m))
            .min_by_key(|m| activity.last_active(m).unwrap_or(table.get(m).since));
        match victim {
            Some(victim) => RouterRoom::Evict(victim.clone()),
            None if occupying.iter().all(|m| self.router_pinned(m)) => RouterRoom::Pinned(occupying),
            None => RouterRoom::Busy,
        }
    }

    /// Models holding a slot: loaded or loading as the router reports them, or let through by us a moment ago.
    fn occupying(&self) -> Vec<String> {
        let table = &self.0.table;
        let mut ids: Vec<String> = table
            .ids()
            .into_iter()
            .filter(|m| matches!(table.get(m).status, ModelStatus::Loaded | ModelStatus::Loading))
            .collect();
        if let Ok(mut claims) = self.0.room.claims.lock() {
            // A claim ends when the router reports the model (loading, loaded, failed, or unloaded again).
            let unreported = |m: &str, at: &Instant| {
                let live = table.get(m);
                live.status == ModelStatus::Unloaded && (!table.contains(m) || live.since <= *at)
            };
            claims.retain(|m, at| at.elapsed() < CLAIM_FOR && unreported(m, at));
            ids.extend(claims.keys().filter(|m| !ids.contains(m)).cloned().collect::<Vec<_>>());
        }
        ids
    }

    /// Before a router-mode load: unloads the model [`router_room`](Self::router_room) picks and waits
    /// (at most `startup.timeout`) until it is gone, or refuses when only pinned models hold the slots.
    pub(in crate::models) async fn make_router_room(&self, id: &str) -> Result<(), ModelError> {
        // The hot path: every request for a loaded model passes here without taking the lock.
        let loaded = matches!(self.0.table.get(id).status, ModelStatus::Loaded | ModelStatus::Loading);
        if loaded || self.config().models.max_loaded <= 0 {
            return Ok(());
        }
        let _one_at_a_time = self.0.room.deciding.lock().await;
        let limit = Duration::from_millis(u64::try_from(self.config().startup.timeout).unwrap_or(0));
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match self.router_room(id) {
                RouterRoom::Free => break,
                RouterRoom::Pinned(pinned) => return Err(ModelError::Pinned(pinned_refusal(id, &pinned))),
                RouterRoom::Evict(victim) => {
                    self.evict_for(id, &victim, deadline).await?;
                    break;
                }
                // With no pinned model loaded, the router's own queue may pick whichever comes free. With one,
                // it might pick the pinned model once it is idle: wait here for an unpinned one instead.
                RouterRoom::Busy if !self.occupying().iter().any(|m| self.router_pinned(m)) => break,
                RouterRoom::Busy if tokio::time::Instant::now() >= deadline => {
                    return Err(ModelError::Pinned(format!(
                        "loading '{id}' needs a slot (models.maxLoaded): the unpinned loaded models stayed busy for {} ms (startup.timeout) and the others are pinned",
                        limit.as_millis()
                    )));
                }
                RouterRoom::Busy => tokio::time::sleep(POLL).await,
            }
        }
        if let Ok(mut claims) = self.0.room.claims.lock()
            && self.0.table.get(id).status == ModelStatus::Unloaded
        {
            claims.insert(id.to_string(), Instant::now());
        }
        Ok(())
    }

    async fn evict_for(&self, id: &str, victim: &str, deadline: tokio::time::Instant) -> Result<(), ModelError> {
        tracing::info!(model = %id, evicted = %victim, "models.maxLoaded reached: unloading the least recently used first");
        self.router_request(victim, Action::Unload, "evicted").await?;
        while matches!(self.0.table.get(victim).status, ModelStatus::Loaded | ModelStatus::Unloading)
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(POLL).await;
        }
        Ok(())
    }
}
