//! The demo model, SmolLM2-135M-Instruct Q4_1, checked against what llama.cpp reports for it
//! when it loads this file (`n_ctx_train = 8192`, `n_layer = 30`, `n_embd = 576`, `n_head = 9`,
//! `n_head_kv = 3`, `model params = 134.52 M`, 33 key-value pairs, 272 tensors).
//! Set `LLAMA_DASHBOARD_TEST_GGUF` to its path (`scripts/test.sh` does), or put it in `models/`. A path that is
//! set but missing fails, and so does a missing file under `CI`: only a developer's bare `cargo test` skips.
//! How fast the reader is lives in `examples/gguf_bench.rs`, not here.

use super::super::*;
use std::path::PathBuf;

const ENV: &str = "LLAMA_DASHBOARD_TEST_GGUF";

fn demo_model() -> Option<PathBuf> {
    let configured = std::env::var_os(ENV).filter(|p| !p.is_empty());
    let path = match &configured {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/SmolLM2-135M-Instruct.Q4_1.gguf"),
    };
    if path.is_file() {
        return Some(path);
    }
    assert!(configured.is_none(), "{ENV} names {}, which is not a file", path.display());
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but the demo model is missing at {}; set {ENV}",
        path.display()
    );
    eprintln!("note: {} not found; skipping the real-model GGUF test (set {ENV})", path.display());
    None
}

#[test]
fn reads_the_demo_model_like_llama_cpp() {
    let Some(path) = demo_model() else { return };
    let info = read_metadata(&path).unwrap();
    let s = &info.summary;
    // llama.cpp: "loaded meta data with 33 key-value pairs and 272 tensors", "model params = 134.52 M".
    assert_eq!((info.version, info.metadata.len(), info.tensor_count), (3, 33, 272));
    assert_eq!(s.parameters, 134_515_008);
    assert_eq!(s.architecture.as_deref(), Some("llama"));
    assert_eq!(s.quantization.as_deref(), Some("Q4_1"));
    assert_eq!(
        (s.context_length, s.block_count, s.embedding_length, s.head_count, s.head_count_kv),
        (Some(8192), Some(30), Some(576), Some(9), Some(3))
    );
    assert!(s.has_chat_template);
    let GgufValue::Array(tokens) = info.get("tokenizer.ggml.tokens").unwrap() else { panic!("no vocabulary") };
    assert_eq!((tokens.len, tokens.head.len()), (49_152, ARRAY_HEAD));
}
