//! The crash-loop guard of one own backend: a backend whose process dies by itself [`CRASHES`] times
//! within [`WINDOW`] (at startup or after it served) is not started again, so that every request does not
//! spawn a process doomed to die, until `models:reset` or a change of what its start runs.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Crashes within [`WINDOW`] that make a crash loop.
pub const CRASHES: usize = 5;
/// How far back crashes count: older ones are forgotten, so a backend crashing once in a while never trips.
pub const WINDOW: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrashLoop {
    /// Its recent crashes, oldest first, each within [`WINDOW`] of the newest.
    recent: VecDeque<Instant>,
    tripped: bool,
}

impl CrashLoop {
    /// Counts a crash at `at` (instants never go back); true once the guard has tripped.
    pub fn record(&mut self, at: Instant) -> bool {
        self.recent.retain(|crash| at.saturating_duration_since(*crash) < WINDOW);
        self.recent.push_back(at);
        self.tripped |= self.recent.len() >= CRASHES;
        self.tripped
    }

    /// No start may begin: [`CRASHES`] crashes fell within [`WINDOW`], and no reset came since.
    pub fn tripped(&self) -> bool {
        self.tripped
    }

    /// Forgets every crash (`models:reset`, or a changed start).
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

/// What a backend's start runs: a change to any of it (the init file, `models:update`) lifts its guard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartConfig {
    pub command: Vec<String>,
    pub path: String,
    pub mmproj: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn the_fifth_crash_within_five_minutes_trips_the_guard() {
        let (mut guard, t0) = (CrashLoop::default(), Instant::now());
        for n in 0..4 {
            assert!(!guard.record(t0 + secs(n * 60)), "crash {}", n + 1);
        }
        assert!(guard.record(t0 + WINDOW - Duration::from_millis(1)), "5 crashes within 5 min");
        assert!(guard.tripped());
    }

    #[test]
    fn crashes_older_than_the_window_are_forgotten() {
        let (mut guard, t0) = (CrashLoop::default(), Instant::now());
        for n in 0..4 {
            guard.record(t0 + secs(n));
        }
        assert!(!guard.record(t0 + WINDOW), "the first crash is exactly 5 min old: 4 within the window");
        assert!(guard.record(t0 + WINDOW + Duration::from_millis(500)), "5 within the window again");
    }

    #[test]
    fn a_backend_crashing_every_few_minutes_never_trips() {
        let (mut guard, t0) = (CrashLoop::default(), Instant::now());
        for n in 0..100 {
            assert!(!guard.record(t0 + secs(n * 76)), "crash {}", n + 1);
        }
    }

    #[test]
    fn a_tripped_guard_stays_tripped_until_reset() {
        let (mut guard, t0) = (CrashLoop::default(), Instant::now());
        for n in 0..5 {
            guard.record(t0 + secs(n));
        }
        assert!(guard.tripped());
        assert!(guard.record(t0 + secs(3600)), "no crash forgets it");
        guard.reset();
        assert_eq!(guard, CrashLoop::default());
        assert!(!guard.record(t0 + secs(3601)), "counting starts afresh");
    }
}
