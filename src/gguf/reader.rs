//! The three parts of a GGUF file before its tensor data: header, metadata, tensor infos.

use super::source::{Source, check_limit};
use super::value::{ValueType, read_value};
use super::{
    GgufError, GgufInfo, GgufValue, MAX_KEY_LEN, MAX_KV_COUNT, MAX_TENSOR_COUNT, MAX_TENSOR_DIMS, ModelSummary,
};
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::io::{Read, Seek};

/// Reads up to the end of the tensor infos; the tensor data after them is never touched.
pub(super) fn read<R: Read + Seek>(mut src: Source<R>) -> Result<GgufInfo, GgufError> {
    let (version, tensor_count, kv_count) = header(&mut src)?;
    let metadata = metadata(&mut src, kv_count)?;
    let parameters = parameters(&mut src, tensor_count)?;
    let summary = ModelSummary::new(&metadata, parameters);
    summary.check_plausible()?;
    Ok(GgufInfo { version, tensor_count, metadata, summary })
}

/// Magic, version, tensor count, metadata count.
fn header<R: Read + Seek>(src: &mut Source<R>) -> Result<(u32, u64, u64), GgufError> {
    src.section = "header";
    let magic = src.bytes::<4>()?;
    if &magic != b"GGUF" {
        return Err(GgufError::NotGguf(magic));
    }
    let version = src.u32()?;
    if !matches!(version, 2 | 3) {
        return Err(GgufError::UnsupportedVersion(version));
    }
    let tensor_count = src.count("tensor_count", MAX_TENSOR_COUNT)?;
    let kv_count = src.count("metadata_kv_count", MAX_KV_COUNT)?;
    Ok((version, tensor_count, kv_count))
}

fn metadata<R: Read + Seek>(src: &mut Source<R>, count: u64) -> Result<BTreeMap<String, GgufValue>, GgufError> {
    src.section = "metadata";
    let mut map = BTreeMap::new();
    for _ in 0..count {
        let key = src.string("metadata key length", MAX_KEY_LEN)?;
        let value_type = ValueType::from_tag(src.u32()?)?;
        let value = read_value(src, value_type, 0)?;
        match map.entry(key) {
            Entry::Vacant(slot) => {
                slot.insert(value);
            }
            Entry::Occupied(slot) => return Err(GgufError::DuplicateKey(slot.key().clone())),
        }
    }
    Ok(map)
}

/// Walks the tensor infos (name, dims, type, offset) and sums each tensor's element count.
fn parameters<R: Read + Seek>(src: &mut Source<R>, count: u64) -> Result<u64, GgufError> {
    src.section = "tensor infos";
    let mut total: u64 = 0;
    for _ in 0..count {
        src.skip_string("tensor name length", MAX_KEY_LEN)?;
        let offset = src.pos();
        let n_dims = src.u32()?;
        check_limit("tensor n_dims", n_dims.into(), MAX_TENSOR_DIMS, offset)?;
        let mut elements: u64 = 1;
        for _ in 0..n_dims {
            elements = elements.checked_mul(src.u64()?).ok_or(GgufError::Overflow("a tensor's element count"))?;
        }
        // ggml type (u32) and data offset (u64): not needed for a summary.
        src.skip(4 + 8)?;
        total = total.checked_add(elements).ok_or(GgufError::Overflow("the parameter count"))?;
    }
    Ok(total)
}
