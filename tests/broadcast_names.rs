//! `LiveEvent::NAMES` is the one list of broadcasts: the docs' "Broadcasts" table and the browser
//! client's `BROADCAST_EVENTS` must name exactly the same events, in the same order.

// Fixtures and helpers assert by unwrapping too (clippy allows it in #[test] fns only).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use llama_dashboard::core::bus::LiveEvent;
use std::path::Path;

fn read(relative: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)).unwrap()
}

/// The first column of the table under `## Broadcasts`.
fn documented() -> Vec<String> {
    let doc = read("docs/socket-events.md");
    let section = doc.split("## Broadcasts").nth(1).expect("a Broadcasts section");
    let section = section.split("\n## ").next().unwrap_or(section);
    section
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_string)
        .collect()
}

/// The strings of `export const BROADCAST_EVENTS = [...]`.
fn in_the_browser_client() -> Vec<String> {
    let js = read("web/js/core/socket.js");
    let list = js.split("BROADCAST_EVENTS = [").nth(1).and_then(|rest| rest.split(']').next()).expect("the list");
    list.split('"').skip(1).step_by(2).map(str::to_string).collect()
}

#[test]
fn the_docs_list_every_broadcast_in_order() {
    assert_eq!(documented(), LiveEvent::NAMES);
}

#[test]
fn the_browser_client_listens_for_every_broadcast() {
    assert_eq!(in_the_browser_client(), LiveEvent::NAMES);
}
