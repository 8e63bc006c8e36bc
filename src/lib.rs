//! llama-dashboard: one process, one port, the control room for local LLMs served by llama.cpp.

pub mod admin;
pub mod app;
pub mod assets;
pub mod auth;
pub mod backends;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod core;
pub mod cors;
pub mod db;
pub mod error;
pub mod gguf;
pub mod guard;
pub mod http;
pub mod live;
pub mod logs;
pub mod metrics;
pub mod models;
pub mod process;
pub mod proxy;
pub mod pull;
pub mod retention;
pub mod serve;
pub mod settings;
pub mod supervisor;
