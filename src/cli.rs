//! Command-line flags. Each also reads an environment variable; both beat the init file.

use crate::config::CliOverrides;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "llama-dashboard", version, about = "One-port control room for local LLMs served by llama.cpp")]
pub struct Cli {
    /// Init file (JSON). Default: ./llama-router.init.json when present, else built-in defaults.
    #[arg(long, env = "LLAMA_DASHBOARD_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Address to listen on (overrides server.host).
    #[arg(long, env = "LLAMA_DASHBOARD_HOST")]
    pub host: Option<String>,

    /// Port to listen on; 0 picks a free one (overrides server.port).
    #[arg(long, env = "LLAMA_DASHBOARD_PORT")]
    pub port: Option<u16>,

    /// Where the SQLite database lives.
    #[arg(long, env = "LLAMA_DASHBOARD_DATA_DIR", value_name = "DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Validate the effective configuration, print the llama-server command line, and exit.
    #[arg(long)]
    pub check: bool,

    /// Add every GGUF under DIR (recursively; `mmproj*` files paired with their models) to
    /// `backends.models` as `manual` models, save the init file (with a .json.bak backup), and exit.
    #[arg(long, value_name = "DIR")]
    pub import_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Download a GGUF from Hugging Face into its cache (HF_TOKEN, HF_ENDPOINT honoured; resumes),
    /// where it is listed as a backend model.
    Pull {
        /// `user/repo` or `user/repo:QUANT` (e.g. bartowski/Qwen3-8B-GGUF:Q4_K_M).
        repo: String,
        /// The exact file to fetch instead of choosing by quant.
        #[arg(long = "hf-file", value_name = "NAME")]
        hf_file: Option<String>,
    },
}

impl Cli {
    pub fn overrides(&self) -> CliOverrides {
        CliOverrides { config: self.config.clone(), host: self.host.clone(), port: self.port }
    }
}
