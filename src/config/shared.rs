//! The effective config, replaceable at run time by `router:init:save`. Readers take a snapshot
//! (an `Arc`, no copy) and never hold the lock across an await. Writers of the config files take
//! [`SharedConfig::lock_writes`] for their whole read-modify-write-replace, one at a time.

use super::load::{CliOverrides, ConfigSource, LoadedConfig};
use super::schema::Config;
use std::sync::{Arc, RwLock};

#[derive(Clone)]
pub struct SharedConfig {
    current: Arc<RwLock<Current>>,
    writes: Arc<tokio::sync::Mutex<()>>,
    /// The command line, re-applied whenever a saved init file is loaded again.
    cli: Arc<CliOverrides>,
}

#[derive(Clone)]
struct Current {
    config: Arc<Config>,
    source: ConfigSource,
}

impl SharedConfig {
    pub fn new(loaded: LoadedConfig, cli: CliOverrides) -> Self {
        let current = Current { config: Arc::new(loaded.config), source: loaded.source };
        Self { current: Arc::new(RwLock::new(current)), writes: Arc::default(), cli: Arc::new(cli) }
    }

    pub fn cli(&self) -> &CliOverrides {
        &self.cli
    }

    /// Held by whoever reads, changes and writes the init file or the presets file, until the new config
    /// is in place: a save, discovery, `models:update` and `models:import` never lose each other's change.
    pub async fn lock_writes(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.writes.lock().await
    }

    pub fn config(&self) -> Arc<Config> {
        self.current().config
    }

    pub fn source(&self) -> ConfigSource {
        self.current().source
    }

    pub fn replace(&self, loaded: LoadedConfig) {
        let next = Current { config: Arc::new(loaded.config), source: loaded.source };
        match self.current.write() {
            Ok(mut guard) => *guard = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
    }

    fn current(&self) -> Current {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}
