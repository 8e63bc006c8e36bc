use super::*;
use tokio::sync::watch;

fn status(state: RouterState) -> RouterStatus {
    RouterStatus { state, ..RouterStatus::stopped() }
}

fn running() -> RouterStatus {
    let key = crate::process::Secret::random().expect("urandom");
    RouterStatus { url: Some("http://127.0.0.1:8134".into()), key: Some(key), ..status(RouterState::Running) }
}

#[test]
fn a_router_starting_or_crashed_is_coming_and_one_stopped_or_failed_only_when_a_start_is_on_its_way() {
    for state in [RouterState::Starting, RouterState::Crashed] {
        assert_eq!(outlook(&status(state), false, false), Outlook::Coming, "{state:?}");
    }
    for state in [RouterState::Stopped, RouterState::Stopping, RouterState::Failed] {
        assert_eq!(outlook(&status(state), true, false), Outlook::Coming, "{state:?} with a start on its way");
        assert_eq!(outlook(&status(state), false, false), Outlook::Down, "{state:?} on purpose");
    }
    let up = running();
    assert_eq!(outlook(&up, true, false), Outlook::Running(up.upstream().expect("running")));
    assert_eq!(outlook(&up, false, true), Outlook::Coming, "draining before a restart: wait for the next");
    assert_eq!(outlook(&RouterStatus { key: None, ..up }, false, false), Outlook::Down, "no key: not reachable");
}

#[tokio::test(start_paused = true)]
async fn a_request_waits_until_the_router_runs() {
    let (status_tx, status_rx) = watch::channel(status(RouterState::Stopped));
    let (coming_tx, coming_rx) = watch::channel(true);
    let handle = RouterHandle::detached(status_rx, coming_rx);
    assert!(handle.coming_up());
    let t0 = Instant::now();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        status_tx.send_replace(status(RouterState::Starting));
        tokio::time::sleep(Duration::from_secs(2)).await;
        status_tx.send_replace(running());
        coming_tx.send_replace(false);
    });
    let leased = handle.running_within(Duration::from_secs(30)).await;
    assert_eq!(leased.map(|l| l.upstream.url), Some("http://127.0.0.1:8134".into()));
    assert_eq!(t0.elapsed(), Duration::from_secs(3), "served the moment it ran");
}

#[tokio::test(start_paused = true)]
async fn a_start_that_fails_for_good_ends_the_wait_at_once() {
    let (status_tx, status_rx) = watch::channel(status(RouterState::Starting));
    let (coming_tx, coming_rx) = watch::channel(true);
    let handle = RouterHandle::detached(status_rx, coming_rx);
    let t0 = Instant::now();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        status_tx.send_replace(status(RouterState::Failed));
        tokio::time::sleep(Duration::from_secs(1)).await;
        coming_tx.send_replace(false);
    });
    assert!(handle.running_within(Duration::from_secs(30)).await.is_none());
    assert_eq!(t0.elapsed(), Duration::from_secs(3), "waited through the failed try, not past the last");
}

#[tokio::test(start_paused = true)]
async fn the_wait_is_bounded_by_its_limit() {
    let (_status_tx, status_rx) = watch::channel(status(RouterState::Starting));
    let (_coming_tx, coming_rx) = watch::channel(true);
    let handle = RouterHandle::detached(status_rx, coming_rx);
    let t0 = Instant::now();
    assert!(handle.running_within(Duration::from_millis(1500)).await.is_none());
    assert_eq!(t0.elapsed(), Duration::from_millis(1500));
}

#[tokio::test(start_paused = true)]
async fn a_router_stopped_on_purpose_is_not_waited_for() {
    for state in [RouterState::Stopped, RouterState::Failed] {
        let (_status_tx, status_rx) = watch::channel(status(state));
        let (_coming_tx, coming_rx) = watch::channel(false);
        let handle = RouterHandle::detached(status_rx, coming_rx);
        assert!(!handle.coming_up());
        let t0 = Instant::now();
        assert!(handle.running_within(Duration::from_secs(30)).await.is_none());
        assert_eq!(t0.elapsed(), Duration::ZERO, "{state:?}: no wait");
    }
}

#[tokio::test(start_paused = true)]
async fn a_request_arriving_during_a_drain_waits_and_goes_to_the_router_after_the_restart() {
    let (status_tx, status_rx) = watch::channel(running());
    let (_coming_tx, coming_rx) = watch::channel(false);
    let handle = RouterHandle::detached(status_rx, coming_rx);
    let in_flight = handle.leased_now().expect("serving");
    let drain = handle.drain.clone();
    let restart = tokio::spawn(async move {
        let still_out = drain.close_and_wait(Duration::from_secs(60)).await;
        let next = RouterStatus { url: Some("http://127.0.0.1:9999".into()), ..running() };
        tokio::time::sleep(Duration::from_secs(1)).await;
        status_tx.send_replace(next);
        drain.open();
        still_out
    });
    tokio::task::yield_now().await;
    assert!(handle.leased_now().is_none(), "no lease while draining");
    assert!(handle.coming_up());
    let waiting = tokio::spawn({
        let handle = handle.clone();
        async move { handle.running_within(Duration::from_secs(30)).await.map(|l| l.upstream.url) }
    });
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    drop(in_flight);
    assert_eq!(restart.await.expect("joined"), 0, "drained: the request in flight finished first");
    assert_eq!(waiting.await.expect("joined"), Some("http://127.0.0.1:9999".into()), "sent to the new router");
    assert_eq!(t0.elapsed(), Duration::from_secs(3));
}
