//! Layers point down: each module may import only the modules of its own layer or the layers below it,
//! and nothing below the edges sees the web stack (axum, socketioxide, hyper, tower) or the edges'
//! error type (one file excepted: `process/loopback.rs`, an HTTP client on hyper's client). The one arrow up allowed: the edges take `crate::app::AppState` (handles only), as
//! handlers do. Checked from the sources, so an arrow that points up fails the build's tests.

// Fixtures and helpers assert by unwrapping too (clippy allows it in #[test] fns only).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Top-level modules by layer, lowest first. `app` (and `main`) may import everything.
const LAYERS: [(&str, &[&str]); 6] = [
    ("core", &["core"]),
    ("leaves", &["config", "gguf", "catalog", "cli"]),
    ("storage", &["db"]),
    (
        "services",
        &["process", "supervisor", "backends", "models", "metrics", "logs", "settings", "retention", "pull", "nodes"],
    ),
    (
        "edges",
        &["error", "live", "proxy", "clients", "admin", "http", "assets", "guard", "cors", "auth", "serve", "unrouted"],
    ),
    ("root", &["app", "main", "lib"]),
];

/// Crates only the edges and the root may use.
const WEB_STACK: [&str; 5] = ["axum::", "socketioxide::", "hyper::", "hyper_util::", "tower"];

/// The one HTTP client below the edges built on hyper's client (as reqwest is) rather than reqwest: the
/// services' plain HTTP to the llama-servers we start. It may use hyper and hyper_util, nothing else of the web stack.
const HYPER_CLIENT: (&str, [&str; 2]) = ("process/loopback.rs", ["hyper::", "hyper_util::"]);

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, modules)| modules.contains(&module))
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/models/router/mod.rs` -> `models`; `src/app.rs` -> `app`.
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::<module>` a line of code names (comments skipped).
fn crate_imports(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in code.lines().map(str::trim_start).filter(|l| !l.starts_with("//")) {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            found.push(name);
        }
    }
    found
}

fn violations() -> BTreeMap<String, Vec<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in files {
        let module = module_of(&src, &file);
        let Some(own) = layer_of(&module) else {
            found.entry(module.clone()).or_default().push("is in no layer of tests/architecture.rs".into());
            continue;
        };
        let code = std::fs::read_to_string(&file).unwrap();
        let name = file.strip_prefix(&src).unwrap().display().to_string();
        let is_edge = LAYERS[own].0 == "edges";
        let state_only = code.matches("crate::app::").count() == code.matches("crate::app::AppState").count();
        for import in crate_imports(&code) {
            if is_edge && import == "app" && state_only {
                continue;
            }
            match layer_of(&import) {
                Some(target) if target > own => found
                    .entry(name.clone())
                    .or_default()
                    .push(format!("imports crate::{import} ({})", LAYERS[target].0)),
                None => found.entry(name.clone()).or_default().push(format!("imports crate::{import}, in no layer")),
                _ => {}
            }
        }
        let below_edges = own < layer_of("error").unwrap();
        let client_crates: &[&str] = if name == HYPER_CLIENT.0 { &HYPER_CLIENT.1 } else { &[] };
        for web in WEB_STACK.iter().filter(|w| below_edges && code.contains(*w) && !client_crates.contains(w)) {
            found.entry(name.clone()).or_default().push(format!("uses {web} below the edges"));
        }
    }
    found
}

#[test]
fn every_import_points_down_or_sideways() {
    let found = violations();
    assert!(found.is_empty(), "arrows that point up:\n{found:#?}");
}

#[test]
fn the_check_sees_an_arrow_that_points_up() {
    assert_eq!(crate_imports("use crate::app::AppState; // crate::live"), ["app", "live"]);
    assert_eq!(crate_imports("// crate::app is mentioned in a comment"), Vec::<String>::new());
    let (models, app) = (layer_of("models").unwrap(), layer_of("app").unwrap());
    assert!(models < app && layer_of("core") < layer_of("db"));
}
