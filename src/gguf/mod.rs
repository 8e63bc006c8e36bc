//! GGUF metadata: the header, key/value metadata and tensor infos of a llama.cpp model file, read
//! through a buffer without touching the tensor data. The cost follows the metadata, not the file size:
//! about 1 ms for the demo model (49k-token vocabulary) in a release build.
//!
//! Files are untrusted input. Every count and length is checked against a cap below and against the
//! bytes left in the file before anything is allocated or looped over, so a hostile or truncated file
//! gives a [`GgufError`] naming the field, never a panic or a huge allocation.

mod error;
mod reader;
mod source;
mod summary;
mod value;

#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

pub use error::GgufError;
pub use summary::{ModelSummary, quantization_name};
pub use value::{GgufArray, GgufValue, ValueType};

use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{Read, Seek};
use std::path::Path;

/// Metadata keys are short identifiers (`llama.attention.head_count`); this also caps tensor names,
/// which llama.cpp limits to 63 bytes.
pub const MAX_KEY_LEN: u64 = 64 * 1024;
/// One string value. Chat templates are tens of KiB; `tokenizer.huggingface.json`, which some converters
/// embed, reaches several MiB. Longer is not metadata.
pub const MAX_STRING_LEN: u64 = 16 * 1024 * 1024;
/// Real models carry 20 to 60 keys.
pub const MAX_KV_COUNT: u64 = 65_536;
/// Large mixture-of-experts models have a few thousand tensors.
pub const MAX_TENSOR_COUNT: u64 = 1_000_000;
/// ggml tensors have at most 4 dimensions; 8 leaves room without letting a file declare thousands.
pub const MAX_TENSOR_DIMS: u64 = 8;
/// Elements of one array. Vocabularies and merge lists run to a few hundred thousand.
pub const MAX_ARRAY_LEN: u64 = 16 * 1024 * 1024;
/// Arrays of arrays of ... no deeper than this (1 = a plain array). Real files use 1.
pub const MAX_ARRAY_DEPTH: u64 = 4;
/// Elements kept from each array; the rest are read past, only the length is remembered.
pub const ARRAY_HEAD: usize = 16;
/// All metadata kept in memory (strings plus a fixed cost per value), whatever the file declares.
pub const MAX_RETAINED_BYTES: u64 = 64 * 1024 * 1024;

/// What a GGUF file says about itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GgufInfo {
    /// 2 or 3.
    pub version: u32,
    pub tensor_count: u64,
    /// Every metadata key, sorted; arrays keep their first [`ARRAY_HEAD`] elements.
    pub metadata: BTreeMap<String, GgufValue>,
    pub summary: ModelSummary,
}

impl GgufInfo {
    pub fn get(&self, key: &str) -> Option<&GgufValue> {
        self.metadata.get(key)
    }

    /// The value of `key` when it is an integer of any width that is not negative.
    pub fn get_u64(&self, key: &str) -> Option<u64> {
        self.get(key).and_then(GgufValue::as_u64)
    }

    /// The value of `key` when it is a string.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(GgufValue::as_str)
    }
}

/// Reads the metadata of the GGUF file at `path`. Blocking: call it from a blocking thread.
pub fn read_metadata(path: &Path) -> Result<GgufInfo, GgufError> {
    read_from(std::fs::File::open(path)?)
}

/// Reads GGUF metadata from the start of `stream`, whose length (found by seeking to its end) bounds
/// every size the stream declares.
pub fn read_from<R: Read + Seek>(stream: R) -> Result<GgufInfo, GgufError> {
    reader::read(source::Source::new(stream)?)
}
