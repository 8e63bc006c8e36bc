//! Any bytes as an init file: parsing, validation, the router argv and redaction never panic, and a
//! config that parsed gives itself back through its own JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../props.rs"]
mod props;

fuzz_target!(|data: &[u8]| props::check_config(data));
