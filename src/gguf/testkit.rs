//! Writes GGUF bytes for the tests: a header, metadata from [`GgufValue`]s, tensor infos.

use super::{GgufArray, GgufValue, ValueType};

pub struct Tensor<'a> {
    pub name: &'a str,
    pub dims: &'a [u64],
}

#[derive(Default)]
pub struct Gguf {
    pub bytes: Vec<u8>,
}

impl Gguf {
    /// Magic, `version`, and the two counts.
    pub fn header(version: u32, tensors: u64, kvs: u64) -> Self {
        let mut g = Self::default();
        g.raw(b"GGUF").u32(version).u64(tensors).u64(kvs);
        g
    }

    /// A complete version 3 file.
    pub fn file(kvs: &[(&str, GgufValue)], tensors: &[Tensor]) -> Vec<u8> {
        let mut g = Self::header(3, tensors.len() as u64, kvs.len() as u64);
        for (key, value) in kvs {
            g.string(key).u32(tag(value)).value(value);
        }
        for t in tensors {
            g.string(t.name).u32(t.dims.len() as u32);
            for d in t.dims {
                g.u64(*d);
            }
            g.u32(0).u64(0);
        }
        g.bytes
    }

    pub fn raw(&mut self, b: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(b);
        self
    }

    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.raw(&v.to_le_bytes())
    }

    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.raw(&v.to_le_bytes())
    }

    pub fn string(&mut self, s: &str) -> &mut Self {
        self.u64(s.len() as u64).raw(s.as_bytes())
    }

    /// The payload of `v`, without its type tag. Arrays write `head` and declare `len` = `head.len()`.
    pub fn value(&mut self, v: &GgufValue) -> &mut Self {
        match v {
            GgufValue::U8(x) => self.raw(&x.to_le_bytes()),
            GgufValue::I8(x) => self.raw(&x.to_le_bytes()),
            GgufValue::U16(x) => self.raw(&x.to_le_bytes()),
            GgufValue::I16(x) => self.raw(&x.to_le_bytes()),
            GgufValue::U32(x) => self.raw(&x.to_le_bytes()),
            GgufValue::I32(x) => self.raw(&x.to_le_bytes()),
            GgufValue::F32(x) => self.raw(&x.to_le_bytes()),
            GgufValue::Bool(x) => self.raw(&[u8::from(*x)]),
            GgufValue::String(s) => self.string(s),
            GgufValue::Array(a) => {
                self.u32(a.elem_type as u32).u64(a.head.len() as u64);
                a.head.iter().fold(self, |g, e| g.value(e))
            }
            GgufValue::U64(x) => self.raw(&x.to_le_bytes()),
            GgufValue::I64(x) => self.raw(&x.to_le_bytes()),
            GgufValue::F64(x) => self.raw(&x.to_le_bytes()),
        }
    }
}

pub fn tag(v: &GgufValue) -> u32 {
    let t = match v {
        GgufValue::U8(_) => ValueType::U8,
        GgufValue::I8(_) => ValueType::I8,
        GgufValue::U16(_) => ValueType::U16,
        GgufValue::I16(_) => ValueType::I16,
        GgufValue::U32(_) => ValueType::U32,
        GgufValue::I32(_) => ValueType::I32,
        GgufValue::F32(_) => ValueType::F32,
        GgufValue::Bool(_) => ValueType::Bool,
        GgufValue::String(_) => ValueType::String,
        GgufValue::Array(_) => ValueType::Array,
        GgufValue::U64(_) => ValueType::U64,
        GgufValue::I64(_) => ValueType::I64,
        GgufValue::F64(_) => ValueType::F64,
    };
    t as u32
}

/// An array value holding exactly `items`.
pub fn array(elem_type: ValueType, items: Vec<GgufValue>) -> GgufValue {
    GgufValue::Array(GgufArray { elem_type, len: items.len() as u64, head: items })
}

pub fn text(s: &str) -> GgufValue {
    GgufValue::String(s.to_owned())
}
