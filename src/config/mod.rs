//! Configuration: the init-file schema, env and CLI overrides, validation, llama-server argv.

mod argv;
mod env;
mod load;
mod schema;
mod validate;

pub use argv::router_args;
pub use env::ENV_OVERRIDES;
pub use load::{CliOverrides, ConfigError, ConfigSource, DEFAULT_CONFIG_FILE, LoadedConfig, load};
pub use schema::*;
pub use validate::{ConfigIssue, LOG_LEVELS, config_from_value, validate};

#[cfg(test)]
mod tests;
