//! The planner driven with plain views: no processes, no clock but fixed instants.

use super::*;
use BackendState::{Ready, Starting, Stopped, Stopping};
use std::time::{Duration, Instant};

const GIB: u64 = 1 << 30;
/// When the memory sample in [`input`] was taken (ms since the epoch).
const SAMPLED_AT: i64 = 1_000;

/// A backend in its own group, with nothing known about its use or memory.
fn slot(id: &'static str, state: BackendState) -> SlotView<'static> {
    SlotView {
        id,
        state,
        group: Some(id),
        reason: None,
        last_active: None,
        need: None,
        stopped_at_ms: None,
        want_start: false,
        in_backoff: false,
        pinned: false,
    }
}

/// `id` in group `g`, ready, last used `secs` after `t0`.
fn ready_in_g(id: &'static str, t0: Instant, secs: u64) -> SlotView<'static> {
    SlotView { group: Some("g"), last_active: Some(t0 + Duration::from_secs(secs)), ..slot(id, Ready) }
}

/// The backend asked for: `w`, in group `g`, stopped, wanted.
fn wanted() -> SlotView<'static> {
    SlotView { group: Some("g"), want_start: true, ..slot("w", Stopped) }
}

fn need(gib: u64) -> Option<Need> {
    Some(Need { weights_bytes: gib * GIB, kv_cache_bytes: 0, context: 4096, total_bytes: gib * GIB })
}

fn input(max_running: i64, free_gib: Option<u64>) -> PlanInput<'static> {
    let memory = free_gib.map(|gib| FreeMemory { bytes: gib * GIB, sampled_at_ms: SAMPLED_AT });
    PlanInput { wanted: "w", max_running, memory }
}

fn stops(plan: &Plan) -> Vec<(&str, &str)> {
    plan.stop.iter().map(|(id, reason)| (id.as_str(), reason.as_str())).collect()
}

#[test]
fn a_group_swap_stops_ready_backends_of_other_groups_and_leaves_a_starting_one_alone() {
    let t0 = Instant::now();
    let slots = [
        slot("other-ready", Ready),
        slot("other-starting", Starting),
        SlotView { group: None, ..slot("unconfigured", Ready) },
        ready_in_g("same-group", t0, 1),
        wanted(),
    ];
    let plan = plan(&slots, &input(0, None));
    assert_eq!(stops(&plan), [("other-ready", "group swap"), ("unconfigured", "group swap")]);
    assert!(!plan.start, "waits until the other groups are gone");
    assert_eq!(plan.refuse, None);

    let gone =
        [slot("other-ready", Stopped), slot("other-starting", Stopped), ready_in_g("same-group", t0, 1), wanted()];
    assert_eq!(super::plan(&gone, &input(0, None)), Plan { start: true, ..Plan::default() });
}

#[test]
fn past_max_running_the_least_recently_used_is_evicted() {
    let t0 = Instant::now();
    let slots = [
        ready_in_g("recent", t0, 30),
        ready_in_g("oldest", t0, 10),
        ready_in_g("older", t0, 20),
        SlotView { group: Some("g"), ..slot("starting", Starting) },
        wanted(),
    ];
    let plan = plan(&slots, &input(3, None));
    assert_eq!(stops(&plan), [("oldest", "evicted"), ("older", "evicted")]);
    assert!(!plan.start, "the evicted still hold their ports until they exit");

    let never_used = SlotView { last_active: None, ..ready_in_g("never-used", t0, 0) };
    let plan = super::plan(&[ready_in_g("recent", t0, 30), never_used, wanted()], &input(2, None));
    assert_eq!(stops(&plan), [("never-used", "evicted")], "no activity at all counts as least recent");
}

#[test]
fn memory_room_stops_the_least_recently_used_until_the_need_fits() {
    let t0 = Instant::now();
    let slots = [
        SlotView { need: need(2), ..ready_in_g("a", t0, 30) },
        SlotView { need: need(2), ..ready_in_g("b", t0, 10) },
        SlotView { need: need(2), ..ready_in_g("c", t0, 20) },
        SlotView { need: need(4), ..wanted() },
    ];
    let plan = plan(&slots, &input(0, Some(1)));
    assert_eq!(stops(&plan), [("b", "memory"), ("c", "memory")], "1 + 2 + 2 GiB covers 4");
    assert!(!plan.start, "waits while memory is being freed");

    let stopped_since_sample =
        |id| SlotView { need: need(2), stopped_at_ms: Some(SAMPLED_AT + 1), ..slot(id, Stopped) };
    let after = [
        SlotView { need: need(2), ..ready_in_g("a", t0, 30) },
        stopped_since_sample("b"),
        stopped_since_sample("c"),
        SlotView { need: need(4), ..wanted() },
    ];
    let plan = super::plan(&after, &input(0, Some(1)));
    assert_eq!((stops(&plan), plan.start), (vec![], true), "memory freed after the sample counts as free");
}

#[test]
fn a_backend_that_would_not_fit_even_after_stopping_all_is_refused_and_nothing_stopped() {
    let t0 = Instant::now();
    let slots = [
        SlotView { need: need(2), ..slot("other-group", Ready) },
        SlotView { need: need(2), ..ready_in_g("a", t0, 1) },
        SlotView { need: need(8), ..wanted() },
    ];
    let plan = plan(&slots, &input(0, Some(1)));
    assert_eq!((stops(&plan), plan.start), (vec![], false));
    let Some(err) = plan.refuse else { panic!("not refused: {plan:?}") };
    assert_eq!(err, BackendError::NotEnoughMemory { model: "w".into(), need: need(8).unwrap(), free: 5 * GIB });
    assert!(
        err.to_string().contains("needs about 8.0 GiB")
            && err.to_string().contains("only 5.0 GiB is free")
            && err.to_string().contains("even after stopping the other backends"),
        "{err}"
    );
}

#[test]
fn memory_held_by_a_starting_backend_is_not_taken_so_the_rest_is_stopped_and_then_refused() {
    let t0 = Instant::now();
    let slots = [
        SlotView { group: Some("g"), need: need(3), ..slot("starting", Starting) },
        SlotView { need: need(1), ..ready_in_g("ready", t0, 1) },
        SlotView { need: need(4), ..wanted() },
    ];
    let plan = plan(&slots, &input(0, Some(1)));
    assert_eq!(stops(&plan), [("ready", "memory")]);
    assert_eq!(plan.refuse.map(|e| e.to_string().contains("only 2.0 GiB is free")), Some(true));
    assert!(!plan.start);
}

#[test]
fn a_start_waits_while_another_group_occupies_memory_is_freed_at_max_running_or_in_backoff() {
    let t0 = Instant::now();
    let may_start = |slots: &[SlotView], max| plan(slots, &input(max, None)).start;
    assert!(may_start(&[wanted()], 0), "nothing in the way");
    assert!(!may_start(&[slot("other", Stopping), wanted()], 0), "another group still stopping");
    let freeing = SlotView { group: Some("g"), reason: Some("memory"), ..slot("freeing", Stopping) };
    assert!(!may_start(&[freeing.clone(), wanted()], 0), "a memory stop in progress");
    assert!(may_start(&[SlotView { reason: Some("idle"), ..freeing }, wanted()], 0), "other stops do not hold it");
    let starting = SlotView { group: Some("g"), ..slot("starting", Starting) };
    assert!(!may_start(&[starting.clone(), wanted()], 1), "at maxRunning (a starting one is not evicted)");
    assert!(may_start(&[starting, ready_in_g("ready", t0, 1), wanted()], 0), "same group, no limit");
    assert!(!may_start(&[SlotView { in_backoff: true, ..wanted() }], 0), "crash backoff");
    assert!(!may_start(&[SlotView { want_start: false, ..wanted() }], 0), "not wanted");
    assert!(!may_start(&[SlotView { state: Starting, ..wanted() }], 0), "already starting");
}

#[test]
fn without_a_memory_sample_or_a_known_need_there_is_no_memory_check() {
    let huge = SlotView { need: need(1 << 20), ..wanted() };
    assert_eq!(plan(&[huge], &input(0, None)), Plan { start: true, ..Plan::default() });
    assert_eq!(plan(&[wanted()], &input(0, Some(0))), Plan { start: true, ..Plan::default() });
}

#[test]
fn an_unknown_wanted_backend_plans_nothing() {
    assert_eq!(plan(&[slot("a", Ready)], &input(1, Some(0))), Plan::default());
}

fn pinned(view: SlotView<'static>) -> SlotView<'static> {
    SlotView { pinned: true, ..view }
}

fn refused_by(plan: &Plan) -> Option<(Vec<String>, &'static str)> {
    match &plan.refuse {
        Some(BackendError::Pinned { pinned, why, .. }) => Some((pinned.clone(), why)),
        _ => None,
    }
}

#[test]
fn a_pinned_backend_of_another_group_refuses_the_swap_and_nothing_is_stopped() {
    let t0 = Instant::now();
    let slots = [pinned(slot("kept", Ready)), slot("other", Ready), ready_in_g("same", t0, 1), wanted()];
    let plan = plan(&slots, &input(0, None));
    assert_eq!(refused_by(&plan), Some((vec!["kept".to_string()], "group swap")));
    assert!(plan.stop.is_empty() && !plan.start);
}

#[test]
fn eviction_for_memory_or_max_running_passes_over_pinned_backends() {
    let t0 = Instant::now();
    let slots = [
        SlotView { need: need(2), ..pinned(ready_in_g("oldest-pinned", t0, 1)) },
        SlotView { need: need(2), ..ready_in_g("old", t0, 10) },
        SlotView { need: need(2), ..ready_in_g("recent", t0, 30) },
        SlotView { need: need(2), ..wanted() },
    ];
    assert_eq!(stops(&plan(&slots, &input(0, Some(1)))), [("old", "memory")]);
    assert_eq!(stops(&plan(&slots, &input(3, None))), [("old", "evicted")]);
}

#[test]
fn a_load_that_only_fits_by_stopping_pinned_backends_is_refused_naming_them() {
    let t0 = Instant::now();
    let memory = [
        SlotView { need: need(4), ..pinned(ready_in_g("big", t0, 1)) },
        SlotView { need: need(1), ..ready_in_g("small", t0, 10) },
        SlotView { need: need(4), ..wanted() },
    ];
    let plan = plan(&memory, &input(0, Some(1)));
    assert_eq!(refused_by(&plan), Some((vec!["big".to_string()], "memory")));
    assert!(plan.stop.is_empty(), "nothing is stopped for a load that cannot happen");

    let full = [pinned(ready_in_g("a", t0, 1)), pinned(ready_in_g("b", t0, 2)), wanted()];
    let plan = super::plan(&full, &input(2, None));
    assert_eq!(refused_by(&plan), Some((vec!["a".to_string(), "b".to_string()], "backends.maxRunning")));
}
