//! Downloads one file of a repository into `blobs/<etag>`, through `blobs/<etag>.incomplete` so that an
//! interrupted download resumes with a `Range` request. Progress goes to stderr about five times a second.

use super::{Hub, PullError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

const PROGRESS_EVERY: Duration = Duration::from_millis(200);

pub async fn blob(
    client: &reqwest::Client,
    hub: &Hub,
    repo: &str,
    commit: &str,
    file: &str,
    blobs: &Path,
) -> Result<PathBuf, PullError> {
    let url = format!("{}/{repo}/resolve/{commit}/{file}", hub.endpoint);
    let head = client.head(&url);
    let head = match &hub.token {
        Some(token) => head.bearer_auth(token),
        None => head,
    };
    let head = head.send().await?;
    if !head.status().is_success() {
        return Err(PullError::Hub(format!("{url} answered {}", head.status())));
    }
    let header = |name: &str| head.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let etag = header("x-linked-etag")
        .or_else(|| header("etag"))
        .map(|e| e.trim_start_matches("W/").trim_matches('"').to_string());
    let etag = etag.filter(|e| !e.is_empty() && e.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    let etag = etag.ok_or_else(|| PullError::Hub(format!("{url} gave no usable ETag")))?;
    let size = header("x-linked-size").or_else(|| header("content-length")).and_then(|s| s.parse::<u64>().ok());
    std::fs::create_dir_all(blobs)?;
    let done = blobs.join(&etag);
    if std::fs::metadata(&done).is_ok_and(|m| Some(m.len()) == size || size.is_none()) {
        eprintln!("[pull] already downloaded");
        return Ok(done);
    }
    let partial = blobs.join(format!("{etag}.incomplete"));
    fetch(client, hub, &url, &partial, size).await?;
    std::fs::rename(&partial, &done)?;
    Ok(done)
}

async fn fetch(
    client: &reqwest::Client,
    hub: &Hub,
    url: &str,
    partial: &Path,
    size: Option<u64>,
) -> Result<(), PullError> {
    let have = std::fs::metadata(partial).map(|m| m.len()).unwrap_or(0);
    let mut request = hub.get(client, url);
    if have > 0 {
        request = request.header(reqwest::header::RANGE, format!("bytes={have}-"));
    }
    let mut response = request.send().await?;
    let resumed = response.status() == reqwest::StatusCode::PARTIAL_CONTENT;
    if !response.status().is_success() {
        return Err(PullError::Hub(format!("{url} answered {}", response.status())));
    }
    let mut out =
        tokio::fs::OpenOptions::new().create(true).append(resumed).write(true).truncate(!resumed).open(partial).await?;
    let mut written = if resumed { have } else { 0 };
    if resumed {
        eprintln!("[pull] resuming at {}", mib(written));
    }
    let total = size.or_else(|| response.content_length().map(|l| l + written));
    let (started, start_bytes) = (Instant::now(), written);
    let mut last = Instant::now();
    while let Some(chunk) = response.chunk().await? {
        out.write_all(&chunk).await?;
        written += chunk.len() as u64;
        if last.elapsed() >= PROGRESS_EVERY {
            progress(written, total, started, start_bytes);
            last = Instant::now();
        }
    }
    out.flush().await?;
    progress(written, total, started, start_bytes);
    eprintln!();
    match total {
        Some(expected) if expected != written => {
            Err(PullError::Hub(format!("got {written} of {expected} bytes; run pull again to resume")))
        }
        _ => Ok(()),
    }
}

fn progress(written: u64, total: Option<u64>, started: Instant, start_bytes: u64) {
    let rate = (written - start_bytes) as f64 / started.elapsed().as_secs_f64().max(0.001);
    let line = match total {
        Some(t) if t > 0 => format!("{:5.1}% {} / {}", 100.0 * written as f64 / t as f64, mib(written), mib(t)),
        _ => mib(written),
    };
    eprint!("\r[pull] {line}  {}/s   ", mib(rate as u64));
    let _ = std::io::stderr().flush();
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
