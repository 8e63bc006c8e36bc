//! Stored metric samples.

use super::{Db, DbError};
use rusqlite::params;
use serde_json::Value;

/// The columns kept beside the JSON sample for range queries.
pub struct SampleRow {
    pub ts: i64,
    pub cpu_percent: f64,
    pub mem_percent: f64,
    pub rss_bytes: i64,
    pub sample: Value,
}

impl Db {
    pub async fn insert_sample(&self, row: SampleRow) -> Result<(), DbError> {
        self.call(move |c| {
            c.execute(
                "INSERT INTO metrics (ts, cpu_percent, mem_percent, rss_bytes, sample_json) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![row.ts, row.cpu_percent, row.mem_percent, row.rss_bytes, row.sample.to_string()],
            )?;
            Ok(())
        })
        .await
    }

    /// The newest `limit` samples in `[since, until]`, returned oldest first.
    pub async fn sample_history(&self, since: i64, until: i64, limit: i64) -> Result<Vec<Value>, DbError> {
        self.call(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT sample_json FROM (SELECT ts, sample_json FROM metrics WHERE ts >= ?1 AND ts <= ?2
                 ORDER BY ts DESC LIMIT ?3) ORDER BY ts ASC",
            )?;
            let rows = stmt.query_map(params![since, until, limit], |r| r.get::<_, String>(0))?;
            let mut out = Vec::new();
            for json in rows {
                out.push(serde_json::from_str(&json?)?);
            }
            Ok(out)
        })
        .await
    }

    pub async fn latest_sample(&self) -> Result<Option<Value>, DbError> {
        let mut rows = self.sample_history(0, i64::MAX, 1).await?;
        Ok(rows.pop())
    }

    /// Deletes samples older than `before_ts`; returns how many went.
    pub async fn prune_samples(&self, before_ts: i64) -> Result<usize, DbError> {
        self.call(move |c| Ok(c.execute("DELETE FROM metrics WHERE ts < ?1", [before_ts])?)).await
    }
}
