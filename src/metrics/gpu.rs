//! GPU readings from the vendor tools when they are installed (`nvidia-smi`, `rocm-smi`).
//! No tool, or a tool that fails, means an empty list: never an error for the sampler.

use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::process::Command;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GpuSample {
    pub index: u32,
    pub name: String,
    pub vendor: String,
    pub utilization_percent: Option<f64>,
    pub memory_total_bytes: Option<u64>,
    pub memory_used_bytes: Option<u64>,
    pub temperature_c: Option<f64>,
}

/// Which vendor tool to ask, found once on PATH at startup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpuProbe {
    Nvidia,
    Amd,
    None,
}

const TOOL_TIMEOUT: Duration = Duration::from_secs(3);
const MIB: u64 = 1024 * 1024;

impl GpuProbe {
    pub fn detect() -> Self {
        if on_path("nvidia-smi") {
            Self::Nvidia
        } else if on_path("rocm-smi") {
            Self::Amd
        } else {
            Self::None
        }
    }

    pub async fn read(self) -> Vec<GpuSample> {
        let output = match self {
            Self::Nvidia => {
                run(Command::new("nvidia-smi").args([
                    "--query-gpu=index,name,utilization.gpu,memory.total,memory.used,temperature.gpu",
                    "--format=csv,noheader,nounits",
                ]))
                .await
            }
            Self::Amd => {
                run(Command::new("rocm-smi").args(["--showuse", "--showmeminfo", "vram", "--showtemp", "--json"])).await
            }
            Self::None => return Vec::new(),
        };
        match (self, output) {
            (Self::Nvidia, Some(text)) => parse_nvidia(&text),
            (Self::Amd, Some(text)) => parse_rocm(&text),
            _ => Vec::new(),
        }
    }
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
        .unwrap_or(false)
}

async fn run(cmd: &mut Command) -> Option<String> {
    cmd.kill_on_drop(true);
    let out = tokio::time::timeout(TOOL_TIMEOUT, cmd.output()).await.ok()?.ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `0, NVIDIA H100, 37, 81559, 1024, 41` per line (MiB, %, °C; `[N/A]` where unknown).
pub fn parse_nvidia(text: &str) -> Vec<GpuSample> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(',').map(str::trim).collect();
            if f.len() < 6 {
                return None;
            }
            let num = |s: &str| s.parse::<f64>().ok();
            Some(GpuSample {
                index: f[0].parse().ok()?,
                name: f[1].to_string(),
                vendor: "nvidia".into(),
                utilization_percent: num(f[2]),
                memory_total_bytes: num(f[3]).map(|m| m as u64 * MIB),
                memory_used_bytes: num(f[4]).map(|m| m as u64 * MIB),
                temperature_c: num(f[5]),
            })
        })
        .collect()
}

/// rocm-smi `--json`: `{"card0": {"GPU use (%)": "3", "VRAM Total Memory (B)": "...", ...}}`.
pub fn parse_rocm(text: &str) -> Vec<GpuSample> {
    let Ok(serde_json::Value::Object(cards)) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    cards
        .iter()
        .filter_map(|(name, fields)| {
            let index = name.strip_prefix("card")?.parse().ok()?;
            let field = |key: &str| fields.get(key).and_then(|v| v.as_str()).and_then(|s| s.trim().parse::<f64>().ok());
            let temp = fields
                .as_object()?
                .iter()
                .find(|(k, _)| k.starts_with("Temperature"))
                .and_then(|(_, v)| v.as_str()?.parse().ok());
            Some(GpuSample {
                index,
                name: name.clone(),
                vendor: "amd".into(),
                utilization_percent: field("GPU use (%)"),
                memory_total_bytes: field("VRAM Total Memory (B)").map(|v| v as u64),
                memory_used_bytes: field("VRAM Total Used Memory (B)").map(|v| v as u64),
                temperature_c: temp,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nvidia_csv_rows_become_samples() {
        let gpus = parse_nvidia("0, NVIDIA H100 80GB HBM3, 37, 81559, 1024, 41\n1, NVIDIA H100, [N/A], 81559, 0, 30\n");
        assert_eq!(gpus.len(), 2);
        assert_eq!(gpus[0].memory_used_bytes, Some(1024 * MIB));
        assert_eq!(gpus[0].utilization_percent, Some(37.0));
        assert_eq!(gpus[1].utilization_percent, None);
    }

    #[test]
    fn rocm_json_becomes_samples() {
        let text = r#"{"card0":{"GPU use (%)":"12","VRAM Total Memory (B)":"17163091968","VRAM Total Used Memory (B)":"1048576","Temperature (Sensor edge) (C)":"45.0"}}"#;
        let gpus = parse_rocm(text);
        assert_eq!(gpus.len(), 1);
        assert_eq!(gpus[0].memory_used_bytes, Some(1_048_576));
        assert_eq!(gpus[0].temperature_c, Some(45.0));
    }
}
