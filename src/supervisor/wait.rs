//! Waiting for a router on its way up, so that a `/v1` request arriving while it starts (boot, a crash
//! restart, a restart after a config save) is served once it runs instead of being refused. A router
//! stopped on purpose, or failed for good, is not waited for. A router draining before a stop or restart
//! someone asked for counts as on its way up: new requests wait for what runs after it.

use super::drain::RouterLease;
use super::router::RouterHandle;
use super::status::{RouterState, RouterStatus};
use crate::process::Upstream;
use std::time::Duration;
use tokio::time::{Instant, timeout_at};

/// What a request may expect from the router right now.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Outlook {
    Running(Upstream),
    /// Not running yet (or draining), but the actor will have it running (or failed, or stopped) without
    /// anyone asking again.
    Coming,
    /// Stopped on purpose, never started, or failed with no restart scheduled.
    Down,
}

/// Where the router answers, with the lease that keeps a stop or restart from cutting the request.
pub struct Leased {
    pub upstream: Upstream,
    pub lease: RouterLease,
}

/// `coming`: a start or restart was asked and has not ended, a crash restart is scheduled, or the boot
/// flow will start it. `Starting` and `Crashed` always end in another state by themselves, and so does a
/// drain.
pub(super) fn outlook(status: &RouterStatus, coming: bool, draining: bool) -> Outlook {
    if draining {
        return Outlook::Coming;
    }
    if let Some(upstream) = status.upstream() {
        return Outlook::Running(upstream);
    }
    match status.state {
        RouterState::Starting | RouterState::Crashed => Outlook::Coming,
        _ if coming => Outlook::Coming,
        _ => Outlook::Down,
    }
}

impl RouterHandle {
    fn outlook_now(&self) -> Outlook {
        outlook(&self.status.borrow(), *self.coming.borrow(), self.drain.is_closed())
    }

    /// Whether the router is not serving now but will be (or will fail) without anyone asking again.
    pub fn coming_up(&self) -> bool {
        self.outlook_now() == Outlook::Coming
    }

    /// Running, or on its way up (a start or restart in progress): a changed config needs a restart then,
    /// or the start under way may run with the command line from before the change.
    pub fn in_service(&self) -> bool {
        self.status.borrow().running() || self.coming_up()
    }

    /// The router's address with a lease, when it serves right now (running, not draining).
    pub fn leased_now(&self) -> Option<Leased> {
        let lease = self.drain.lease()?;
        // Read under the lease: from here on no stop or restart asked for begins until it is returned.
        let upstream = self.status.borrow().upstream()?;
        Some(Leased { upstream, lease })
    }

    /// Where the router answers, with a lease: at once when it serves, after waiting at most `limit` while
    /// it is coming up or draining; `None` when it is down, or did not serve by then.
    pub async fn running_within(&self, limit: Duration) -> Option<Leased> {
        let (mut status, mut coming, mut closed) =
            (self.status.clone(), self.coming.clone(), self.drain.watch_closed());
        let deadline = Instant::now() + limit;
        loop {
            status.borrow_and_update();
            coming.borrow_and_update();
            closed.borrow_and_update();
            match self.outlook_now() {
                Outlook::Running(_) => {
                    if let Some(leased) = self.leased_now() {
                        return Some(leased);
                    }
                }
                Outlook::Down => return None,
                Outlook::Coming => {}
            }
            let changed = async {
                tokio::select! {
                    changed = status.changed() => changed.is_ok(),
                    changed = coming.changed() => changed.is_ok(),
                    changed = closed.changed() => changed.is_ok(),
                }
            };
            if !matches!(timeout_at(deadline, changed).await, Ok(true)) {
                return None;
            }
        }
    }
}

#[cfg(test)]
#[path = "wait_tests.rs"]
mod tests;
