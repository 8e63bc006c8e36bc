//! The checks the two fuzz targets run on each input, shared with `tests/fuzz_corpus.rs`, which replays
//! the committed corpora through them under a plain `cargo test`. A broken property panics: libFuzzer
//! reports it as a crash, the test as a failure.
// Each fuzz target uses one of the two checks.
#![allow(dead_code)]

use llama_dashboard::backends::memory;
use llama_dashboard::config::{config_from_value, router_args, validate};
use llama_dashboard::gguf::{GgufError, read_from};
use serde_json::Value;
use std::io::Cursor;

/// Bytes as a whole GGUF file. The reader gives `Ok` or an error, never a panic; an error has a message;
/// what it read serializes to JSON and stays within the plausibility limits; the memory estimate, for
/// the model's own context and for a `-c` taken from the input's last bytes, gives `Ok` or `Err` and
/// never a panic or a wrapped total.
pub fn check_gguf(data: &[u8]) {
    let info = match read_from(Cursor::new(data)) {
        Ok(info) => info,
        Err(err) => {
            assert!(!err.to_string().is_empty(), "an error without a message: {err:?}");
            if let GgufError::Implausible { value, limit, .. } = err {
                assert!(value > limit, "refused {value}, within its limit {limit}");
            }
            return;
        }
    };
    let json = serde_json::to_value(&info).expect("GgufInfo serializes to JSON");
    assert!(json.get("summary").is_some_and(Value::is_object), "no summary in {json}");
    let s = &info.summary;
    assert!(s.context_length.is_none_or(|v| v <= u64::from(u32::MAX)), "context_length {:?}", s.context_length);
    assert!(s.block_count.is_none_or(|v| v <= 4096), "block_count {:?}", s.block_count);
    assert!(s.embedding_length.is_none_or(|v| v <= 1 << 20), "embedding_length {:?}", s.embedding_length);

    let len = data.len() as u64;
    let tail = |n: usize| {
        let mut bytes = [0u8; 8];
        let start = data.len().saturating_sub(n);
        bytes[..data.len() - start].copy_from_slice(&data[start..]);
        u64::from_le_bytes(bytes)
    };
    let context = tail(8);
    let small_context = tail(3);
    let arguments: [Vec<String>; 5] = [
        vec![],
        argv(&["llama-server", "-c", &context.to_string()]),
        argv(&["llama-server", "--ctx-size", &small_context.to_string(), "-ngl", "99"]),
        argv(&["llama-server", "-c", "0"]),
        argv(&["llama-server", "-c"]),
    ];
    for args in &arguments {
        for file_bytes in [len, context, u64::MAX] {
            if let Ok(need) = memory::estimate(s, file_bytes, args) {
                assert_eq!(need.weights_bytes, file_bytes);
                assert!(need.total_bytes >= need.weights_bytes, "{need:?}");
                assert!(need.total_bytes >= need.kv_cache_bytes, "{need:?}");
                assert!(need.context > 0 || s.context_length == Some(0), "context 0 for {args:?}: {need:?}");
            }
        }
    }
}

fn argv(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Bytes as an init file (input that is not JSON is skipped: the JSON parser is serde_json's, not ours).
pub fn check_config(data: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        check_config_value(&value);
    }
}

/// Parsing and validation give a config or a non-empty list of issues, never a panic. A config that
/// parsed passes `validate`, gives a router argv and a redacted copy without its secrets, and comes
/// back equal through its own JSON (what a save writes is what the next start reads).
pub fn check_config_value(value: &Value) {
    let config = match config_from_value(value) {
        Ok(config) => config,
        Err(issues) => {
            assert!(!issues.is_empty(), "Err without issues for {value}");
            // The path may be empty: an unknown key `""` is reported at its own name.
            for issue in &issues {
                assert!(!issue.message.is_empty(), "an issue without a message: {issue:?}");
            }
            return;
        }
    };
    let issues = validate(&config);
    assert!(issues.is_empty(), "accepted, yet validate finds {issues:?} in {value}");

    let args = router_args(&config);
    assert_eq!(args.first().map(String::as_str), Some("--models-dir"), "{args:?}");
    assert!(args.windows(2).any(|w| w[0] == "--port" && w[1] == config.router.port.to_string()), "{args:?}");

    // Each secret shows as its placeholder: `***`, maybe followed by a tag, never the secret itself.
    let hidden = |shown: &Value, secret: &str| shown.as_str().is_some_and(|s| s.starts_with("***") && s != secret);
    let redacted = config.redacted();
    let security = &redacted["security"];
    match &config.security.admin_token {
        Some(token) => assert!(hidden(&security["adminToken"], token), "admin token not redacted: {redacted}"),
        None => assert!(security["adminToken"].is_null(), "{redacted}"),
    }
    let keys = security["apiKeys"].as_array().expect("apiKeys is an array");
    assert_eq!(keys.len(), config.security.api_keys.len());
    for (shown, key) in keys.iter().zip(&config.security.api_keys) {
        assert!(hidden(shown, key), "API key not redacted: {redacted}");
    }

    let json = serde_json::to_value(&config).expect("Config serializes to JSON");
    match config_from_value(&json) {
        Ok(again) => assert_eq!(again, config, "the config changed through its own JSON\ninput: {value}\njson: {json}"),
        Err(issues) => panic!("the config's own JSON is refused: {issues:?}\ninput: {value}\njson: {json}"),
    }
}
