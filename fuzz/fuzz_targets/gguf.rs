//! Any bytes as a GGUF file: the reader, the JSON of what it read and the memory estimate never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../props.rs"]
mod props;

fuzz_target!(|data: &[u8]| props::check_gguf(data));
