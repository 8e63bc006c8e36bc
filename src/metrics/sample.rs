//! One system sample, read with sysinfo. The serialized shape is part of the socket contract.

use super::gpu::GpuSample;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use sysinfo::{Disks, MemoryRefreshKind, Pid, ProcessRefreshKind, ProcessesToUpdate, System};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Sample {
    pub timestamp: i64,
    pub cpu: Cpu,
    pub memory: Memory,
    pub swap: Swap,
    pub disk: Disk,
    pub load: Load,
    pub process: ProcessStats,
    pub system: SystemStats,
    pub gpus: Vec<GpuSample>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Cpu {
    pub usage_percent: f64,
    pub cores: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Memory {
    pub total_bytes: u64,
    pub used_bytes: u64,
    pub available_bytes: u64,
    pub usage_percent: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Swap {
    pub total_bytes: u64,
    pub used_bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Disk {
    pub mount: String,
    pub total_bytes: u64,
    pub used_bytes: u64,
    pub available_bytes: u64,
    pub usage_percent: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Load {
    pub one: f64,
    pub five: f64,
    pub fifteen: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProcessStats {
    pub rss_bytes: u64,
    pub cpu_percent: f64,
    pub uptime_sec: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SystemStats {
    pub uptime_sec: u64,
}

/// Owns the sysinfo state between ticks (CPU usage is a delta between two refreshes).
pub struct Sampler {
    system: System,
    disks: Disks,
    pid: Pid,
    disk_of: PathBuf,
    started: std::time::Instant,
}

impl Sampler {
    /// `disk_of`: the path whose filesystem is reported (the data dir).
    pub fn new(disk_of: &Path) -> Result<Self, sysinfo::Error> {
        let mut system = System::new()?;
        system.refresh_cpu_usage();
        Ok(Self {
            system,
            disks: Disks::new_with_refreshed_list()?,
            pid: Pid::from_u32(std::process::id()),
            disk_of: std::fs::canonicalize(disk_of).unwrap_or_else(|_| disk_of.to_path_buf()),
            started: std::time::Instant::now(),
        })
    }

    /// Blocking (reads /proc); call from a blocking thread.
    pub fn sample(&mut self, timestamp: i64, gpus: Vec<GpuSample>) -> Sample {
        self.system.refresh_cpu_usage();
        self.system.refresh_memory_specifics(MemoryRefreshKind::everything());
        self.system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[self.pid]),
            true,
            ProcessRefreshKind::nothing().with_memory().with_cpu(),
        );
        self.disks.refresh(true);
        let load = System::load_average().map(|l| Load { one: l.one, five: l.five, fifteen: l.fifteen });
        let (rss, proc_cpu) = self.system.process(self.pid).map(|p| (p.memory(), p.cpu_usage())).unwrap_or((0, 0.0));
        let total = self.system.total_memory();
        let available = self.system.available_memory();
        let used = total.saturating_sub(available);
        Sample {
            timestamp,
            cpu: Cpu { usage_percent: round2(self.system.global_cpu_usage() as f64), cores: self.system.cpus().len() },
            memory: Memory {
                total_bytes: total,
                used_bytes: used,
                available_bytes: available,
                usage_percent: percent(used, total),
            },
            swap: Swap { total_bytes: self.system.total_swap(), used_bytes: self.system.used_swap() },
            disk: self.disk(),
            load: load.unwrap_or(Load { one: 0.0, five: 0.0, fifteen: 0.0 }),
            process: ProcessStats {
                rss_bytes: rss,
                cpu_percent: round2(proc_cpu as f64),
                uptime_sec: self.started.elapsed().as_secs(),
            },
            system: SystemStats { uptime_sec: System::uptime().unwrap_or(0) },
            gpus,
        }
    }

    /// The disk whose mount point is the longest prefix of the data dir.
    fn disk(&self) -> Disk {
        let best = self
            .disks
            .iter()
            .filter(|d| self.disk_of.starts_with(d.mount_point()))
            .max_by_key(|d| d.mount_point().as_os_str().len());
        match best {
            Some(d) => {
                let (total, avail) = (d.total_space(), d.available_space());
                let used = total.saturating_sub(avail);
                Disk {
                    mount: d.mount_point().to_string_lossy().into_owned(),
                    total_bytes: total,
                    used_bytes: used,
                    available_bytes: avail,
                    usage_percent: percent(used, total),
                }
            }
            None => {
                Disk { mount: String::new(), total_bytes: 0, used_bytes: 0, available_bytes: 0, usage_percent: 0.0 }
            }
        }
    }
}

fn percent(part: u64, total: u64) -> f64 {
    if total == 0 { 0.0 } else { round2(part as f64 * 100.0 / total as f64) }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
