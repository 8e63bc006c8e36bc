//! The few facts a model list shows, taken from well-known metadata keys. A key that is missing or of
//! an unexpected type gives `None`: the summary describes the file, it does not validate it.

use super::{GgufError, GgufValue};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelSummary {
    /// `general.architecture`, e.g. `llama`; the prefix of the architecture keys below.
    pub architecture: Option<String>,
    /// `general.name`.
    pub name: Option<String>,
    /// Sum over all tensors of the product of their dimensions.
    pub parameters: u64,
    /// llama.cpp's name for `general.file_type` (`Q4_K_M`), or `type N` for a number it does not name.
    pub quantization: Option<String>,
    /// `general.file_type` as stored.
    pub file_type: Option<u64>,
    /// `<arch>.context_length`: the context the model was trained for (llama.cpp's `n_ctx_train`).
    pub context_length: Option<u64>,
    /// `<arch>.block_count`: the number of layers.
    pub block_count: Option<u64>,
    /// `<arch>.attention.head_count`; `None` also when it is a per-layer array.
    pub head_count: Option<u64>,
    /// `<arch>.attention.head_count_kv`.
    pub head_count_kv: Option<u64>,
    /// `<arch>.embedding_length`.
    pub embedding_length: Option<u64>,
    /// Whether `tokenizer.chat_template` is present.
    pub has_chat_template: bool,
}

impl ModelSummary {
    pub(super) fn new(meta: &BTreeMap<String, GgufValue>, parameters: u64) -> Self {
        let text = |key: &str| meta.get(key).and_then(GgufValue::as_str).map(str::to_owned);
        let number = |key: &str| meta.get(key).and_then(GgufValue::as_u64);
        let architecture = text("general.architecture");
        let arch_number = |suffix: &str| architecture.as_deref().and_then(|arch| number(&format!("{arch}.{suffix}")));
        let file_type = number("general.file_type");
        Self {
            name: text("general.name"),
            parameters,
            quantization: file_type.map(quantization_name),
            file_type,
            context_length: arch_number("context_length"),
            block_count: arch_number("block_count"),
            head_count: arch_number("attention.head_count"),
            head_count_kv: arch_number("attention.head_count_kv"),
            embedding_length: arch_number("embedding_length"),
            has_chat_template: meta.contains_key("tokenizer.chat_template"),
            architecture,
        }
    }
}

/// Upper bounds of the dimensions a summary reports, well above any real model (llama.cpp keeps the
/// context in 32 bits and allows 512 layers); a file over them is refused rather than estimated.
const LIMITS: [(&str, u64); 5] = [
    ("context_length", u32::MAX as u64),
    ("block_count", 4096),
    ("attention.head_count", 65_536),
    ("attention.head_count_kv", 65_536),
    ("embedding_length", 1 << 20),
];

impl ModelSummary {
    /// Refuses dimensions past [`LIMITS`], naming the key, so that no later arithmetic sees them.
    pub(super) fn check_plausible(&self) -> Result<(), GgufError> {
        let values =
            [self.context_length, self.block_count, self.head_count, self.head_count_kv, self.embedding_length];
        for ((suffix, limit), value) in LIMITS.iter().zip(values) {
            if let Some(value) = value.filter(|v| v > limit) {
                let arch = self.architecture.as_deref().unwrap_or("?");
                return Err(GgufError::Implausible { key: format!("{arch}.{suffix}"), value, limit: *limit });
            }
        }
        Ok(())
    }
}

/// llama.cpp's `llama_ftype` names (`LLAMA_FTYPE_MOSTLY_*` without the prefix; 38 is `MXFP4_MOE`), as of
/// the llama.cpp the tests run against. Retired, unassigned and newer numbers read `type N`.
pub fn quantization_name(file_type: u64) -> String {
    let name = match file_type {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        19 => "IQ2_XXS",
        20 => "IQ2_XS",
        21 => "Q2_K_S",
        22 => "IQ3_XS",
        23 => "IQ3_XXS",
        24 => "IQ1_S",
        25 => "IQ4_NL",
        26 => "IQ3_S",
        27 => "IQ3_M",
        28 => "IQ2_S",
        29 => "IQ2_M",
        30 => "IQ4_XS",
        31 => "IQ1_M",
        32 => "BF16",
        36 => "TQ1_0",
        37 => "TQ2_0",
        38 => "MXFP4",
        39 => "NVFP4",
        40 => "Q1_0",
        41 => "Q2_0",
        n => return format!("type {n}"),
    };
    name.to_owned()
}
