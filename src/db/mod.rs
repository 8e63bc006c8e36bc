//! SQLite: one r2d2 pool over a WAL database in the data dir. Every call runs on the blocking pool.

mod events;
mod logs;
mod metrics;
mod migrate;
mod model_settings;
mod models;
mod requests;
mod settings;

pub use events::{ModelEvent, NewModelEvent};
pub use logs::{LEVELS as LOG_LEVELS, LogQuery, LogRow, NewLog, level_number};
pub use metrics::SampleRow;
pub use migrate::{MIGRATIONS, schema_version};
pub use models::ModelRow;
pub use requests::{ModelTotals, NewRequest, RequestBucket, RequestQuery, RequestRow, SORTABLE as REQUEST_SORT_KEYS};

use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use std::path::{Path, PathBuf};
use thiserror::Error;

pub const DB_FILE: &str = "llama-dashboard.db";

#[derive(Debug, Error)]
pub enum DbError {
    #[error("cannot create data dir {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored JSON is unreadable: {0}")]
    Json(#[from] serde_json::Error),
    #[error("database schema version {found} is newer than this binary knows ({known}); upgrade llama-dashboard")]
    TooNew { found: i64, known: i64 },
    #[error("database task failed: {0}")]
    Join(String),
}

/// Cheap to clone; all access goes through [`Db::call`].
#[derive(Clone)]
pub struct Db {
    pool: Pool<SqliteConnectionManager>,
    path: PathBuf,
}

/// Per-connection settings. WAL is a property of the file, set once in [`Db::open`] before the pool
/// exists: pooled connections opening in parallel would otherwise race to switch it ("database is locked").
/// The page cache is 512 KiB per connection (SQLite's default is 2 MiB): with the pool's 4 connections the
/// caches would otherwise grow the process by up to 8 MiB as the tables grow, which the malformed-input storm
/// saw as RSS that did not come back (docs/reliability.md); the hot pages of our tables fit in 512 KiB.
const PRAGMAS: &str = "PRAGMA busy_timeout = 5000;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
PRAGMA cache_size = -512;";

impl Db {
    /// Opens (creating if needed) `<data_dir>/llama-dashboard.db` and applies pending migrations.
    pub fn open(data_dir: &Path) -> Result<Self, DbError> {
        std::fs::create_dir_all(data_dir).map_err(|source| DbError::DataDir { path: data_dir.into(), source })?;
        let path = data_dir.join(DB_FILE);
        let mut first = rusqlite::Connection::open(&path)?;
        first.execute_batch(PRAGMAS)?;
        first.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))?;
        migrate::run(&mut first)?;
        drop(first);
        let manager = SqliteConnectionManager::file(&path).with_init(|c| {
            c.execute_batch(PRAGMAS)?;
            // Every transaction takes the write lock up front (IMMEDIATE): a deferred one that reads first
            // fails at once ("database is locked") when another write lands before its first write.
            c.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
            Ok(())
        });
        let pool = Pool::builder().max_size(4).build(manager)?;
        Ok(Self { pool, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` with a pooled connection on tokio's blocking pool.
    pub async fn call<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection) -> Result<T, DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || f(&mut *pool.get()?)).await.map_err(|e| DbError::Join(e.to_string()))?
    }
}

pub use crate::core::clock::now_ms;
