//! When to restart a llama-server that died, and how to name the way it died. One rule for the router and
//! for our own backends, so a crash loop backs off the same way wherever it happens.

use std::process::ExitStatus;
use std::time::{Duration, Instant};

/// The wait after the first crash; each further crash in a row doubles it.
const FIRST_DELAY: Duration = Duration::from_secs(1);
const MAX_DELAY: Duration = Duration::from_secs(30);
/// A process that ran this long before crashing is not crashing repeatedly: its backoff starts over.
pub const STABLE_RUN: Duration = Duration::from_secs(60);

/// Crashes in a row and when the last one happened. The n-th crash in a row waits 2^(n-1) s (1 s, 2 s,
/// 4 s ...), at most 30 s, before the next start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backoff {
    crashes: u32,
    crashed_at: Option<Instant>,
}

impl Backoff {
    /// Counts a crash at `at`. `ran_for` is how long the process had been ready (`None`: it never was, as
    /// for a start that failed); a run of [`STABLE_RUN`] or more counts as the first crash again.
    pub fn record_crash(&mut self, at: Instant, ran_for: Option<Duration>) {
        let stable = ran_for.is_some_and(|ran| ran >= STABLE_RUN);
        self.crashes = if stable { 1 } else { self.crashes.saturating_add(1) };
        self.crashed_at = Some(at);
    }

    /// Forgets every crash (a user asked for a fresh start).
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    pub fn crashes(&self) -> u32 {
        self.crashes
    }

    /// Whether the crashes in a row are more than `restarts` restarts may answer: a supervisor that
    /// restarts at most `restarts` times gives up at the next crash. A crash after a stable run counts as
    /// the first again, so crashes weeks apart never add up to giving up.
    pub fn exhausted(&self, restarts: u32) -> bool {
        self.crashes > restarts
    }

    /// How long to wait after the last crash; zero when there was none.
    pub fn delay(&self) -> Duration {
        match self.crashes {
            0 => Duration::ZERO,
            n => (FIRST_DELAY * (1 << (n - 1).min(5))).min(MAX_DELAY),
        }
    }

    /// Whether a start may begin at `now`: no crash recorded, or its delay has passed.
    pub fn passed(&self, now: Instant) -> bool {
        self.crashed_at.is_none_or(|at| now >= at + self.delay())
    }
}

/// The exit code, or 128 + the signal for a process killed by one (as shells report it); `None` only
/// when neither is known.
pub fn exit_code(status: ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.code().or_else(|| status.signal().map(|s| 128 + s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn each_crash_in_a_row_doubles_the_delay_up_to_30_s() {
        let (mut backoff, t0) = (Backoff::default(), Instant::now());
        assert_eq!(backoff.delay(), Duration::ZERO);
        let mut delays = Vec::new();
        for n in 0..8 {
            backoff.record_crash(t0 + secs(n), Some(secs(1)));
            delays.push(backoff.delay().as_secs());
        }
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(backoff.crashes(), 8);
    }

    #[test]
    fn a_start_may_begin_once_the_delay_after_the_last_crash_passed() {
        let (mut backoff, t0) = (Backoff::default(), Instant::now());
        assert!(backoff.passed(t0), "no crash: at once");
        backoff.record_crash(t0, None);
        assert!(!backoff.passed(t0 + Duration::from_millis(999)));
        assert!(backoff.passed(t0 + secs(1)));
        backoff.record_crash(t0 + secs(1), None);
        assert!(!backoff.passed(t0 + secs(2)), "second crash: 2 s from it");
        assert!(backoff.passed(t0 + secs(3)));
    }

    #[test]
    fn a_crash_after_a_stable_run_starts_the_backoff_over() {
        let (mut backoff, t0) = (Backoff::default(), Instant::now());
        for _ in 0..4 {
            backoff.record_crash(t0, Some(secs(5)));
        }
        assert_eq!(backoff.delay(), secs(8));
        backoff.record_crash(t0 + secs(100), Some(STABLE_RUN));
        assert_eq!((backoff.crashes(), backoff.delay()), (1, secs(1)));
    }

    #[test]
    fn restarts_are_exhausted_by_crashes_in_a_row_never_by_crashes_weeks_apart() {
        let (mut backoff, t0) = (Backoff::default(), Instant::now());
        let week = secs(7 * 86_400);
        for n in 0..10 {
            backoff.record_crash(t0 + week * n, Some(week));
            assert!(!backoff.exhausted(3), "crash {} after a week of running", n + 1);
        }
        backoff.record_crash(t0 + week * 10, Some(STABLE_RUN - Duration::from_millis(1)));
        backoff.record_crash(t0 + week * 10 + secs(2), None);
        assert!(!backoff.exhausted(3), "3 crashes in a row: 3 restarts allowed");
        backoff.record_crash(t0 + week * 10 + secs(5), Some(secs(1)));
        assert!(backoff.exhausted(3), "the 4th crash in a row gives up");
        assert!(!backoff.exhausted(4));
    }

    #[test]
    fn no_restart_allowed_gives_up_at_the_first_crash() {
        let mut backoff = Backoff::default();
        assert!(!backoff.exhausted(0), "nothing crashed yet");
        backoff.record_crash(Instant::now(), Some(STABLE_RUN));
        assert!(backoff.exhausted(0));
    }

    #[test]
    fn reset_forgets_the_crashes() {
        let (mut backoff, t0) = (Backoff::default(), Instant::now());
        backoff.record_crash(t0, None);
        backoff.record_crash(t0, None);
        backoff.reset();
        assert_eq!(backoff, Backoff::default());
        assert!(backoff.passed(t0));
    }

    #[test]
    fn exit_codes_are_kept_and_signals_read_as_128_plus_the_signal() {
        assert_eq!(exit_code(ExitStatus::from_raw(3 << 8)), Some(3));
        assert_eq!(exit_code(ExitStatus::from_raw(0)), Some(0));
        assert_eq!(exit_code(ExitStatus::from_raw(9)), Some(137), "SIGKILL");
        assert_eq!(exit_code(ExitStatus::from_raw(15)), Some(143), "SIGTERM");
    }
}
