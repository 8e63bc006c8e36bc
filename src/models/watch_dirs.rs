//! With `models.autoDiscovery`, the catalog follows the disk by itself, so `models:list` answers from
//! memory without looking at the disk: an inotify watch (the `notify` crate) on `models.directory` and,
//! with `backends.hfDiscovery`, on the Hugging Face cache. A rescan waits until the events paused for
//! [`SETTLE`] (a copy in progress fires many), at most [`SETTLE_AT_MOST`]; a list that changed is published as
//! `models:updated`. Where no watch can be set (inotify limits, a file system without it) the task
//! rescans every [`POLL`] instead, and says so in the log once.

use super::Models;
use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The pause in events that ends a burst.
const SETTLE: Duration = Duration::from_millis(200);
/// The longest a rescan waits for a burst to end (a long copy is still seen growing).
const SETTLE_AT_MOST: Duration = Duration::from_secs(2);
/// How often the watched directories are compared with the configuration (a directory that appeared,
/// a changed `models.directory`), and the rescan interval where watching failed.
const POLL: Duration = Duration::from_secs(2);

/// What is watched: the directories that exist among those the configuration names.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Targets(Vec<PathBuf>);

impl Targets {
    fn of(models: &Models) -> Option<Self> {
        let config = models.config();
        if !config.models.auto_discovery {
            return None;
        }
        let hub = crate::backends::discovery::hf_hub_dir().filter(|_| config.backends.hf_discovery);
        let dirs = std::iter::once(PathBuf::from(&config.models.directory)).chain(hub).filter(|d| d.is_dir());
        Some(Self(dirs.collect()))
    }
}

/// A live watch: held only to be dropped, which stops the events.
enum Watch {
    Events { _watcher: RecommendedWatcher },
    Polling,
}

fn watch(targets: &Targets, changed: &Arc<Notify>) -> Watch {
    let signal = Arc::clone(changed);
    let made = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|e| changes_files(&e.kind)) {
            signal.notify_one();
        }
    });
    let mut watcher = match made {
        Ok(w) => w,
        Err(err) => return polling(&err),
    };
    for dir in &targets.0 {
        if let Err(err) = watcher.watch(dir, RecursiveMode::Recursive) {
            return polling(&err);
        }
    }
    Watch::Events { _watcher: watcher }
}

/// Reads (ours included: a rescan opens the files it checks) change nothing; a file closed after
/// writing does.
fn changes_files(kind: &EventKind) -> bool {
    !kind.is_access() || matches!(kind, EventKind::Access(AccessKind::Close(AccessMode::Write)))
}

/// Returns once no event came for [`SETTLE`], or after [`SETTLE_AT_MOST`].
async fn settle(changed: &Notify) {
    let deadline = tokio::time::Instant::now() + SETTLE_AT_MOST;
    while tokio::time::timeout_at(deadline.min(tokio::time::Instant::now() + SETTLE), changed.notified()).await.is_ok()
    {
    }
}

fn polling(err: &notify::Error) -> Watch {
    tracing::warn!(error = %err, every_sec = POLL.as_secs(), "cannot watch the model directories; rescanning them periodically");
    Watch::Polling
}

/// Follows the disk until cancelled; the configuration is re-read every [`POLL`], so a reload or a saved
/// init file that changes what to watch takes effect without a restart.
pub async fn run(models: Models, cancel: CancellationToken) {
    let changed = Arc::new(Notify::new());
    let mut targets = None;
    let mut current = None;
    loop {
        let now = Targets::of(&models);
        if now != targets {
            current = now.as_ref().map(|t| watch(t, &changed));
            if targets.is_some() || now.is_some() {
                rescan(&models).await;
            }
            targets = now;
        }
        let polling = matches!(current, Some(Watch::Polling));
        tokio::select! {
            _ = changed.notified() => {
                settle(&changed).await;
                rescan(&models).await;
            }
            _ = tokio::time::sleep(POLL) => if polling { rescan(&models).await },
            _ = cancel.cancelled() => return,
        }
    }
}

async fn rescan(models: &Models) {
    if let Err(err) = models.follow_disk().await {
        tracing::warn!(error = %err, "models directory rescan failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, ModifyKind, RemoveKind};

    #[test]
    fn reads_are_not_changes_but_writes_creations_and_removals_are() {
        assert!(!changes_files(&EventKind::Access(AccessKind::Open(AccessMode::Read))));
        assert!(!changes_files(&EventKind::Access(AccessKind::Close(AccessMode::Read))));
        assert!(changes_files(&EventKind::Access(AccessKind::Close(AccessMode::Write))));
        assert!(changes_files(&EventKind::Create(CreateKind::File)));
        assert!(changes_files(&EventKind::Modify(ModifyKind::Any)));
        assert!(changes_files(&EventKind::Remove(RemoveKind::File)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_waited_out_but_never_longer_than_the_limit() {
        let changed = Arc::new(Notify::new());
        let started = tokio::time::Instant::now();
        settle(&changed).await;
        assert_eq!(started.elapsed(), SETTLE, "no events: one pause");
        let noisy = Arc::clone(&changed);
        let burst = tokio::spawn(async move {
            loop {
                noisy.notify_one();
                tokio::time::sleep(SETTLE / 2).await;
            }
        });
        let started = tokio::time::Instant::now();
        settle(&changed).await;
        burst.abort();
        assert_eq!(started.elapsed(), SETTLE_AT_MOST, "endless events: the limit");
    }
}
