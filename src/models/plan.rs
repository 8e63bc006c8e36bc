//! What loading a model would do, without doing it: the memory it needs, what is free, which loaded
//! models would be unloaded (router `--models-max`, own-backend groups, `backends.maxRunning`, memory)
//! and how busy each of them is. `models:plan` answers with [`LoadPlan`]; `models:pull:files` asks
//! [`Models::fit_new`] about a file that is not on this machine yet.
//!
//! The answer comes from the same decisions a load makes: own backends from the manager's planner
//! ([`crate::backends::BackendsHandle::preview`]), router-mode models from [`Models::router_room`], which
//! a load also follows (it unloads that victim itself before asking the router, so the router never
//! picks another one).

use super::router::RouterRoom;
use super::view::Details;
use super::{ModelError, ModelKind, ModelStatus, ModelView, Models};
use crate::backends::memory;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FitVerdict {
    /// Fits in what is free now.
    Fits,
    /// Fits once the listed loaded models are unloaded.
    Evict,
    /// Does not fit even with every unpinned model unloaded.
    No,
    /// No memory sample yet (or no estimate).
    Unknown,
}

/// Whether a model of `need_bytes` fits on this machine.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fit {
    pub verdict: FitVerdict,
    pub need_bytes: u64,
    pub free_bytes: Option<u64>,
    pub evicts: Vec<String>,
}

/// A loaded model a load would unload, and how busy it is now.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Eviction {
    pub id: String,
    /// `models-max`, `group swap`, `memory` or `evicted` (`backends.maxRunning`).
    pub reason: String,
    pub running: usize,
    pub queued: usize,
}

/// `models:plan`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadPlan {
    pub id: String,
    pub kind: ModelKind,
    pub loaded: bool,
    /// The estimate fits in what is free once the evictions are done (true when unknown).
    pub fits: bool,
    pub need_bytes: Option<u64>,
    pub free_bytes: Option<u64>,
    pub evicts: Vec<Eviction>,
    /// Pinned models that stand in the way.
    pub blocked_by: Vec<String>,
    /// What a load would be refused with, if it would be.
    pub refused: Option<String>,
    pub summary: String,
}

impl Models {
    /// What loading `id` would do now; changes nothing.
    pub async fn plan(&self, id: &str) -> Result<LoadPlan, ModelError> {
        let view = self.get(id).ok_or_else(|| ModelError::NotFound(id.to_string()))?;
        let loaded = matches!(view.live.status, ModelStatus::Loaded | ModelStatus::Loading);
        let need_bytes = self.need_of(&view);
        let free_bytes = self.free_memory();
        let mut plan = LoadPlan {
            id: view.id.clone(),
            kind: view.source,
            loaded,
            fits: true,
            need_bytes,
            free_bytes,
            evicts: Vec::new(),
            blocked_by: Vec::new(),
            refused: None,
            summary: String::new(),
        };
        if !loaded {
            match view.source {
                ModelKind::Backend => self.plan_backend(&mut plan).await?,
                ModelKind::Router => self.plan_router(&mut plan),
            }
        }
        plan.summary = summary(&plan);
        Ok(plan)
    }

    async fn plan_backend(&self, plan: &mut LoadPlan) -> Result<(), ModelError> {
        let preview = self.0.parts.backends.preview(&plan.id).await?;
        plan.evicts = preview.stop.iter().map(|(id, reason)| self.eviction(id, reason.as_str())).collect();
        if let Some(err) = preview.refuse {
            plan.fits = false;
            if let crate::backends::BackendError::Pinned { pinned, .. } = &err {
                plan.blocked_by = pinned.clone();
            }
            plan.refused = Some(err.to_string());
        }
        Ok(())
    }

    fn plan_router(&self, plan: &mut LoadPlan) {
        match self.router_room(&plan.id) {
            RouterRoom::Free | RouterRoom::Busy => {}
            RouterRoom::Evict(victim) => plan.evicts.push(self.eviction(&victim, "models-max")),
            RouterRoom::Pinned(pinned) => {
                plan.refused = Some(pinned_refusal(&plan.id, &pinned));
                plan.blocked_by = pinned;
                plan.fits = false;
            }
        }
        if let (Some(need), Some(free)) = (plan.need_bytes, plan.free_bytes) {
            let freed: u64 = plan.evicts.iter().filter_map(|e| self.get(&e.id)).filter_map(|m| self.need_of(&m)).sum();
            plan.fits &= free.saturating_add(freed) >= need;
        }
    }

    fn eviction(&self, id: &str, reason: &str) -> Eviction {
        let (running, queued) = self.0.parts.activity.load_of(id);
        Eviction { id: id.to_string(), reason: reason.to_string(), running, queued }
    }

    /// The estimated memory a model needs: own backends' estimate; for router-mode files, the same
    /// estimate at the router's context (`performance.contextSize`).
    fn need_of(&self, view: &ModelView) -> Option<u64> {
        match &view.details {
            Details::Backend(b) => b.memory.get("totalBytes").and_then(serde_json::Value::as_u64),
            Details::File(f) => {
                let summary = summary_of(f.metadata.as_ref()?);
                let context = self.config().performance.context_size.max(0).to_string();
                let args = ["-c".to_string(), context];
                memory::estimate(&summary, u64::try_from(f.size_bytes).ok()?, &args).ok().map(|n| n.total_bytes)
            }
            Details::Preset(_) => None,
        }
    }

    /// The fit of a model that is not configured yet, against the loaded models that may be unloaded
    /// (least recently used first; pinned ones never).
    pub fn fit_new(&self, need_bytes: u64) -> Fit {
        let Some(free) = self.free_memory() else {
            return Fit { verdict: FitVerdict::Unknown, need_bytes, free_bytes: None, evicts: Vec::new() };
        };
        let mut room = free;
        let mut evicts = Vec::new();
        for (id, bytes) in self.evictable_by_lru() {
            if room >= need_bytes {
                break;
            }
            room = room.saturating_add(bytes);
            evicts.push(id);
        }
        let verdict = match (room >= need_bytes, evicts.is_empty()) {
            (true, true) => FitVerdict::Fits,
            (true, false) => FitVerdict::Evict,
            (false, _) => FitVerdict::No,
        };
        if verdict == FitVerdict::No {
            evicts.clear();
        }
        Fit { verdict, need_bytes, free_bytes: Some(free), evicts }
    }

    /// Loaded, unpinned models with their estimated memory, least recently used first.
    fn evictable_by_lru(&self) -> Vec<(String, u64)> {
        let activity = &self.0.parts.activity;
        let mut loaded: Vec<(String, u64)> = self
            .list()
            .into_iter()
            .filter(|m| m.live.status == ModelStatus::Loaded && !m.live.pinned)
            .filter_map(|m| Some((m.id.clone(), self.need_of(&m)?)))
            .collect();
        loaded.sort_by_key(|(id, _)| activity.last_active(id));
        loaded
    }
}

/// The GGUF summary back from the catalog's stored JSON (the fields the estimate reads).
fn summary_of(metadata: &serde_json::Value) -> crate::gguf::ModelSummary {
    let number = |key: &str| metadata.get(key).and_then(serde_json::Value::as_u64);
    crate::gguf::ModelSummary {
        context_length: number("contextLength"),
        block_count: number("blockCount"),
        head_count: number("headCount"),
        head_count_kv: number("headCountKv"),
        embedding_length: number("embeddingLength"),
        ..Default::default()
    }
}

pub(super) fn pinned_refusal(id: &str, pinned: &[String]) -> String {
    format!(
        "loading '{id}' would unload pinned model(s) {} (models.maxLoaded is reached); unpin or unload one first",
        pinned.join(", ")
    )
}

/// One sentence for people: "Loading b will unload a, which is serving 2 requests."
fn summary(plan: &LoadPlan) -> String {
    if plan.loaded {
        return format!("{} is already loaded.", plan.id);
    }
    if let Some(refused) = &plan.refused {
        return format!("{} cannot be loaded: {refused}", plan.id);
    }
    let memory = match (plan.need_bytes, plan.free_bytes) {
        (Some(need), Some(free)) => format!(" It needs about {}; {} is free.", memory::gib(need), memory::gib(free)),
        _ => String::new(),
    };
    if plan.evicts.is_empty() {
        let fits = if plan.fits { "fits" } else { "may not fit" };
        return format!("Loading {} unloads nothing; it {fits}.{memory}", plan.id);
    }
    let each: Vec<String> = plan.evicts.iter().map(describe).collect();
    format!("Loading {} will unload {}.{memory}", plan.id, each.join(", and "))
}

fn describe(e: &Eviction) -> String {
    let busy = match (e.running, e.queued) {
        (0, 0) => "which is idle".to_string(),
        (r, 0) => format!("which is serving {r} request{}", if r == 1 { "" } else { "s" }),
        (r, q) => format!("which is serving {r} and has {q} waiting"),
    };
    format!("{} ({}), {busy}", e.id, e.reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(evicts: Vec<Eviction>) -> LoadPlan {
        LoadPlan {
            id: "b".into(),
            kind: ModelKind::Backend,
            loaded: false,
            fits: true,
            need_bytes: Some(1 << 30),
            free_bytes: Some(3 << 30),
            evicts,
            blocked_by: Vec::new(),
            refused: None,
            summary: String::new(),
        }
    }

    #[test]
    fn the_summary_names_what_is_unloaded_and_how_busy_it_is() {
        let busy = Eviction { id: "a".into(), reason: "group swap".into(), running: 2, queued: 0 };
        let text = summary(&plan(vec![busy]));
        assert_eq!(
            text,
            "Loading b will unload a (group swap), which is serving 2 requests. It needs about 1.0 GiB; 3.0 GiB is free."
        );
        assert!(summary(&plan(vec![])).starts_with("Loading b unloads nothing; it fits."));
        let refused = LoadPlan { refused: Some("no room".into()), ..plan(vec![]) };
        assert_eq!(summary(&refused), "b cannot be loaded: no room");
    }

    #[test]
    fn the_estimate_reads_the_catalogs_summary_fields() {
        let meta = serde_json::json!({"blockCount": 30, "headCount": 9, "headCountKv": 3, "embeddingLength": 576});
        let s = summary_of(&meta);
        assert_eq!(
            (s.block_count, s.head_count, s.head_count_kv, s.embedding_length),
            (Some(30), Some(9), Some(3), Some(576))
        );
    }
}
