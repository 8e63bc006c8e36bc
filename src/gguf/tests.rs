//! Round trip through a file written by [`super::testkit`]: every value type, long arrays, the summary,
//! and a truncation at every byte.

mod hostile;
mod real_model;

use super::testkit::{Gguf, Tensor, array, text};
use super::*;
use std::io::Cursor;

/// Short values of every type, read back exactly as written.
fn exact_kvs() -> Vec<(&'static str, GgufValue)> {
    use GgufValue as V;
    vec![
        ("general.architecture", text("llama")),
        ("general.name", text("Tiny Test")),
        ("general.file_type", V::U32(15)),
        ("llama.context_length", V::U64(2048)),
        ("llama.block_count", V::U16(2)),
        ("llama.attention.head_count", V::I32(4)),
        ("llama.attention.head_count_kv", V::U8(2)),
        ("llama.embedding_length", V::I64(64)),
        ("tokenizer.chat_template", text("{% for m in messages %}{{ m.content }}{% endfor %}")),
        ("t.u8", V::U8(250)),
        ("t.i8", V::I8(-7)),
        ("t.u16", V::U16(65_000)),
        ("t.i16", V::I16(-30_000)),
        ("t.u32", V::U32(4_000_000_000)),
        ("t.i32", V::I32(-2_000_000_000)),
        ("t.f32", V::F32(1.5e-5)),
        ("t.bool", V::Bool(true)),
        ("t.string", text("héllo ✓")),
        ("t.u64", V::U64(u64::MAX)),
        ("t.i64", V::I64(i64::MIN)),
        ("t.f64", V::F64(-2.25)),
        ("t.empty", array(ValueType::String, vec![])),
        ("t.array", array(ValueType::I16, vec![V::I16(1), V::I16(-2), V::I16(3)])),
        (
            "t.nested",
            array(ValueType::Array, vec![array(ValueType::Bool, vec![V::Bool(false)]), array(ValueType::U8, vec![])]),
        ),
    ]
}

/// Arrays longer than [`ARRAY_HEAD`]: strings, scalars and arrays, each skipped past by its own path.
fn long_kvs() -> Vec<(&'static str, GgufValue)> {
    let tokens = (0..100).map(|i| text(&format!("tok{i}"))).collect();
    let scores = (0..1000).map(|i| GgufValue::F32(i as f32)).collect();
    let pairs = (0..20).map(|i| array(ValueType::U32, vec![GgufValue::U32(i), GgufValue::U32(i + 1)])).collect();
    vec![
        ("tokenizer.ggml.tokens", array(ValueType::String, tokens)),
        ("tokenizer.ggml.scores", array(ValueType::F32, scores)),
        ("t.pairs", array(ValueType::Array, pairs)),
    ]
}

const TENSORS: [Tensor; 2] =
    [Tensor { name: "token_embd.weight", dims: &[64, 100] }, Tensor { name: "blk.0.w", dims: &[64, 3, 5] }];

fn sample_file() -> Vec<u8> {
    // Long arrays first, so the exact values after them also prove the skips landed on the next key.
    let kvs: Vec<_> = long_kvs().into_iter().chain(exact_kvs()).collect();
    Gguf::file(&kvs, &TENSORS)
}

fn write_temp(bytes: &[u8]) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), bytes).unwrap();
    file
}

#[test]
fn reads_back_every_value_type_and_the_summary() {
    let file = write_temp(&sample_file());
    let info = read_metadata(file.path()).unwrap();
    assert_eq!((info.version, info.tensor_count, info.metadata.len()), (3, 2, 27));
    for (key, value) in exact_kvs() {
        assert_eq!(info.get(key), Some(&value), "{key}");
    }
    let summary = ModelSummary {
        architecture: Some("llama".into()),
        name: Some("Tiny Test".into()),
        parameters: 64 * 100 + 64 * 3 * 5,
        quantization: Some("Q4_K_M".into()),
        file_type: Some(15),
        context_length: Some(2048),
        block_count: Some(2),
        head_count: Some(4),
        head_count_kv: Some(2),
        embedding_length: Some(64),
        has_chat_template: true,
    };
    assert_eq!(info.summary, summary);
}

#[test]
fn long_arrays_keep_their_length_and_first_elements() {
    let info = read_from(Cursor::new(sample_file())).unwrap();
    let GgufValue::Array(tokens) = info.get("tokenizer.ggml.tokens").unwrap() else { panic!("not an array") };
    assert_eq!((tokens.elem_type, tokens.len, tokens.head.len()), (ValueType::String, 100, ARRAY_HEAD));
    assert_eq!(tokens.head[15], text("tok15"));
    let GgufValue::Array(scores) = info.get("tokenizer.ggml.scores").unwrap() else { panic!("not an array") };
    assert_eq!((scores.len, scores.head.len(), &scores.head[3]), (1000, ARRAY_HEAD, &GgufValue::F32(3.0)));
    let GgufValue::Array(pairs) = info.get("t.pairs").unwrap() else { panic!("not an array") };
    assert_eq!((pairs.len, pairs.head.len()), (20, ARRAY_HEAD));
}

#[test]
fn typed_getters_accept_any_non_negative_integer() {
    let info = read_from(Cursor::new(sample_file())).unwrap();
    assert_eq!(info.get_u64("llama.attention.head_count"), Some(4));
    assert_eq!(info.get_u64("t.u64"), Some(u64::MAX));
    assert_eq!(info.get_u64("t.i8"), None, "negative");
    assert_eq!(info.get_u64("t.f64"), None, "not an integer");
    assert_eq!(info.get_u64("missing"), None);
    assert_eq!(info.get_str("general.name"), Some("Tiny Test"));
    assert_eq!(info.get_str("t.u8"), None);
}

#[test]
fn summary_and_values_serialize_as_plain_camel_case_json() {
    let info = read_from(Cursor::new(sample_file())).unwrap();
    let json = serde_json::to_value(&info).unwrap();
    assert_eq!(json["summary"]["contextLength"], 2048);
    assert_eq!(json["summary"]["hasChatTemplate"], true);
    assert_eq!(json["metadata"]["t.i8"], -7);
    assert_eq!(json["metadata"]["t.array"], serde_json::json!({"elemType": "i16", "len": 3, "head": [1, -2, 3]}));
}

#[test]
fn every_truncation_is_a_truncated_error() {
    let bytes = sample_file();
    let file = tempfile::NamedTempFile::new().unwrap();
    for cut in 0..bytes.len() {
        std::fs::write(file.path(), &bytes[..cut]).unwrap();
        match read_metadata(file.path()) {
            Err(GgufError::Truncated { .. }) => {}
            other => panic!("cut at {cut} of {}: {other:?}", bytes.len()),
        }
    }
}

#[test]
fn quantization_names_follow_llama_cpp() {
    let names: Vec<_> = [0, 1, 3, 7, 15, 18, 32, 38, 41, 4, 99].into_iter().map(quantization_name).collect();
    assert_eq!(names, ["F32", "F16", "Q4_1", "Q8_0", "Q4_K_M", "Q6_K", "BF16", "MXFP4", "Q2_0", "type 4", "type 99"]);
}

#[test]
fn a_file_without_metadata_has_an_empty_summary() {
    let info = read_from(Cursor::new(Gguf::file(&[], &[]))).unwrap();
    assert_eq!((info.summary.architecture, info.summary.quantization, info.summary.parameters), (None, None, 0));
    assert!(!info.summary.has_chat_template);
}

/// Sizes real files reach, each past where a mistyped cap would refuse them: a long key (the cap is
/// 64 KiB), a 3 MiB embedded `tokenizer.huggingface.json` (kept in memory, so it also counts against the
/// retained-bytes budget) and a 2 Mi element array (read past after its head).
#[test]
fn metadata_as_large_as_real_models_carry_is_read() {
    let long_key = "k".repeat(4096);
    let tokenizer_json = "x".repeat(3 << 20);
    let elements = 2 << 20;
    let mut g = Gguf::header(3, 0, 3);
    g.string(&long_key).u32(8).string("value");
    g.string("tokenizer.huggingface.json").u32(8).string(&tokenizer_json);
    g.string("tokenizer.ggml.token_type").u32(9).u32(0).u64(elements).raw(&vec![1u8; elements as usize]);
    let info = read_from(Cursor::new(g.bytes)).unwrap();
    assert_eq!(info.get(&long_key), Some(&text("value")));
    assert!(matches!(info.get("tokenizer.huggingface.json"), Some(GgufValue::String(s)) if s.len() == 3 << 20));
    let Some(GgufValue::Array(types)) = info.get("tokenizer.ggml.token_type") else { panic!("no array") };
    assert_eq!((types.len, types.head.len()), (elements, ARRAY_HEAD));
}

#[test]
fn signed_integers_count_as_sizes_only_when_not_negative() {
    use GgufValue as V;
    assert_eq!(
        (V::I8(5).as_u64(), V::I16(300).as_u64(), V::I32(7).as_u64(), V::I64(9).as_u64()),
        (Some(5), Some(300), Some(7), Some(9))
    );
    assert_eq!(
        (V::I8(-1).as_u64(), V::I16(-2).as_u64(), V::I32(-3).as_u64(), V::I64(-4).as_u64()),
        (None, None, None, None)
    );
    assert_eq!((V::U8(1).as_u64(), V::F32(1.0).as_u64(), V::Bool(true).as_u64()), (Some(1), None, None));
}
