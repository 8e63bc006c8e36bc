//! Hostile and broken headers: each fails fast with the error naming its field, without a large allocation.

use super::super::source::Source;
use super::super::testkit::{Gguf, Tensor, text};
use super::super::*;
use std::io::Cursor;

const HUGE: u64 = 1 << 60;

fn error_of(bytes: &[u8]) -> GgufError {
    read_from(Cursor::new(bytes.to_vec())).unwrap_err()
}

/// `what` of a `TooLarge` error, so each case shows which cap it hit.
fn too_large(bytes: &[u8]) -> (&'static str, u64) {
    match error_of(bytes) {
        GgufError::TooLarge { what, value, .. } => (what, value),
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

/// A version 3 header for one metadata entry `key` of type `tag`, followed by `rest`.
fn one_kv(tag: u32, rest: impl FnOnce(&mut Gguf)) -> Vec<u8> {
    let mut g = Gguf::header(3, 0, 1);
    g.string("key").u32(tag);
    rest(&mut g);
    g.bytes
}

/// An entry holding `depth` arrays nested inside one another, the innermost an empty u8 array.
fn nested(depth: usize) -> Vec<u8> {
    one_kv(9, |g| {
        for _ in 1..depth {
            g.u32(9).u64(1);
        }
        g.u32(0).u64(0);
    })
}

#[test]
fn the_header_is_checked_first() {
    assert!(matches!(error_of(b"GGML\x03\0\0\0"), GgufError::NotGguf(m) if &m == b"GGML"));
    assert!(matches!(error_of(&Gguf::header(1, 0, 0).bytes), GgufError::UnsupportedVersion(1)));
    assert!(matches!(error_of(&Gguf::header(99, 0, 0).bytes), GgufError::UnsupportedVersion(99)));
    assert!(error_of(&Gguf::header(1, 0, 0).bytes).to_string().contains("32-bit counts"));
    assert_eq!(too_large(&Gguf::header(3, HUGE, 0).bytes), ("tensor_count", HUGE));
    assert_eq!(too_large(&Gguf::header(3, 0, HUGE).bytes), ("metadata_kv_count", HUGE));
}

#[test]
fn huge_lengths_hit_their_caps() {
    let mut key = Gguf::header(3, 0, 1);
    key.u64(HUGE);
    assert_eq!(too_large(&key.bytes), ("metadata key length", HUGE));
    let string = one_kv(8, |g| {
        g.u64(HUGE);
    });
    assert_eq!(too_large(&string), ("string length", HUGE));
    let array = one_kv(9, |g| {
        g.u32(0).u64(HUGE);
    });
    assert_eq!(too_large(&array), ("array length", HUGE));
    let mut name = Gguf::header(3, 1, 0);
    name.u64(HUGE);
    assert_eq!(too_large(&name.bytes), ("tensor name length", HUGE));
}

#[test]
fn lengths_under_the_caps_still_cannot_run_past_the_file() {
    let string = one_kv(8, |g| {
        g.u64(1000).raw(b"only ten b");
    });
    // A million u32s, or ten million strings of at least their 8-byte length: refused without a loop.
    let numbers = one_kv(9, |g| {
        g.u32(4).u64(1_000_000);
    });
    let strings = one_kv(9, |g| {
        g.u32(8).u64(10_000_000);
    });
    let cases = [(string, 1000), (numbers, 4_000_000), (strings, 80_000_000)];
    for (bytes, expected) in cases {
        match error_of(&bytes) {
            GgufError::Truncated { section: "metadata", needed, .. } => assert_eq!(needed, expected),
            other => panic!("expected Truncated, got {other:?}"),
        }
    }
}

#[test]
fn nesting_deeper_than_the_cap_is_refused_whether_read_or_skipped() {
    assert!(read_from(Cursor::new(nested(MAX_ARRAY_DEPTH as usize))).is_ok());
    assert_eq!(too_large(&nested(MAX_ARRAY_DEPTH as usize + 1)), ("array nesting depth", MAX_ARRAY_DEPTH + 1));
    // Element 17 of an array of arrays is skipped, not kept; its depth is checked all the same.
    let skipped = one_kv(9, |g| {
        g.u32(9).u64(ARRAY_HEAD as u64 + 1);
        for _ in 0..ARRAY_HEAD {
            g.u32(0).u64(0);
        }
        for _ in 1..MAX_ARRAY_DEPTH {
            g.u32(9).u64(1);
        }
        g.u32(0).u64(0);
    });
    assert_eq!(too_large(&skipped), ("array nesting depth", MAX_ARRAY_DEPTH + 1));
}

#[test]
fn unknown_types_and_repeated_keys_are_named() {
    assert!(matches!(error_of(&one_kv(13, |_| {})), GgufError::UnknownValueType(13)));
    let element = one_kv(9, |g| {
        g.u32(99).u64(0);
    });
    assert!(matches!(error_of(&element), GgufError::UnknownValueType(99)));
    let mut twice = Gguf::header(3, 0, 2);
    twice.string("a").u32(0).raw(&[1]).string("a").u32(0).raw(&[2]);
    assert!(matches!(error_of(&twice.bytes), GgufError::DuplicateKey(k) if k == "a"));
}

#[test]
fn tensor_infos_are_bounded_and_checked_for_overflow() {
    let mut dims = Gguf::header(3, 1, 0);
    dims.string("t").u32(1000);
    assert_eq!(too_large(&dims.bytes), ("tensor n_dims", 1000));
    let product = Gguf::file(&[], &[Tensor { name: "t", dims: &[1 << 32, 1 << 32] }]);
    assert!(matches!(error_of(&product), GgufError::Overflow(_)));
    let sum = Gguf::file(&[], &[Tensor { name: "a", dims: &[u64::MAX] }, Tensor { name: "b", dims: &[1] }]);
    assert!(matches!(error_of(&sum), GgufError::Overflow(_)));
}

#[test]
fn kept_metadata_is_charged_against_a_memory_budget() {
    let keys: Vec<String> = (0..20).map(|i| format!("k{i}")).collect();
    let kvs: Vec<_> = keys.iter().map(|k| (k.as_str(), text(&"x".repeat(1000)))).collect();
    let mut src = Source::new(Cursor::new(Gguf::file(&kvs, &[]))).unwrap();
    src.retained_limit = 10_000;
    match super::super::reader::read(src) {
        Err(GgufError::TooLarge { what, limit: 10_000, .. }) => assert!(what.starts_with("metadata kept in memory")),
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn invalid_utf8_is_replaced_not_fatal() {
    let mut g = Gguf::header(3, 0, 1);
    g.string("k").u32(8).u64(3).raw(b"a\xffb");
    let info = read_from(Cursor::new(g.bytes)).unwrap();
    assert_eq!(info.get_str("k"), Some("a\u{fffd}b"));
}

#[test]
fn model_dimensions_past_any_real_model_are_refused_by_name() {
    let file = |key: &str, value: GgufValue| {
        Gguf::file(&[("general.architecture", text("llama")), (key, value)], &[Tensor { name: "t", dims: &[2] }])
    };
    for (key, value) in [
        ("llama.context_length", GgufValue::U64(1 << 40)),
        ("llama.block_count", GgufValue::U64(u64::MAX)),
        ("llama.attention.head_count", GgufValue::U32(u32::MAX)),
        ("llama.attention.head_count_kv", GgufValue::I64(i64::MAX)),
        ("llama.embedding_length", GgufValue::U64(1 << 33)),
    ] {
        match error_of(&file(key, value)) {
            GgufError::Implausible { key: named, .. } => assert_eq!(named, key),
            other => panic!("{key}: expected Implausible, got {other:?}"),
        }
    }
    assert!(read_from(Cursor::new(file("llama.context_length", GgufValue::U32(131_072)))).is_ok());
}

#[test]
fn each_model_dimension_at_its_limit_is_accepted() {
    let summary = ModelSummary {
        context_length: Some(u32::MAX.into()),
        block_count: Some(4096),
        head_count: Some(65_536),
        head_count_kv: Some(65_536),
        embedding_length: Some(1 << 20),
        ..Default::default()
    };
    assert!(summary.check_plausible().is_ok());
    let one_past = ModelSummary { block_count: Some(4097), ..summary };
    assert!(matches!(one_past.check_plausible(), Err(GgufError::Implausible { value: 4097, limit: 4096, .. })));
}

#[test]
fn a_refusal_names_the_byte_offset_of_the_bad_field() {
    // Header 24 bytes, then the tensor name ("t": 8-byte length + 1 byte): n_dims sits at offset 33.
    let mut dims = Gguf::header(3, 1, 0);
    dims.string("t").u32(9);
    assert!(matches!(error_of(&dims.bytes), GgufError::TooLarge { what: "tensor n_dims", offset: 33, .. }));
    // Header 24, key "key" 11, type 4: the outer array's depth is checked at 39, the nested one's at 51.
    match error_of(&nested(MAX_ARRAY_DEPTH as usize + 1)) {
        GgufError::TooLarge { what: "array nesting depth", offset, .. } => {
            assert_eq!(offset, 39 + 12 * MAX_ARRAY_DEPTH)
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

/// A file whose length, taken at open, is larger than what reading it gives: it shrank meanwhile (the
/// read ends early with `kind`, as a shrunk file or a failing disk would).
struct Shrinking {
    now: Cursor<Vec<u8>>,
    length_at_open: u64,
    kind: std::io::ErrorKind,
}

impl std::io::Read for Shrinking {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.now.read(buf)? {
            0 if self.kind != std::io::ErrorKind::UnexpectedEof => Err(std::io::Error::new(self.kind, "disk gone")),
            n => Ok(n),
        }
    }
}

impl std::io::Seek for Shrinking {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        match to {
            std::io::SeekFrom::End(_) => Ok(self.length_at_open),
            other => self.now.seek(other),
        }
    }
}

#[test]
fn a_file_that_shrinks_while_read_is_truncated_and_other_read_errors_are_io_errors() {
    let whole =
        Gguf::file(&[("general.architecture", text("llama")), ("general.name", text("x".repeat(100).as_str()))], &[]);
    let shrunk = |kind| Shrinking { now: Cursor::new(whole[..60].to_vec()), length_at_open: whole.len() as u64, kind };
    match read_from(shrunk(std::io::ErrorKind::UnexpectedEof)) {
        Err(GgufError::Truncated { available: 0, offset, .. }) => assert!(offset <= 60, "{offset}"),
        other => panic!("expected Truncated, got {other:?}"),
    }
    let broken = read_from(shrunk(std::io::ErrorKind::Other));
    assert!(matches!(broken, Err(GgufError::Io(_))), "{broken:?}");
}
