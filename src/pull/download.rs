//! Downloads the files of a pull into `blobs/<etag>`, each through `blobs/<etag>.incomplete` so that an
//! interrupted or cancelled download resumes with a `Range` request; the partial blob is kept on every
//! failure. Progress over all the files of the pull goes to a [`Watch`] about four times a second.

use super::hub::Hub;
use super::{PullError, Remote};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// Where a pull stands, over all its files.
#[derive(Debug, Clone, Copy)]
pub struct Tally {
    pub bytes: u64,
    pub total: u64,
    /// Bytes already on disk when this pull started (complete blobs and `.incomplete` ones).
    pub resumed_from: u64,
    pub started: Instant,
}

impl Tally {
    /// Bytes per second since the start, counting only what this pull downloaded.
    pub fn rate(&self) -> u64 {
        let elapsed = self.started.elapsed().as_secs_f64().max(0.001);
        (self.bytes.saturating_sub(self.resumed_from) as f64 / elapsed) as u64
    }

    /// Seconds left at the current rate; `None` before there is a rate.
    pub fn eta(&self) -> Option<u64> {
        let rate = self.rate();
        (rate > 0).then(|| self.total.saturating_sub(self.bytes).div_ceil(rate))
    }
}

/// What a download tells its owner (the CLI prints it, the dashboard broadcasts it).
pub trait Watch: Send {
    fn resuming(&mut self, file: &str, at: u64);
    fn already(&mut self, file: &str);
    /// At most every 250 ms, once when the last byte arrived, and once when a file failed (what is on disk).
    fn progress(&mut self, tally: &Tally);
}

/// Downloads every file of `remotes` into `blobs`; their blob paths, in the same order.
pub async fn all(
    hub: &Hub,
    remotes: &[Remote],
    blobs: &Path,
    cancel: &CancellationToken,
    watch: &mut dyn Watch,
) -> Result<Vec<PathBuf>, PullError> {
    std::fs::create_dir_all(blobs)?;
    let on_disk = |r: &Remote| {
        let done = blobs.join(&r.etag);
        match std::fs::metadata(&done) {
            Ok(m) if is_complete(m.len(), r.size) => m.len(),
            _ => std::fs::metadata(blobs.join(format!("{}.incomplete", r.etag))).map_or(0, |m| m.len()),
        }
    };
    let resumed_from = remotes.iter().map(on_disk).sum();
    let total = remotes.iter().map(|r| r.size.unwrap_or(0)).sum();
    let mut tally = Tally { bytes: resumed_from, total, resumed_from, started: Instant::now() };
    // What is on disk already, at once: a pull that resumes is listed with its bytes before the first tick.
    watch.progress(&tally);
    let mut paths = Vec::new();
    for remote in remotes {
        let done = blobs.join(&remote.etag);
        if std::fs::metadata(&done).is_ok_and(|m| is_complete(m.len(), remote.size)) {
            watch.already(&remote.name);
        } else {
            let partial = blobs.join(format!("{}.incomplete", remote.etag));
            if let Err(err) = fetch(hub, remote, &partial, &mut tally, cancel, watch).await {
                // The last word on what is on disk, for the owner's error report.
                watch.progress(&tally);
                return Err(err);
            }
            std::fs::rename(&partial, &done)?;
        }
        paths.push(done);
    }
    watch.progress(&tally);
    Ok(paths)
}

fn is_complete(len: u64, size: Option<u64>) -> bool {
    size.is_none_or(|s| s == len)
}

async fn fetch(
    hub: &Hub,
    remote: &Remote,
    partial: &Path,
    tally: &mut Tally,
    cancel: &CancellationToken,
    watch: &mut dyn Watch,
) -> Result<(), PullError> {
    let have = std::fs::metadata(partial).map_or(0, |m| m.len());
    let mut request = hub.get(&remote.url);
    if have > 0 {
        request = request.header(reqwest::header::RANGE, format!("bytes={have}-"));
    }
    let mut response = tokio::select! {
        sent = request.send() => sent?,
        () = cancel.cancelled() => return Err(PullError::Cancelled),
    };
    if !response.status().is_success() {
        return Err(PullError::Hub(format!("{} answered {}", remote.url, response.status())));
    }
    let resumed = have > 0 && response.status() == reqwest::StatusCode::PARTIAL_CONTENT;
    if resumed {
        watch.resuming(&remote.name, have);
    } else {
        // The hub sends the whole file: what was counted as on disk starts again from nothing.
        tally.bytes = tally.bytes.saturating_sub(have);
        tally.resumed_from = tally.resumed_from.saturating_sub(have);
    }
    let mut out =
        tokio::fs::OpenOptions::new().create(true).append(resumed).write(true).truncate(!resumed).open(partial).await?;
    let mut written = if resumed { have } else { 0 };
    let mut last = Instant::now();
    loop {
        let chunk = tokio::select! {
            chunk = response.chunk() => chunk,
            () = cancel.cancelled() => {
                out.flush().await?;
                return Err(PullError::Cancelled);
            }
        };
        let chunk = match chunk {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(err) => {
                out.flush().await?;
                return Err(PullError::Http(err));
            }
        };
        out.write_all(&chunk).await?;
        written += chunk.len() as u64;
        tally.bytes += chunk.len() as u64;
        if last.elapsed() >= PROGRESS_EVERY {
            watch.progress(tally);
            last = Instant::now();
        }
    }
    out.flush().await?;
    match remote.size {
        Some(expected) if expected != written => {
            Err(PullError::Hub(format!("got {written} of {expected} bytes of {}; pull again to resume", remote.name)))
        }
        _ => Ok(()),
    }
}
