//! System metrics: a sampler task that stores each sample and publishes it (latest value and bus).

pub mod gpu;
pub mod process_memory;
pub mod prometheus;
pub mod sample;

use crate::core::bus::{Bus, LiveEvent};
use crate::core::drops::{Drops, Kind};
use crate::db::{Db, SampleRow, now_ms};
use crate::settings::Settings;
use gpu::GpuProbe;
pub use sample::Sample;
use sample::Sampler;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

/// Everything the sampler task needs; built by `app`.
pub struct SamplerTask {
    pub db: Db,
    pub bus: Bus,
    pub drops: Drops,
    pub settings: watch::Receiver<Settings>,
    pub latest: watch::Sender<Option<Sample>>,
    pub data_dir: PathBuf,
    pub cancel: CancellationToken,
}

impl SamplerTask {
    /// Samples every `metricsIntervalMs` (read live from settings) until cancelled.
    pub async fn run(mut self) {
        let gpu = GpuProbe::detect();
        tracing::info!(?gpu, "metrics sampler started");
        let mut sampler = match Sampler::new(&self.data_dir) {
            Ok(sampler) => sampler,
            Err(err) => {
                tracing::error!(error = %err, "system metrics unavailable on this platform");
                return;
            }
        };
        // CPU usage is a delta: give sysinfo one short interval before the first reading.
        tokio::time::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL).await;
        loop {
            let started = Instant::now();
            let gpus = gpu.read().await;
            let Ok((back, sample)) = tokio::task::spawn_blocking(move || {
                let sample = sampler.sample(now_ms(), gpus);
                (sampler, sample)
            })
            .await
            else {
                tracing::error!("metrics sampler thread failed; sampling stopped");
                return;
            };
            sampler = back;
            self.publish(sample).await;
            if !self.wait_next(started).await {
                return;
            }
        }
    }

    async fn publish(&self, sample: Sample) {
        let row = SampleRow {
            ts: sample.timestamp,
            cpu_percent: sample.cpu.usage_percent,
            mem_percent: sample.memory.usage_percent,
            rss_bytes: sample.process.rss_bytes as i64,
            sample: serde_json::to_value(&sample).unwrap_or_default(),
        };
        match self.db.insert_sample(row).await {
            Ok(_) => self.drops.write_succeeded(),
            Err(err) => {
                if self.drops.write_failed(Kind::Samples, 1, &err) {
                    tracing::warn!(error = %err, dropped = self.drops.total(Kind::Samples), "metrics sample not stored");
                }
            }
        }
        let data = serde_json::json!({ "metrics": &sample });
        self.latest.send_replace(Some(sample));
        self.bus.publish(LiveEvent::MetricsUpdate(data));
    }

    /// Sleeps until the next tick; an interval change takes effect at once. `false` on shutdown.
    async fn wait_next(&mut self, started: Instant) -> bool {
        loop {
            let interval = Duration::from_millis(self.settings.borrow().metrics_interval_ms.max(1) as u64);
            tokio::select! {
                _ = sleep_until(started + interval) => return true,
                changed = self.settings.changed() => if changed.is_err() { return false },
                _ = self.cancel.cancelled() => return false,
            }
        }
    }
}
