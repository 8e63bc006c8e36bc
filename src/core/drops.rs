//! Telemetry that could not be kept (a full queue, a database that refused the write), counted per kind
//! so that `/metrics` shows it: nothing is dropped silently. The last refused write is remembered until a
//! write succeeds again, so that `/health` can say why the database is degraded (a full disk, a lock held
//! by another process). Cheap to clone; shared by every writer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `/v1` request rows.
    Requests,
    /// Log lines.
    Logs,
    /// System metrics samples.
    Samples,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Requests, Kind::Logs, Kind::Samples];

    pub fn label(self) -> &'static str {
        match self {
            Kind::Requests => "requests",
            Kind::Logs => "logs",
            Kind::Samples => "samples",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Drops(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    totals: [AtomicU64; 3],
    /// Why the last write failed, while no write has succeeded since.
    failing: Mutex<Option<String>>,
}

impl Drops {
    /// A write to the database failed: `n` items of `kind` are lost. True when the caller should log it.
    pub fn write_failed(&self, kind: Kind, n: u64, error: &impl std::fmt::Display) -> bool {
        if let Ok(mut failing) = self.0.failing.lock() {
            *failing = Some(format!("{} could not be stored: {error}", kind.label()));
        }
        self.count(kind, n)
    }

    /// A write to the database succeeded: it is no longer failing.
    pub fn write_succeeded(&self) {
        if let Ok(mut failing) = self.0.failing.lock()
            && failing.is_some()
        {
            *failing = None;
        }
    }

    /// Why writes are failing, if the last one did.
    pub fn failing(&self) -> Option<String> {
        self.0.failing.lock().ok().and_then(|f| f.clone())
    }

    /// Adds `n` dropped items; true when the total crossed a power of two, which is when a writer should
    /// say so in the log (the first drop, then ever more rarely, so a full disk does not flood the log).
    pub fn count(&self, kind: Kind, n: u64) -> bool {
        if n == 0 {
            return false;
        }
        let before = self.0.totals[kind as usize].fetch_add(n, Ordering::Relaxed);
        let after = before + n;
        before == 0 || after.ilog2() > before.ilog2()
    }

    pub fn total(&self, kind: Kind) -> u64 {
        self.0.totals[kind as usize].load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_are_counted_per_kind_and_reported_ever_more_rarely() {
        let drops = Drops::default();
        let reported: Vec<bool> = (0..8).map(|_| drops.count(Kind::Requests, 1)).collect();
        assert_eq!(reported, [true, true, false, true, false, false, false, true]);
        assert!(drops.count(Kind::Logs, 100));
        assert!(!drops.count(Kind::Logs, 0));
        assert_eq!((drops.total(Kind::Requests), drops.total(Kind::Logs), drops.total(Kind::Samples)), (8, 100, 0));
    }

    #[test]
    fn a_failing_write_is_remembered_until_one_succeeds() {
        let drops = Drops::default();
        assert_eq!(drops.failing(), None);
        assert!(drops.write_failed(Kind::Samples, 1, &"database or disk is full"));
        assert_eq!(drops.failing().as_deref(), Some("samples could not be stored: database or disk is full"));
        assert_eq!(drops.total(Kind::Samples), 1);
        drops.write_succeeded();
        assert_eq!(drops.failing(), None);
    }
}
