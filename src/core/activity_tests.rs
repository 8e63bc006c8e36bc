//! Time is paused (tokio's test clock): waits and timeouts advance only when the test says so or when
//! every task is idle, so no assertion depends on how fast the machine is.

use super::*;

fn limits(slots: usize, queue_size: usize, timeout_ms: u64) -> Limits {
    Limits { slots, queue_size, queue_timeout: Duration::from_millis(timeout_ms) }
}

/// Waits (on the gates' change signal, not a clock) until `model` has `queued` requests waiting; fails
/// (at once, on the paused clock) if that never happens.
async fn until_queued(gates: &Gates, model: &str, queued: usize) {
    let reached = async {
        loop {
            let changed = gates.changed.notified();
            if gates.stats().iter().any(|s| s.model == model && s.queued == queued) {
                return;
            }
            changed.await;
        }
    };
    let never = tokio::time::timeout(Duration::from_secs(3600), reached).await;
    assert!(never.is_ok(), "{model} never had {queued} request(s) queued: {:?}", gates.stats());
}

fn spawn_admit(gates: &Gates, l: Limits) -> tokio::task::JoinHandle<Result<Duration, AdmissionError>> {
    let gates = gates.clone();
    tokio::spawn(async move { gates.admit("m", &l).await.map(|a| a.waited) })
}

#[tokio::test(start_paused = true)]
async fn a_full_queue_refuses_at_once_and_a_slow_slot_times_out() {
    let gates = Gates::default();
    let first = gates.admit("m", &limits(1, 1, 100)).await.unwrap();
    let waiting = spawn_admit(&gates, limits(1, 1, 100));
    until_queued(&gates, "m", 1).await;
    match gates.admit("m", &limits(1, 1, 100)).await {
        Err(AdmissionError::QueueFull { queued: 1, retry_after: 1, .. }) => {}
        other => panic!("expected a full queue, got {:?}", other.map(|a| a.waited)),
    }
    match waiting.await.unwrap() {
        Err(AdmissionError::QueueTimeout { waited_ms, retry_after: 1, .. }) => assert_eq!(waited_ms, 100),
        other => panic!("expected a queue timeout, got {other:?}"),
    }
    let stats = &gates.stats()[0];
    assert_eq!((stats.active, stats.queued, stats.limit), (1, 0, 1));
    assert_eq!(stats.max_wait_ms, 100, "a timed-out wait counts towards the figures");
    drop(first);
    assert_eq!(gates.stats()[0].active, 0);
    assert_eq!(gates.active_total(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_waiting_request_gets_the_slot_when_it_frees_and_its_wait_is_recorded() {
    let gates = Gates::default();
    let first = gates.admit("m", &limits(1, 4, 2_000)).await.unwrap();
    assert_eq!(first.waited, Duration::ZERO);
    let next = spawn_admit(&gates, limits(1, 4, 2_000));
    until_queued(&gates, "m", 1).await;
    assert!(gates.busy("m"));
    tokio::time::advance(Duration::from_millis(1_500)).await;
    drop(first);
    assert_eq!(next.await.unwrap().unwrap(), Duration::from_millis(1_500));
    let stats = &gates.stats()[0];
    assert_eq!((stats.active, stats.queued), (0, 0));
    assert_eq!(stats.max_wait_ms, 1_500);
    assert_eq!(stats.avg_wait_ms, 750.0, "averaged over both admissions (0 ms and 1500 ms)");
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_the_recent_average_wait_rounded_up_between_1_and_60_seconds() {
    let gates = Gates::default();
    let gate = gates.gate("m", 1);
    assert_eq!(gate.stats("m").avg_wait_ms, 0.0, "no waits yet: zero, not 0/0");
    assert_eq!(gate.retry_after(), 1, "no waits yet");
    gate.record_wait(Duration::from_millis(2_500));
    assert_eq!(gate.retry_after(), 3);
    for _ in 0..RECENT_WAITS {
        gate.record_wait(Duration::from_secs(600));
    }
    assert_eq!(gate.retry_after(), 60);
    assert_eq!(gate.stats("m").avg_wait_ms, 600_000.0, "only the last {RECENT_WAITS} waits count");
}

#[tokio::test(start_paused = true)]
async fn a_changed_slot_count_replaces_the_gate_and_running_requests_keep_their_slot() {
    let gates = Gates::default();
    let old = gates.admit("m", &limits(1, 0, 100)).await.unwrap();
    assert!(matches!(gates.admit("m", &limits(1, 0, 100)).await, Err(AdmissionError::QueueFull { .. })));
    let a = gates.admit("m", &limits(2, 0, 100)).await.unwrap();
    let b = gates.admit("m", &limits(2, 0, 100)).await.unwrap();
    assert_eq!(gates.stats()[0].limit, 2);
    assert_eq!(gates.active_total(), 2, "only the current gates are counted");
    drop((old, a, b));
    assert!(!gates.busy("m"));
}

#[tokio::test(start_paused = true)]
async fn busy_and_last_active_follow_claims_and_requests_per_model() {
    let gates = Gates::default();
    assert!(!gates.busy("m"));
    assert_eq!(gates.last_active("m"), None);
    let claim = gates.claim("m");
    let second = gates.claim("m");
    assert!(gates.busy("m") && !gates.busy("other"));
    drop(claim);
    assert!(gates.busy("m"), "one claim is still held");
    drop(second);
    assert!(!gates.busy("m"));

    let admitted = gates.admit("m", &limits(1, 0, 100)).await.unwrap();
    let started = gates.last_active("m").unwrap();
    tokio::time::advance(Duration::from_secs(5)).await;
    assert!(gates.busy("m"));
    drop(admitted);
    assert!(!gates.busy("m"));
    assert_eq!(gates.last_active("m").unwrap() - started, Duration::from_secs(5), "finishing counts as activity");
}

#[test]
fn requests_waiting_for_a_start_are_capped_until_one_leaves() {
    let gates = Gates::default();
    let first = gates.wait_for_start("m", 2).unwrap();
    let _second = gates.wait_for_start("m", 2).unwrap();
    assert!(matches!(gates.wait_for_start("m", 2), Err(AdmissionError::QueueFull { queued: 2, .. })));
    assert!(gates.wait_for_start("other", 2).is_ok(), "per model");
    drop(first);
    assert!(gates.wait_for_start("m", 2).is_ok());
    assert!(!gates.busy("m"), "waiting for a start is not a claim on a running model");
}
