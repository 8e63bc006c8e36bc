//! Everything that can go wrong reading a GGUF header. Each variant names the field or limit at fault,
//! so a user looking at a broken or hostile file learns what is wrong without a hex editor.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum GgufError {
    #[error("cannot read the GGUF file: {0}")]
    Io(#[from] std::io::Error),
    /// The first four bytes are not `GGUF`.
    #[error("not a GGUF file: it starts with \"{}\" instead of \"GGUF\"", .0.escape_ascii())]
    NotGguf([u8; 4]),
    #[error("{}", version_message(*.0))]
    UnsupportedVersion(u32),
    #[error("unknown GGUF value type {0} (known: 0..=12)")]
    UnknownValueType(u32),
    /// The file ends (or a declared length runs) past its last byte. `section` is `header`, `metadata`
    /// or `tensor infos`; `offset` is where the short read starts.
    #[error("truncated GGUF file: the {section} needs {needed} bytes at offset {offset}, but only {available} remain")]
    Truncated { section: &'static str, offset: u64, needed: u64, available: u64 },
    /// A count, length or depth over one of the caps in [`super`]; checked before anything is allocated.
    #[error("{what} is {value}, over the limit of {limit} (at offset {offset})")]
    TooLarge { what: &'static str, value: u64, limit: u64, offset: u64 },
    /// A product or sum of tensor dimensions that does not fit in 64 bits.
    #[error("{0} overflows 64 bits")]
    Overflow(&'static str),
    /// llama.cpp refuses files that repeat a key, so they are not models it could load.
    #[error("metadata key '{0}' appears twice")]
    DuplicateKey(String),
    /// A model dimension no llama.cpp model could have; arithmetic on it (memory estimates) would overflow.
    #[error("{key} is {value}, over the limit of {limit}: not a model llama.cpp can load")]
    Implausible { key: String, value: u64, limit: u64 },
}

fn version_message(version: u32) -> String {
    match version {
        1 => "GGUF version 1 is not supported (it used 32-bit counts); convert the model again".into(),
        v => format!("GGUF version {v} is not supported (versions 2 and 3 are; big-endian files are not)"),
    }
}
