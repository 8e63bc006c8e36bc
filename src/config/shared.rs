//! The effective config, replaceable at run time by `router:init:save`. Readers take a snapshot
//! (an `Arc`, no copy) and never hold the lock across an await.

use super::load::{ConfigSource, LoadedConfig};
use super::schema::Config;
use std::sync::{Arc, RwLock};

#[derive(Clone)]
pub struct SharedConfig(Arc<RwLock<Current>>);

#[derive(Clone)]
struct Current {
    config: Arc<Config>,
    source: ConfigSource,
}

impl SharedConfig {
    pub fn new(loaded: LoadedConfig) -> Self {
        Self(Arc::new(RwLock::new(Current { config: Arc::new(loaded.config), source: loaded.source })))
    }

    pub fn config(&self) -> Arc<Config> {
        self.current().config
    }

    pub fn source(&self) -> ConfigSource {
        self.current().source
    }

    pub fn replace(&self, loaded: LoadedConfig) {
        let next = Current { config: Arc::new(loaded.config), source: loaded.source };
        match self.0.write() {
            Ok(mut guard) => *guard = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
    }

    fn current(&self) -> Current {
        match self.0.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}
