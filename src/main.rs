//! Entry point: parse flags, load config, set up logging, run the app. Only this file picks exit codes:
//! 2 for configuration problems, 1 for runtime failures.

use clap::Parser;
use llama_dashboard::app::{self, Startup};
use llama_dashboard::cli::Cli;
use llama_dashboard::config::{self, ConfigSource, LoadedConfig};
use llama_dashboard::logs::{DbLogLayer, QUEUE};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

fn main() -> ExitCode {
    llama_dashboard::core::arenas::cap();
    let cli = Cli::parse();
    if let Some(llama_dashboard::cli::Command::Pull { repo, hf_file }) = &cli.command {
        return pull(repo, hf_file.clone());
    }
    let t = Instant::now();
    let loaded = match config::load(&cli.overrides(), &|key| std::env::var(key).ok()) {
        Ok(loaded) => loaded,
        Err(err) => {
            eprintln!("llama-dashboard: {err}");
            return ExitCode::from(2);
        }
    };
    if cli.check {
        print_check(&loaded);
        return ExitCode::SUCCESS;
    }
    if let Some(dir) = &cli.import_dir {
        return import_dir(&loaded, dir);
    }
    let (log_tx, log_rx) = tokio::sync::mpsc::channel(QUEUE);
    let log_dropped = Arc::default();
    if let Err(err) = init_tracing(&loaded, DbLogLayer::new(log_tx, Arc::clone(&log_dropped))) {
        eprintln!("llama-dashboard: {err}");
        return ExitCode::from(2);
    }
    log_config_source(&loaded, t);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("llama-dashboard: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let startup = Startup { loaded, cli: cli.overrides(), data_dir: cli.data_dir, log_rx, log_dropped };
    let result = runtime.block_on(async {
        let cancel = CancellationToken::new();
        llama_dashboard::app::shutdown::on_signal(cancel.clone());
        app::run(startup, cancel).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("llama-dashboard: {err}");
            ExitCode::FAILURE
        }
    }
}

fn pull(repo: &str, file: Option<String>) -> ExitCode {
    let request = match llama_dashboard::pull::Request::parse(repo, file) {
        Ok(r) => r,
        Err(err) => {
            eprintln!("llama-dashboard pull: {err}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("llama-dashboard pull: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(llama_dashboard::pull::run(request)) {
        Ok(path) => {
            println!("{}", path.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("llama-dashboard pull: {err}");
            ExitCode::FAILURE
        }
    }
}

/// `--import-dir`: adds the directory's models to the init file in use (or a new ./llama-router.init.json).
fn import_dir(loaded: &LoadedConfig, dir: &std::path::Path) -> ExitCode {
    use llama_dashboard::backends::{discovery, persist};
    if !dir.is_dir() {
        eprintln!("llama-dashboard: --import-dir {}: not a directory", dir.display());
        return ExitCode::from(2);
    }
    let found = match discovery::found_in(dir, config::ModelOrigin::Manual) {
        Ok(found) => found,
        Err(err) => {
            eprintln!("llama-dashboard: cannot read {}: {err}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    let mut models = loaded.config.backends.models.clone();
    let added = discovery::merge_imported(&mut models, found);
    let path = match &loaded.source {
        ConfigSource::File(p) => p.clone(),
        ConfigSource::Defaults => std::path::PathBuf::from(config::DEFAULT_CONFIG_FILE),
    };
    match persist::write_models(&path, &models) {
        Ok(saved) => {
            println!("imported {} model(s) from {} into {}", added.len(), dir.display(), saved.path.display());
            for name in &added {
                println!("  + {name}");
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("llama-dashboard: cannot write {}: {err}", path.display());
            ExitCode::FAILURE
        }
    }
}

fn print_check(loaded: &LoadedConfig) {
    match &loaded.source {
        ConfigSource::File(p) => println!("configuration OK: {}", p.display()),
        ConfigSource::Defaults => println!("configuration OK: built-in defaults (no init file)"),
    }
    println!("llama-server {}", config::router_args(&loaded.config).join(" "));
}

/// Crates that print whole frames or headers (a Socket.IO handshake's `auth: {token}`, a `Bearer` key) at
/// trace level: their trace events are never logged, whatever `RUST_LOG` asks, so that no secret reaches a log.
const FRAME_LOGGING_CRATES: [&str; 8] =
    ["tungstenite", "tokio_tungstenite", "engineioxide", "socketioxide", "hyper", "hyper_util", "h2", "reqwest"];

/// A cap, not a level: the filter's own directives still decide, so these crates stay at `warn` by default
/// (a `hyper_util=debug` directive instead would log a line per proxied request).
fn frame_trace(meta: &tracing::Metadata<'_>) -> bool {
    let crate_name = meta.target().split("::").next().unwrap_or_default();
    *meta.level() == tracing::Level::TRACE && FRAME_LOGGING_CRATES.contains(&crate_name)
}

/// Console always; SQLite and `logs:entry` through the DB layer; `logging.logFile` when set.
/// A non-empty `RUST_LOG` overrides `logging.level`.
fn init_tracing(loaded: &LoadedConfig, db_layer: DbLogLayer) -> Result<(), String> {
    let level = &loaded.config.logging.level;
    let directives = std::env::var("RUST_LOG").ok().filter(|v| !v.trim().is_empty());
    let filter = directives
        .and_then(|d| EnvFilter::try_new(d).ok())
        .unwrap_or_else(|| EnvFilter::new(format!("llama_dashboard={level},warn")));
    let file_layer = match &loaded.config.logging.log_file {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("logging.logFile: cannot open {path}: {e}"))?;
            Some(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(std::sync::Mutex::new(file)))
        }
        None => None,
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::filter::filter_fn(|meta| !frame_trace(meta)))
        .with(tracing_subscriber::fmt::layer().with_ansi(std::io::stderr().is_terminal()).with_writer(std::io::stderr))
        .with(file_layer)
        .with(db_layer)
        .try_init()
        .map_err(|e| format!("cannot set up logging: {e}"))
}

fn log_config_source(loaded: &LoadedConfig, t: Instant) {
    let elapsed_ms = t.elapsed().as_millis() as u64;
    match &loaded.source {
        ConfigSource::File(p) => {
            tracing::info!(path = %p.display(), elapsed_ms, "configuration loaded")
        }
        ConfigSource::Defaults => tracing::warn!(
            elapsed_ms,
            "no {} in the working directory and no --config: running on built-in defaults",
            config::DEFAULT_CONFIG_FILE
        ),
    }
}
