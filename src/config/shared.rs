//! The effective config, replaceable at run time by `router:init:save`. Readers take a snapshot
//! (`Arc`) and never hold the lock across an await.

use super::load::LoadedConfig;
use std::sync::{Arc, RwLock};

#[derive(Clone)]
pub struct SharedConfig(Arc<RwLock<Arc<LoadedConfig>>>);

impl SharedConfig {
    pub fn new(loaded: LoadedConfig) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(loaded))))
    }

    pub fn get(&self) -> Arc<LoadedConfig> {
        match self.0.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn replace(&self, loaded: LoadedConfig) {
        let next = Arc::new(loaded);
        match self.0.write() {
            Ok(mut guard) => *guard = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
    }
}
