//! Replays the committed fuzz corpora (`fuzz/corpus/gguf`, `fuzz/corpus/config`) through the checks the
//! fuzz targets run (`fuzz/props.rs`), so every `cargo test` re-checks them without cargo-fuzz or nightly.
//! A check that panics fails the test and names the file.

// The fuzz checks assert by panicking, `expect` included (clippy allows it in #[test] fns only).
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "../fuzz/props.rs"]
mod props;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Fewest files each corpus must hold: an empty or misplaced corpus must not pass silently.
const MIN_FILES: usize = 5;

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(files.len() >= MIN_FILES, "{} holds {} files, expected at least {MIN_FILES}", dir.display(), files.len());
    files
}

/// Runs `check` on every file of the corpus and fails listing each file whose check panicked.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let files = corpus(target);
    let failed: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            catch_unwind(AssertUnwindSafe(|| check(&bytes))).err().map(|_| path.display().to_string())
        })
        .collect();
    assert!(failed.is_empty(), "{} of {} {target} inputs fail their checks: {failed:#?}", failed.len(), files.len());
    files.len()
}

#[test]
fn every_gguf_corpus_file_passes_the_fuzz_checks() {
    replay("gguf", props::check_gguf);
}

#[test]
fn every_config_corpus_file_passes_the_fuzz_checks() {
    replay("config", props::check_config);
}

/// The replay can fail: a check that panics on one input is reported, not swallowed.
#[test]
fn a_panicking_check_fails_the_replay() {
    let result = catch_unwind(|| replay("config", |bytes| assert!(bytes.is_empty(), "non-empty input")));
    assert!(result.is_err());
}

/// The corpora hold inputs that exercise the interesting paths, not only rejects: some GGUF seeds read
/// and some init files parse, and some of each are refused.
#[test]
fn the_corpora_hold_both_accepted_and_refused_inputs() {
    let gguf: Vec<bool> = corpus("gguf")
        .iter()
        .map(|p| llama_dashboard::gguf::read_from(std::io::Cursor::new(std::fs::read(p).unwrap())).is_ok())
        .collect();
    assert!(gguf.iter().any(|ok| *ok) && gguf.iter().any(|ok| !ok), "gguf corpus: {gguf:?}");
    let config: Vec<bool> = corpus("config")
        .iter()
        .map(|p| {
            let value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap_or(serde_json::Value::Null);
            llama_dashboard::config::config_from_value(&value).is_ok()
        })
        .collect();
    assert!(config.iter().any(|ok| *ok) && config.iter().any(|ok| !ok), "config corpus: {config:?}");
}
