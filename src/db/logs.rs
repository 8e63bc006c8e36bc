//! Stored log lines. Levels are stored as numbers (error=1 .. trace=5) so "at least warn" is `level <= 2`.

use super::{Db, DbError};
use rusqlite::{params_from_iter, types::Value as SqlValue};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogRow {
    pub id: i64,
    pub timestamp: i64,
    pub level: &'static str,
    pub source: String,
    pub model: Option<String>,
    pub message: String,
}

/// A line not yet stored.
#[derive(Debug, Clone)]
pub struct NewLog {
    pub timestamp: i64,
    pub level: &'static str,
    pub source: String,
    pub model: Option<String>,
    pub message: String,
}

/// Filters for `logs:get`; `max_level` keeps lines at least that severe.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    pub limit: i64,
    pub max_level: Option<i64>,
    pub source: Option<String>,
    pub model: Option<String>,
    pub before: Option<i64>,
    pub search: Option<String>,
}

pub const LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];

pub fn level_number(level: &str) -> Option<i64> {
    LEVELS.iter().position(|l| *l == level).map(|i| i as i64 + 1)
}

fn level_name(n: i64) -> &'static str {
    LEVELS.get((n - 1).clamp(0, 4) as usize).copied().unwrap_or("info")
}

impl Db {
    /// Stores a batch in one transaction and returns the rows with their ids.
    pub async fn insert_logs(&self, batch: Vec<NewLog>) -> Result<Vec<LogRow>, DbError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let mut rows = Vec::with_capacity(batch.len());
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO logs (ts, level, source, model, message) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for l in batch {
                    let level = level_number(l.level).unwrap_or(3);
                    stmt.execute(rusqlite::params![l.timestamp, level, l.source, l.model, l.message])?;
                    let id = tx.last_insert_rowid();
                    rows.push(LogRow {
                        id,
                        timestamp: l.timestamp,
                        level: l.level,
                        source: l.source,
                        model: l.model,
                        message: l.message,
                    });
                }
            }
            tx.commit()?;
            Ok(rows)
        })
        .await
    }

    /// Newest first; `has_more` tells whether older matching lines exist.
    pub async fn query_logs(&self, q: LogQuery) -> Result<(Vec<LogRow>, bool), DbError> {
        self.call(move |c| {
            let mut sql = String::from("SELECT id, ts, level, source, model, message FROM logs WHERE 1=1");
            let mut args: Vec<SqlValue> = Vec::new();
            let mut add = |clause: &str, v: SqlValue| {
                sql.push_str(clause);
                args.push(v);
            };
            if let Some(l) = q.max_level {
                add(" AND level <= ?", SqlValue::Integer(l))
            }
            if let Some(s) = q.source {
                add(" AND source = ?", SqlValue::Text(s))
            }
            if let Some(m) = q.model {
                add(" AND model = ?", SqlValue::Text(m))
            }
            if let Some(b) = q.before {
                add(" AND id < ?", SqlValue::Integer(b))
            }
            if let Some(s) = q.search {
                add(" AND instr(lower(message), lower(?)) > 0", SqlValue::Text(s))
            }
            sql.push_str(" ORDER BY id DESC LIMIT ?");
            args.push(SqlValue::Integer(q.limit + 1));
            let mut stmt = c.prepare(&sql)?;
            let mapped = stmt.query_map(params_from_iter(args), |r| {
                Ok(LogRow {
                    id: r.get(0)?,
                    timestamp: r.get(1)?,
                    level: level_name(r.get(2)?),
                    source: r.get(3)?,
                    model: r.get(4)?,
                    message: r.get(5)?,
                })
            })?;
            let mut rows = mapped.collect::<Result<Vec<_>, _>>()?;
            let has_more = rows.len() as i64 > q.limit;
            rows.truncate(q.limit as usize);
            Ok((rows, has_more))
        })
        .await
    }

    /// Keeps at most `max_rows` lines and none older than `before_ts`.
    pub async fn prune_logs(&self, max_rows: i64, before_ts: i64) -> Result<usize, DbError> {
        self.call(move |c| {
            let by_age = c.execute("DELETE FROM logs WHERE ts < ?1", [before_ts])?;
            let by_count = c.execute("DELETE FROM logs WHERE id <= (SELECT max(id) FROM logs) - ?1", [max_rows])?;
            Ok(by_age + by_count)
        })
        .await
    }
}
