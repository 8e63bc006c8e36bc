//! Requests in flight to the router, counted by lease, so that a stop or restart someone asked for (a
//! config save, `router:restart`, SIGHUP) lets them finish first, bounded, and requests arriving meanwhile
//! wait and go to the router that runs after it, never to the process about to stop. A crash cannot wait:
//! its requests are resent instead (`proxy::forward`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::time::{Instant, timeout_at};

/// How long a stop or restart waits for the requests in flight before it goes ahead anyway.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(60);

struct Leases {
    out: AtomicUsize,
    returned_all: Notify,
    /// True while a stop or restart drains: no new lease is handed out.
    closed: watch::Sender<bool>,
}

/// Shared by the actor (which closes and opens it) and every handle (which take leases).
#[derive(Clone)]
pub(super) struct Drain(Arc<Leases>);

/// Held by a request from the moment it has the router's address until its answer ended; while any is
/// out, a stop or restart asked for waits (at most [`DRAIN_LIMIT`]).
#[must_use = "the router may be stopped under a request whose lease was dropped"]
pub struct RouterLease(Arc<Leases>);

impl Drop for RouterLease {
    fn drop(&mut self) {
        if self.0.out.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.returned_all.notify_waiters();
        }
    }
}

impl Drain {
    pub(super) fn new() -> Self {
        let (closed, _) = watch::channel(false);
        Self(Arc::new(Leases { out: AtomicUsize::new(0), returned_all: Notify::new(), closed }))
    }

    /// A lease, unless a drain is under way. Counted before the check, so a drain that closes in between
    /// waits for this request rather than missing it.
    pub(super) fn lease(&self) -> Option<RouterLease> {
        self.0.out.fetch_add(1, Ordering::SeqCst);
        let lease = RouterLease(self.0.clone());
        (!*self.0.closed.borrow()).then_some(lease)
    }

    pub(super) fn is_closed(&self) -> bool {
        *self.0.closed.borrow()
    }

    pub(super) fn watch_closed(&self) -> watch::Receiver<bool> {
        self.0.closed.subscribe()
    }

    pub(super) fn leases_out(&self) -> usize {
        self.0.out.load(Ordering::SeqCst)
    }

    /// Closes to new leases and waits, at most `limit`, until every lease out was returned; how many are
    /// still out then (0 when drained).
    pub(super) async fn close_and_wait(&self, limit: Duration) -> usize {
        self.0.closed.send_replace(true);
        let deadline = Instant::now() + limit;
        loop {
            let returned = self.0.returned_all.notified();
            tokio::pin!(returned);
            returned.as_mut().enable();
            let out = self.leases_out();
            if out == 0 || timeout_at(deadline, returned).await.is_err() {
                return self.leases_out();
            }
        }
    }

    pub(super) fn open(&self) {
        self.0.closed.send_replace(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_drain_waits_for_every_lease_and_hands_out_none_meanwhile() {
        let drain = Drain::new();
        let first = drain.lease().expect("open");
        let second = drain.lease().expect("open");
        let closing = tokio::spawn({
            let drain = drain.clone();
            async move { drain.close_and_wait(Duration::from_secs(60)).await }
        });
        tokio::task::yield_now().await;
        assert!(drain.is_closed());
        assert!(drain.lease().is_none(), "no new lease while draining");
        let t0 = Instant::now();
        tokio::time::sleep(Duration::from_secs(2)).await;
        drop(first);
        tokio::time::sleep(Duration::from_secs(3)).await;
        drop(second);
        assert_eq!(closing.await.expect("joined"), 0);
        assert_eq!(t0.elapsed(), Duration::from_secs(5), "ended when the last lease was returned");
        drain.open();
        assert!(drain.lease().is_some(), "open again after the restart");
    }

    #[tokio::test(start_paused = true)]
    async fn a_drain_goes_ahead_after_its_limit_and_says_how_many_were_still_out() {
        let drain = Drain::new();
        let _held = drain.lease().expect("open");
        let t0 = Instant::now();
        assert_eq!(drain.close_and_wait(Duration::from_secs(60)).await, 1);
        assert_eq!(t0.elapsed(), Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn a_drain_with_nothing_out_ends_at_once() {
        let drain = Drain::new();
        drop(drain.lease());
        let t0 = Instant::now();
        assert_eq!(drain.close_and_wait(Duration::from_secs(60)).await, 0);
        assert_eq!(t0.elapsed(), Duration::ZERO);
    }
}
