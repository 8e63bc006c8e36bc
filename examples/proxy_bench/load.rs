//! The load generator: `concurrency` workers share one pooled client and send `total` requests;
//! each latency is the time from sending to the last body byte. Time to first byte is measured one
//! streamed request at a time.

use axum::body::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

pub struct Run {
    pub latencies: Vec<Duration>,
    pub wall: Duration,
}

impl Run {
    pub fn percentile(&self, p: f64) -> Duration {
        percentile(&self.latencies, p)
    }

    pub fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64()
    }
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

pub fn client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder().no_proxy().tcp_nodelay(true).pool_max_idle_per_host(128).build()
}

pub async fn closed_loop(
    client: &reqwest::Client,
    url: &str,
    auth: Option<&str>,
    body: Bytes,
    concurrency: usize,
    total: usize,
) -> BenchResult<Run> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, url, body, next) = (client.clone(), url.to_string(), body.clone(), next.clone());
        let auth = auth.map(str::to_string);
        workers.spawn(async move {
            let mut mine = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < total {
                let t0 = Instant::now();
                let response = post(&client, &url, auth.as_deref(), body.clone()).send().await?;
                let status = response.status();
                let _ = response.bytes().await?;
                if !status.is_success() {
                    return Err(format!("{url} answered {status}").into());
                }
                mine.push(t0.elapsed());
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(mine)
        });
    }
    let mut latencies = Vec::with_capacity(total);
    while let Some(done) = workers.join_next().await {
        latencies.extend(done??);
    }
    let wall = started.elapsed();
    latencies.sort();
    Ok(Run { latencies, wall })
}

/// A JSON POST, with `Authorization: Bearer <auth>` when the path needs a key.
fn post(client: &reqwest::Client, url: &str, auth: Option<&str>, body: Bytes) -> reqwest::RequestBuilder {
    let request = client.post(url).header("content-type", "application/json").body(body);
    match auth {
        Some(key) => request.bearer_auth(key),
        None => request,
    }
}

/// Time from sending a streamed request to its first body chunk, `n` times in a row (sorted).
pub async fn first_byte(
    client: &reqwest::Client,
    url: &str,
    auth: Option<&str>,
    body: Bytes,
    n: usize,
) -> BenchResult<Vec<Duration>> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t0 = Instant::now();
        let mut response = post(client, url, auth, body.clone()).send().await?;
        if !response.status().is_success() {
            return Err(format!("{url} answered {}", response.status()).into());
        }
        response.chunk().await?;
        times.push(t0.elapsed());
        while response.chunk().await?.is_some() {}
    }
    times.sort();
    Ok(times)
}
