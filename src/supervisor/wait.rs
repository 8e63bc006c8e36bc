//! Waiting for a router on its way up, so that a `/v1` request arriving while it starts (boot, a crash
//! restart, a restart after a config save) is served once it runs instead of being refused. A router
//! stopped on purpose, or failed for good, is not waited for.

use super::router::RouterHandle;
use super::status::{RouterState, RouterStatus};
use crate::process::Upstream;
use std::time::Duration;
use tokio::time::{Instant, timeout_at};

/// What a request may expect from the router right now.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Outlook {
    Running(Upstream),
    /// Not running yet, but the actor will have it running (or failed) without anyone asking again.
    Coming,
    /// Stopped on purpose, never started, or failed with no restart scheduled.
    Down,
}

/// `coming`: a start or restart was asked and has not ended, a crash restart is scheduled, or the boot
/// flow will start it. `Starting` and `Crashed` always end in another state by themselves.
pub(super) fn outlook(status: &RouterStatus, coming: bool) -> Outlook {
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
    /// Whether the router is not running now but will be (or will fail) without anyone asking again.
    pub fn coming_up(&self) -> bool {
        outlook(&self.status.borrow(), *self.coming.borrow()) == Outlook::Coming
    }

    /// Running, or on its way up (a start or restart in progress): a changed config needs a restart then,
    /// or the start under way may run with the command line from before the change.
    pub fn in_service(&self) -> bool {
        self.status.borrow().running() || self.coming_up()
    }

    /// Where the router answers: at once when it runs, after waiting at most `limit` while it is coming
    /// up; `None` when it is down, or did not run by then.
    pub async fn running_within(&self, limit: Duration) -> Option<Upstream> {
        let (mut status, mut coming) = (self.status.clone(), self.coming.clone());
        let deadline = Instant::now() + limit;
        loop {
            let now = outlook(&status.borrow_and_update(), *coming.borrow_and_update());
            match now {
                Outlook::Running(upstream) => return Some(upstream),
                Outlook::Down => return None,
                Outlook::Coming => {}
            }
            let changed = async {
                tokio::select! {
                    changed = status.changed() => changed.is_ok(),
                    changed = coming.changed() => changed.is_ok(),
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
