//! Configuration: the init-file schema, env and CLI overrides, validation, llama-server argv.

mod argv;
mod backends;
mod env;
mod load;
mod nodes;
mod origin;
mod protect;
mod revision;
mod save;
mod schema;
mod shared;
mod validate;

pub use argv::router_args;
pub use backends::{BackendModel, ModelOrigin, SpawnConfig, is_plain_name};
pub use env::ENV_OVERRIDES;
pub use load::{CliOverrides, ConfigError, ConfigSource, DEFAULT_CONFIG_FILE, LoadedConfig, effective, load};
pub use nodes::NodeConfig;
pub use origin::{Origin, is_host_pattern, split_host_port};
pub use protect::{PROTECTED_KEYS, inside_roots, protected_changes, protection};
pub use revision::{NO_FILE, revision};
pub use save::{Saved, placeholder, restore_redacted_secrets, write_text_with_backup, write_with_backup};
pub use schema::*;
pub use shared::SharedConfig;
pub use validate::{ConfigIssue, LOG_LEVELS, config_from_value, is_loopback, validate};

/// What a redacted secret starts with (`***` plus a per-secret tag); no real secret may.
pub const REDACTED: &str = "***";

#[cfg(test)]
mod tests;
