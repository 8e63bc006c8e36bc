//! The kinds of model we serve. Everything that differs between them is a `match` on this enum inside
//! `models/`; nothing outside this folder asks which kind a model is.

use serde::Serialize;

/// Serialized as the Model's `source` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Served by llama.cpp's own router (`--models-dir` / `--models-preset`), which spawns its children.
    Router,
    /// One of `backends.models`: a llama-server we start, group, evict and stop ourselves.
    Backend,
}
