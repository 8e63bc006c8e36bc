//! `/metrics` in the Prometheus text exposition format (gauges for the system and our process).

use super::Sample;
use std::fmt::Write;

/// Renders the latest sample plus process-level facts; `None` sample renders only the latter.
pub fn render(sample: Option<&Sample>, uptime_secs: f64, clients: usize) -> String {
    let mut out = String::new();
    gauge(&mut out, "uptime_seconds", "Seconds since llama-dashboard started", uptime_secs);
    gauge(&mut out, "socket_clients", "Connected Socket.IO clients", clients as f64);
    let Some(s) = sample else { return out };
    gauge(&mut out, "cpu_usage_percent", "System CPU usage", s.cpu.usage_percent);
    gauge(&mut out, "cpu_cores", "Logical CPU cores", s.cpu.cores as f64);
    gauge(&mut out, "memory_total_bytes", "System memory", s.memory.total_bytes as f64);
    gauge(&mut out, "memory_used_bytes", "System memory in use", s.memory.used_bytes as f64);
    gauge(&mut out, "swap_total_bytes", "Swap size", s.swap.total_bytes as f64);
    gauge(&mut out, "swap_used_bytes", "Swap in use", s.swap.used_bytes as f64);
    gauge(&mut out, "disk_total_bytes", "Size of the data dir's filesystem", s.disk.total_bytes as f64);
    gauge(&mut out, "disk_used_bytes", "Used space on the data dir's filesystem", s.disk.used_bytes as f64);
    gauge(&mut out, "load1", "1-minute load average", s.load.one);
    gauge(&mut out, "load5", "5-minute load average", s.load.five);
    gauge(&mut out, "load15", "15-minute load average", s.load.fifteen);
    gauge(&mut out, "process_resident_memory_bytes", "Resident memory of llama-dashboard", s.process.rss_bytes as f64);
    gauge(&mut out, "process_cpu_percent", "CPU usage of llama-dashboard", s.process.cpu_percent);
    gpu_gauges(&mut out, s);
    out
}

fn gauge(out: &mut String, name: &str, help: &str, value: f64) {
    let _ = writeln!(
        out,
        "# HELP llama_dashboard_{name} {help}\n# TYPE llama_dashboard_{name} gauge\nllama_dashboard_{name} {value}"
    );
}

/// `telemetry_dropped_total{kind}`: request rows, log lines and samples that could not be stored.
pub fn render_drops(out: &mut String, drops: &crate::core::drops::Drops) {
    let name = "llama_dashboard_telemetry_dropped_total";
    let _ =
        writeln!(out, "# HELP {name} Telemetry that could not be stored (queue full or database refused the write)");
    let _ = writeln!(out, "# TYPE {name} counter");
    for kind in crate::core::drops::Kind::ALL {
        let _ = writeln!(out, "{name}{{kind=\"{}\"}} {}", kind.label(), drops.total(kind));
    }
}

/// Reads one value of a GPU sample, `None` when the tool did not report it.
type GpuReading = fn(&super::gpu::GpuSample) -> Option<f64>;

fn gpu_gauges(out: &mut String, s: &Sample) {
    if s.gpus.is_empty() {
        return;
    }
    let series: [(&str, &str, GpuReading); 3] = [
        ("gpu_utilization_percent", "GPU utilization", |g| g.utilization_percent),
        ("gpu_memory_used_bytes", "GPU memory in use", |g| g.memory_used_bytes.map(|v| v as f64)),
        ("gpu_memory_total_bytes", "GPU memory", |g| g.memory_total_bytes.map(|v| v as f64)),
    ];
    for (name, help, read) in series {
        let _ = writeln!(out, "# HELP llama_dashboard_{name} {help}\n# TYPE llama_dashboard_{name} gauge");
        for g in &s.gpus {
            if let Some(v) = read(g) {
                let label = g.name.replace(['\\', '"', '\n'], " ");
                let _ = writeln!(out, "llama_dashboard_{name}{{gpu=\"{}\",name=\"{label}\"}} {v}", g.index);
            }
        }
    }
}
