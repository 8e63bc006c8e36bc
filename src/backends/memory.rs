//! Will a backend fit? Its need is estimated from its GGUF: the weights (the file), the KV cache for its
//! context (f16 K and V for every layer and KV head), and a margin for compute buffers. What is free is
//! the RAM the kernel reports available plus free VRAM where a GPU tool reports it (weights can sit in
//! either). Rough by design: it exists to refuse or make room before a load fails, not to be exact.

use crate::gguf::ModelSummary;
use crate::metrics::Sample;
use serde::Serialize;

const F16_BYTES: u64 = 2;
const MARGIN_FIXED: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Need {
    pub weights_bytes: u64,
    pub kv_cache_bytes: u64,
    pub context: u64,
    pub total_bytes: u64,
}

/// `args` is the spawn command: its `-c` / `--ctx-size` sets the context (0 or absent: the model's own).
/// Checked arithmetic: dimensions whose product does not fit in 64 bits are an error naming them,
/// never a wrapped (and so far too small) estimate.
pub fn estimate(summary: &ModelSummary, file_bytes: u64, args: &[String]) -> Result<Need, String> {
    let context = context_arg(args).filter(|c| *c > 0).or(summary.context_length).unwrap_or(4096);
    let kv_cache_bytes = match (summary.block_count, summary.head_count, summary.embedding_length) {
        (Some(layers), Some(heads), Some(embd)) if heads > 0 => {
            let kv_heads = summary.head_count_kv.unwrap_or(heads);
            [layers, kv_heads, embd / heads, 2, F16_BYTES].into_iter().try_fold(context, u64::checked_mul).ok_or_else(
                || {
                    format!(
                        "the KV cache estimate overflows 64 bits ({context} tokens x {layers} layers x {kv_heads} KV heads x {} dims)",
                        embd / heads
                    )
                },
            )?
        }
        _ => 0,
    };
    let margin = file_bytes / 20 + MARGIN_FIXED;
    let total_bytes = [kv_cache_bytes, margin]
        .into_iter()
        .try_fold(file_bytes, u64::checked_add)
        .ok_or_else(|| "the memory estimate overflows 64 bits".to_string())?;
    Ok(Need { weights_bytes: file_bytes, kv_cache_bytes, context, total_bytes })
}

fn context_arg(args: &[String]) -> Option<u64> {
    let at = args.iter().position(|a| a == "-c" || a == "--ctx-size")?;
    args.get(at + 1)?.parse().ok()
}

/// Available RAM plus free VRAM, from the latest metrics sample.
pub fn free_bytes(sample: &Sample) -> u64 {
    let vram: u64 =
        sample.gpus.iter().filter_map(|g| Some(g.memory_total_bytes?.saturating_sub(g.memory_used_bytes?))).sum();
    sample.memory.available_bytes + vram
}

pub fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1024.0 * 1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smol() -> ModelSummary {
        ModelSummary {
            block_count: Some(30),
            head_count: Some(9),
            head_count_kv: Some(3),
            embedding_length: Some(576),
            context_length: Some(8192),
            ..Default::default()
        }
    }

    #[test]
    fn the_kv_cache_grows_with_the_context_asked_for() {
        let args: Vec<String> = ["llama-server", "-c", "1024"].map(String::from).to_vec();
        let need = estimate(&smol(), 100 << 20, &args).unwrap();
        // 1024 tokens x 30 layers x 3 KV heads x 64 dims x (K+V) x 2 bytes
        assert_eq!(need.kv_cache_bytes, 1024 * 30 * 3 * 64 * 2 * 2);
        assert_eq!(need.context, 1024);
        let own = estimate(&smol(), 100 << 20, &[]).unwrap();
        assert_eq!((own.context, own.kv_cache_bytes), (8192, 8 * need.kv_cache_bytes), "no -c: the model's context");
        assert!(need.total_bytes > need.weights_bytes + need.kv_cache_bytes);
    }

    #[test]
    fn a_context_whose_kv_cache_overflows_is_an_error_not_a_wrapped_number() {
        let args: Vec<String> = ["llama-server", "-c", "18446744073709551615"].map(String::from).to_vec();
        let err = estimate(&smol(), 100 << 20, &args).unwrap_err();
        assert!(err.contains("overflows") && err.contains("18446744073709551615 tokens"), "{err}");
        assert!(estimate(&smol(), u64::MAX, &[]).is_err());
    }
}
