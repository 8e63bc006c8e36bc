//! Metadata values: every GGUF type, arrays kept as their length plus a short head so a 150k-token
//! vocabulary costs a few hundred bytes, yet every element is still read past correctly.

use super::source::{Source, check_limit};
use super::{ARRAY_HEAD, GgufError, MAX_ARRAY_DEPTH, MAX_ARRAY_LEN, MAX_STRING_LEN};
use serde::Serialize;
use std::io::{Read, Seek};

/// The `u32` type tags of the GGUF spec, in their numeric order (0..=12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    F32,
    Bool,
    String,
    Array,
    U64,
    I64,
    F64,
}

const TYPES: [ValueType; 13] = {
    use ValueType::*;
    [U8, I8, U16, I16, U32, I32, F32, Bool, String, Array, U64, I64, F64]
};

impl ValueType {
    pub fn from_tag(tag: u32) -> Result<Self, GgufError> {
        usize::try_from(tag).ok().and_then(|i| TYPES.get(i).copied()).ok_or(GgufError::UnknownValueType(tag))
    }

    /// Encoded size of a scalar; `None` for strings and arrays, whose size depends on their content.
    fn fixed_size(self) -> Option<u64> {
        use ValueType::*;
        match self {
            U8 | I8 | Bool => Some(1),
            U16 | I16 => Some(2),
            U32 | I32 | F32 => Some(4),
            U64 | I64 | F64 => Some(8),
            String | Array => None,
        }
    }

    /// The fewest bytes a value can take: an empty string is its 8-byte length, an empty array 4 + 8.
    fn min_size(self) -> u64 {
        self.fixed_size().unwrap_or(if self == ValueType::String { 8 } else { 12 })
    }
}

/// One metadata value. Serializes as plain JSON (numbers, strings, booleans; arrays as [`GgufArray`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum GgufValue {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(String),
    Array(GgufArray),
    U64(u64),
    I64(i64),
    F64(f64),
}

/// An array as declared (`elem_type`, `len`) with only its first [`ARRAY_HEAD`] elements kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GgufArray {
    pub elem_type: ValueType,
    pub len: u64,
    pub head: Vec<GgufValue>,
}

impl GgufValue {
    /// Any integer type that holds a non-negative value.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Self::U8(v) => Some(v.into()),
            Self::U16(v) => Some(v.into()),
            Self::U32(v) => Some(v.into()),
            Self::U64(v) => Some(v),
            Self::I8(v) => u64::try_from(v).ok(),
            Self::I16(v) => u64::try_from(v).ok(),
            Self::I32(v) => u64::try_from(v).ok(),
            Self::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }
}

/// Reads one value of type `ty`; `depth` is how many arrays enclose it (0 for a metadata value).
pub(super) fn read_value<R: Read + Seek>(
    src: &mut Source<R>,
    ty: ValueType,
    depth: u64,
) -> Result<GgufValue, GgufError> {
    src.charge(size_of::<GgufValue>() as u64)?;
    Ok(match ty {
        ValueType::U8 => GgufValue::U8(u8::from_le_bytes(src.bytes()?)),
        ValueType::I8 => GgufValue::I8(i8::from_le_bytes(src.bytes()?)),
        ValueType::U16 => GgufValue::U16(u16::from_le_bytes(src.bytes()?)),
        ValueType::I16 => GgufValue::I16(i16::from_le_bytes(src.bytes()?)),
        ValueType::U32 => GgufValue::U32(src.u32()?),
        ValueType::I32 => GgufValue::I32(i32::from_le_bytes(src.bytes()?)),
        ValueType::F32 => GgufValue::F32(f32::from_le_bytes(src.bytes()?)),
        ValueType::Bool => GgufValue::Bool(src.bytes::<1>()?[0] != 0),
        ValueType::String => GgufValue::String(src.string("string length", MAX_STRING_LEN)?),
        ValueType::Array => GgufValue::Array(read_array(src, depth + 1)?),
        ValueType::U64 => GgufValue::U64(src.u64()?),
        ValueType::I64 => GgufValue::I64(i64::from_le_bytes(src.bytes()?)),
        ValueType::F64 => GgufValue::F64(f64::from_le_bytes(src.bytes()?)),
    })
}

fn read_array<R: Read + Seek>(src: &mut Source<R>, depth: u64) -> Result<GgufArray, GgufError> {
    let (elem_type, len) = array_header(src, depth)?;
    let kept = len.min(ARRAY_HEAD as u64);
    // Grows to at most ARRAY_HEAD elements; never sized from the file.
    let mut head = Vec::new();
    for _ in 0..kept {
        head.push(read_value(src, elem_type, depth)?);
    }
    skip_values(src, elem_type, len - kept, depth)?;
    Ok(GgufArray { elem_type, len, head })
}

/// Element type and length of an array at nesting `depth`, after the depth, length and size checks.
fn array_header<R: Read + Seek>(src: &mut Source<R>, depth: u64) -> Result<(ValueType, u64), GgufError> {
    check_limit("array nesting depth", depth, MAX_ARRAY_DEPTH, src.pos())?;
    let elem_type = ValueType::from_tag(src.u32()?)?;
    let len = src.count("array length", MAX_ARRAY_LEN)?;
    // Fails fast when even the smallest elements could not fit in what is left of the file.
    src.need(len.saturating_mul(elem_type.min_size()))?;
    Ok((elem_type, len))
}

fn skip_values<R: Read + Seek>(src: &mut Source<R>, ty: ValueType, count: u64, depth: u64) -> Result<(), GgufError> {
    if let Some(size) = ty.fixed_size() {
        return src.skip(count.saturating_mul(size));
    }
    for _ in 0..count {
        if ty == ValueType::String {
            src.skip_string("string length", MAX_STRING_LEN)?;
        } else {
            let (elem_type, len) = array_header(src, depth + 1)?;
            skip_values(src, elem_type, len, depth + 1)?;
        }
    }
    Ok(())
}
