//! What the manager decides when a backend is wanted, as a pure function over plain data: which running
//! backends to stop to make room (other groups, memory, `backends.maxRunning`), whether the wanted one
//! must be refused, and whether its start may begin now. The manager builds the views, calls [`plan`]
//! and applies the result in order: the stops, then the refusal, then the start.

use super::memory::Need;
use super::{BackendError, BackendState};
use std::time::Instant;

/// One backend as the planner sees it.
#[derive(Debug, Clone)]
pub struct SlotView<'a> {
    pub id: &'a str,
    pub state: BackendState,
    /// `None` when it is no longer configured: then it is in no one's group.
    pub group: Option<&'a str>,
    /// Why its state last changed; a backend stopping for `memory` is memory on its way back.
    pub reason: Option<&'a str>,
    /// The later of its last request and when it became ready; `None` counts as least recent.
    pub last_active: Option<Instant>,
    /// Its estimated memory need; `None` when unknown (no memory check for it, nor room made by it).
    pub need: Option<Need>,
    /// When it last stopped (ms since the epoch).
    pub stopped_at_ms: Option<i64>,
    /// A start was asked for and has not begun.
    pub want_start: bool,
    /// Its crash backoff has not passed yet.
    pub in_backoff: bool,
    /// Never stopped to make room.
    pub pinned: bool,
}

impl SlotView<'_> {
    /// Holds a port and memory.
    fn occupies(&self) -> bool {
        matches!(self.state, BackendState::Starting | BackendState::Ready | BackendState::Stopping)
    }

    fn running(&self) -> bool {
        matches!(self.state, BackendState::Starting | BackendState::Ready)
    }

    fn need_bytes(&self) -> u64 {
        self.need.map_or(0, |n| n.total_bytes)
    }

    /// Ready and not pinned: may be stopped to make room.
    fn evictable(&self) -> bool {
        self.state == BackendState::Ready && !self.pinned
    }
}

/// Free memory as the latest metrics sample saw it.
#[derive(Debug, Clone, Copy)]
pub struct FreeMemory {
    pub bytes: u64,
    pub sampled_at_ms: i64,
}

pub struct PlanInput<'a> {
    pub wanted: &'a str,
    /// `backends.maxRunning`; 0 or less is no limit.
    pub max_running: i64,
    /// `None` (no sample yet): no memory check.
    pub memory: Option<FreeMemory>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// A backend of another group is wanted.
    GroupSwap,
    /// The wanted backend needs its memory.
    Memory,
    /// Least recently used past `backends.maxRunning`.
    Evicted,
}

impl StopReason {
    /// The status reason users see.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GroupSwap => "group swap",
            Self::Memory => "memory",
            Self::Evicted => "evicted",
        }
    }
}

#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    /// Backends to ask to stop, in this order.
    pub stop: Vec<(String, StopReason)>,
    /// The wanted backend cannot fit: its waiters get this error and it is not started.
    pub refuse: Option<BackendError>,
    /// The wanted backend may start now.
    pub start: bool,
}

/// Checks first that the wanted backend could fit once every other backend stopped (refusing, and
/// stopping nothing, when not); then stops ready backends of other groups, the least recently used ready
/// ones until its memory need fits, and the least recently used ones past `max_running`. A backend still
/// starting is never stopped here: it serves the requests waiting for it, and the next plan (on every
/// ready, exit and tick) makes room then, so alternating requests cannot starve each other.
pub fn plan(slots: &[SlotView<'_>], input: &PlanInput<'_>) -> Plan {
    let Some(wanted) = slots.iter().find(|s| s.id == input.wanted).cloned() else { return Plan::default() };
    let mut room = Room { slots: slots.to_vec(), input, stops: Vec::new() };
    if let Err(err) = room.could_fit(&wanted) {
        return Plan { refuse: Some(err), ..Plan::default() };
    }
    if let Err(err) = room.pinned_in_the_way(&wanted) {
        return Plan { refuse: Some(err), ..Plan::default() };
    }
    room.swap_groups(&wanted);
    if let Err(err) = room.free_memory(&wanted) {
        // Every unpinned ready backend is stopping by now: there is nothing left to evict.
        return Plan { stop: room.stops, refuse: Some(err), start: false };
    }
    if let Err(err) = room.evict_past_max(&wanted) {
        return Plan { stop: room.stops, refuse: Some(err), start: false };
    }
    let start = room.may_start(&wanted);
    Plan { stop: room.stops, refuse: None, start }
}

/// The views as the planned stops change them.
struct Room<'a, 'v> {
    slots: Vec<SlotView<'v>>,
    input: &'a PlanInput<'a>,
    stops: Vec<(String, StopReason)>,
}

impl<'v> Room<'_, 'v> {
    fn others(&self) -> impl Iterator<Item = &SlotView<'v>> {
        self.slots.iter().filter(|s| s.id != self.input.wanted)
    }

    fn stop(&mut self, id: &str, reason: StopReason) {
        if let Some(slot) = self.slots.iter_mut().find(|s| s.id == id) {
            slot.state = BackendState::Stopping;
            slot.reason = Some(reason.as_str());
        }
        self.stops.push((id.to_string(), reason));
    }

    /// Whether the wanted backend would fit once every unpinned backend of ours stopped; when only
    /// stopping pinned ones too would make it fit, the refusal names them.
    fn could_fit(&self, wanted: &SlotView) -> Result<(), BackendError> {
        let (Some(need), Some(free)) = (wanted.need, self.free_now()) else { return Ok(()) };
        let running = || self.others().filter(|s| s.running());
        let unpinned: u64 = running().filter(|s| !s.pinned).map(SlotView::need_bytes).sum();
        let pinned: u64 = running().filter(|s| s.pinned).map(SlotView::need_bytes).sum();
        let with_unpinned = free.saturating_add(unpinned);
        if with_unpinned < need.total_bytes && with_unpinned.saturating_add(pinned) >= need.total_bytes {
            return Err(self.pinned_refusal(wanted, "memory"));
        }
        not_enough(wanted, need, with_unpinned)
    }

    /// A pinned backend of another group holds its port and memory: the wanted one could never start.
    fn pinned_in_the_way(&self, wanted: &SlotView) -> Result<(), BackendError> {
        let other_group = |s: &&SlotView| s.group.is_none() || s.group != wanted.group;
        if self.others().any(|s| s.pinned && s.occupies() && other_group(&s)) {
            return Err(self.pinned_refusal(wanted, "group swap"));
        }
        Ok(())
    }

    fn pinned_refusal(&self, wanted: &SlotView, why: &'static str) -> BackendError {
        let pinned = self.others().filter(|s| s.pinned && s.running()).map(|s| s.id.to_string()).collect();
        BackendError::Pinned { model: wanted.id.to_string(), pinned, why }
    }

    /// Free memory from the sample, plus what our backends stopping (or stopped since it) give back.
    fn free_now(&self) -> Option<u64> {
        let memory = self.input.memory?;
        let giving_back = self.others().filter(|s| {
            let since_sample = s.stopped_at_ms.is_some_and(|at| at > memory.sampled_at_ms) && !s.occupies();
            s.state == BackendState::Stopping || since_sample
        });
        Some(giving_back.map(SlotView::need_bytes).fold(memory.bytes, u64::saturating_add))
    }

    fn swap_groups(&mut self, wanted: &SlotView) {
        let others: Vec<String> = self
            .others()
            .filter(|s| s.evictable() && (s.group.is_none() || s.group != wanted.group))
            .map(|s| s.id.to_string())
            .collect();
        for id in others {
            self.stop(&id, StopReason::GroupSwap);
        }
    }

    /// Stops the least recently used ready backends until the wanted one's need fits.
    fn free_memory(&mut self, wanted: &SlotView) -> Result<(), BackendError> {
        let (Some(need), Some(mut free)) = (wanted.need, self.free_now()) else { return Ok(()) };
        while free < need.total_bytes {
            let Some(victim) = self.least_recently_used() else { break };
            free = free.saturating_add(victim.need_bytes());
            let id = victim.id.to_string();
            self.stop(&id, StopReason::Memory);
        }
        not_enough(wanted, need, free)
    }

    /// Stops the least recently used past `max_running`; refuses when only pinned ones are left to stop.
    fn evict_past_max(&mut self, wanted: &SlotView) -> Result<(), BackendError> {
        let Ok(max) = usize::try_from(self.input.max_running) else { return Ok(()) };
        if max == 0 {
            return Ok(());
        }
        while self.others().filter(|s| s.running()).count() >= max {
            let Some(lru) = self.least_recently_used() else {
                let only_pinned = self.others().filter(|s| s.running()).all(|s| s.pinned);
                return if only_pinned { Err(self.pinned_refusal(wanted, "backends.maxRunning")) } else { Ok(()) };
            };
            let id = lru.id.to_string();
            self.stop(&id, StopReason::Evicted);
        }
        Ok(())
    }

    /// The first of the least recently used unpinned ready backends other than the wanted one.
    fn least_recently_used(&self) -> Option<&SlotView<'v>> {
        self.others().filter(|s| s.evictable()).min_by_key(|s| s.last_active)
    }

    /// Wanted, not running, past its backoff, and nothing in the way: no other group holding a port or
    /// memory, no memory still being freed, and fewer than `max_running` running.
    fn may_start(&self, wanted: &SlotView) -> bool {
        if !wanted.want_start || wanted.occupies() || wanted.in_backoff {
            return false;
        }
        let blocked = self.others().any(|s| s.occupies() && (s.group.is_none() || s.group != wanted.group));
        let freeing_memory = self
            .slots
            .iter()
            .any(|s| s.state == BackendState::Stopping && s.reason == Some(StopReason::Memory.as_str()));
        let running = self.slots.iter().filter(|s| s.occupies()).count();
        let full = usize::try_from(self.input.max_running).is_ok_and(|max| max > 0 && running >= max);
        !(blocked || freeing_memory || full)
    }
}

fn not_enough(wanted: &SlotView, need: Need, free: u64) -> Result<(), BackendError> {
    if free < need.total_bytes {
        return Err(BackendError::NotEnoughMemory { model: wanted.id.to_string(), need, free });
    }
    Ok(())
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
