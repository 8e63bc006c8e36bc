//! One row per proxied `/v1` request: the Requests page, `requests:list` and `requests:stats`.

use super::{Db, DbError};
use rusqlite::{Row, params_from_iter, types::Value as SqlValue};
use serde::Serialize;

/// A finished request, not yet stored.
#[derive(Debug, Clone, Default)]
pub struct NewRequest {
    pub created_at: i64,
    pub model: Option<String>,
    pub endpoint: String,
    pub status_code: u16,
    pub stream: bool,
    /// `ok`, `error` (upstream or proxy failure), `rejected` (refused before reaching a model), `cancelled`.
    pub outcome: &'static str,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub ttft_ms: Option<f64>,
    pub total_ms: f64,
    pub queue_ms: f64,
    pub tokens_per_second: Option<f64>,
    pub error: Option<String>,
    pub client: Option<String>,
    /// Whether `model` names a served model (not just what the client asked for); not stored.
    pub resolved: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RequestRow {
    pub id: i64,
    pub timestamp: i64,
    pub model: Option<String>,
    pub endpoint: String,
    pub status_code: Option<i64>,
    pub stream: bool,
    pub outcome: String,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub ttft_ms: Option<f64>,
    pub total_ms: Option<f64>,
    pub queue_ms: Option<f64>,
    pub tokens_per_second: Option<f64>,
    pub error: Option<String>,
    pub client: Option<String>,
    /// The API the request came in through, told by its endpoint (see [`api_of`]); not stored.
    pub api: &'static str,
    /// The node that served it, told by its model (`node/model`; see [`node_of`]); not stored.
    pub node: Option<String>,
}

/// The node of a request served by one: its model is `node/model` (ids of this server have no `/`).
pub fn node_of(model: Option<&str>) -> Option<String> {
    model.and_then(|m| m.split_once('/')).map(|(node, _)| node.to_string())
}

/// The API a request came in through: `ollama` (`/api/*`), `anthropic` (`/v1/messages`), else `openai`
/// (chat, completions, embeddings, responses). [`API_SQL`] says the same in SQL.
pub fn api_of(endpoint: &str) -> &'static str {
    if endpoint.starts_with("/api/") {
        "ollama"
    } else if endpoint.starts_with("/v1/messages") {
        "anthropic"
    } else {
        "openai"
    }
}

const API_SQL: &str = "CASE WHEN endpoint LIKE '/api/%' THEN 'ollama' WHEN endpoint LIKE '/v1/messages%' THEN 'anthropic' ELSE 'openai' END";

/// One API's requests over a range (`requests:history`' `byApi`).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApiTotal {
    pub api: String,
    pub requests: i64,
    pub errors: i64,
}

/// Filters for `requests:list`; `sort` is a column name checked against [`SORTABLE`].
#[derive(Debug, Clone, Default)]
pub struct RequestQuery {
    pub model: Option<String>,
    pub outcome: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub sort: Option<String>,
    pub ascending: bool,
    pub limit: i64,
    pub offset: i64,
}

/// API sort keys and their columns.
pub const SORTABLE: [(&str, &str); 6] = [
    ("timestamp", "created_at"),
    ("totalMs", "total_ms"),
    ("ttftMs", "ttft_ms"),
    ("tokensPerSecond", "tokens_per_second"),
    ("completionTokens", "completion_tokens"),
    ("promptTokens", "prompt_tokens"),
];

/// Aggregates for one model over a time window; `errors` counts failed and refused requests, not the ones
/// their clients cancelled.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ModelTotals {
    pub model: Option<String>,
    pub requests: i64,
    pub errors: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub avg_ttft_ms: Option<f64>,
    pub avg_total_ms: Option<f64>,
    pub avg_queue_ms: Option<f64>,
    pub avg_tokens_per_second: Option<f64>,
}

/// One model's requests in one time bucket (for charts).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RequestBucket {
    pub timestamp: i64,
    pub model: Option<String>,
    pub requests: i64,
    pub errors: i64,
    pub completion_tokens: i64,
    pub tokens_per_second: Option<f64>,
    pub ttft_ms: Option<f64>,
    pub total_ms: Option<f64>,
}

const COLUMNS: &str = "id, created_at, model_id, endpoint, status_code, stream, outcome, prompt_tokens,
    completion_tokens, ttft_ms, total_ms, queue_ms, tokens_per_second, error, client";

impl Db {
    /// Stores a batch in one transaction and returns the rows with their ids.
    pub async fn insert_requests(&self, batch: Vec<NewRequest>) -> Result<Vec<RequestRow>, DbError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let mut rows = Vec::with_capacity(batch.len());
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO requests (created_at, model_id, endpoint, status_code, stream, outcome, prompt_tokens,
                       completion_tokens, ttft_ms, total_ms, queue_ms, tokens_per_second, error, client)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                )?;
                for r in batch {
                    stmt.execute(rusqlite::params![
                        r.created_at,
                        r.model,
                        r.endpoint,
                        r.status_code,
                        r.stream,
                        r.outcome,
                        r.prompt_tokens,
                        r.completion_tokens,
                        r.ttft_ms,
                        r.total_ms,
                        r.queue_ms,
                        r.tokens_per_second,
                        r.error,
                        r.client
                    ])?;
                    rows.push(stored(tx.last_insert_rowid(), r));
                }
            }
            tx.commit()?;
            Ok(rows)
        })
        .await
    }

    /// Matching rows (newest first unless sorted otherwise) and how many match in all.
    pub async fn query_requests(&self, q: RequestQuery) -> Result<(Vec<RequestRow>, i64), DbError> {
        self.call(move |c| {
            let (filter, args) = where_clause(&q);
            let column = SORTABLE.iter().find(|(k, _)| Some(*k) == q.sort.as_deref()).map_or("created_at", |(_, c)| c);
            let order = if q.ascending { "ASC" } else { "DESC" };
            let total: i64 =
                c.query_row(&format!("SELECT COUNT(*) FROM requests {filter}"), params_from_iter(args.iter()), |r| {
                    r.get(0)
                })?;
            let sql = format!(
                "SELECT {COLUMNS} FROM requests {filter} ORDER BY {column} IS NULL, {column} {order}, id {order}
                 LIMIT {} OFFSET {}",
                q.limit, q.offset
            );
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt.query_map(params_from_iter(args.iter()), read_row)?.collect::<Result<Vec<_>, _>>()?;
            Ok((rows, total))
        })
        .await
    }

    /// Per-model aggregates since `since` (ms), busiest model first.
    pub async fn request_totals(&self, since: i64) -> Result<Vec<ModelTotals>, DbError> {
        self.call(move |c| {
            let mut stmt = c.prepare(
                "SELECT model_id, COUNT(*), SUM(outcome IN ('error', 'rejected')), COALESCE(SUM(prompt_tokens), 0),
                        COALESCE(SUM(completion_tokens), 0), AVG(ttft_ms), AVG(total_ms), AVG(queue_ms),
                        AVG(tokens_per_second)
                 FROM requests WHERE created_at >= ?1 GROUP BY model_id ORDER BY COUNT(*) DESC",
            )?;
            let rows = stmt.query_map([since], |r| {
                Ok(ModelTotals {
                    model: r.get(0)?,
                    requests: r.get(1)?,
                    errors: r.get(2)?,
                    prompt_tokens: r.get(3)?,
                    completion_tokens: r.get(4)?,
                    avg_ttft_ms: r.get(5)?,
                    avg_total_ms: r.get(6)?,
                    avg_queue_ms: r.get(7)?,
                    avg_tokens_per_second: r.get(8)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    /// Requests grouped by model and `bucket_ms` window between `since` and `until`, oldest first.
    /// Requests and errors per API over a range (one model's, when named).
    pub async fn request_apis(&self, since: i64, until: i64, model: Option<String>) -> Result<Vec<ApiTotal>, DbError> {
        self.call(move |c| {
            let sql = format!(
                "SELECT {API_SQL} AS api, COUNT(*), SUM(outcome IN ('error', 'rejected')) FROM requests
                 WHERE created_at >= ?1 AND created_at <= ?2 AND (?3 IS NULL OR model_id = ?3)
                 GROUP BY api ORDER BY COUNT(*) DESC, api"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(rusqlite::params![since, until, model], |r| {
                Ok(ApiTotal { api: r.get(0)?, requests: r.get(1)?, errors: r.get(2)? })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    pub async fn request_history(
        &self,
        since: i64,
        until: i64,
        bucket_ms: i64,
        model: Option<String>,
    ) -> Result<Vec<RequestBucket>, DbError> {
        self.call(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT (created_at / ?3) * ?3 AS t, model_id, COUNT(*), SUM(outcome IN ('error', 'rejected')),
                        COALESCE(SUM(completion_tokens), 0), AVG(tokens_per_second), AVG(ttft_ms), AVG(total_ms)
                 FROM requests
                 WHERE created_at >= ?1 AND created_at <= ?2 AND (?4 IS NULL OR model_id = ?4)
                 GROUP BY t, model_id ORDER BY t, model_id",
            )?;
            let rows = stmt.query_map(rusqlite::params![since, until, bucket_ms.max(1), model], |r| {
                Ok(RequestBucket {
                    timestamp: r.get(0)?,
                    model: r.get(1)?,
                    requests: r.get(2)?,
                    errors: r.get(3)?,
                    completion_tokens: r.get(4)?,
                    tokens_per_second: r.get(5)?,
                    ttft_ms: r.get(6)?,
                    total_ms: r.get(7)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    pub async fn prune_requests(&self, before_ts: i64) -> Result<usize, DbError> {
        self.call(move |c| Ok(c.execute("DELETE FROM requests WHERE created_at < ?1", [before_ts])?)).await
    }
}

fn where_clause(q: &RequestQuery) -> (String, Vec<SqlValue>) {
    let mut parts = Vec::new();
    let mut args = Vec::new();
    let mut add = |sql: &str, value: SqlValue| {
        args.push(value);
        parts.push(format!("{sql} ?{}", args.len()));
    };
    if let Some(m) = &q.model {
        add("model_id =", SqlValue::Text(m.clone()));
    }
    if let Some(o) = &q.outcome {
        add("outcome =", SqlValue::Text(o.clone()));
    }
    if let Some(s) = q.since {
        add("created_at >=", SqlValue::Integer(s));
    }
    if let Some(u) = q.until {
        add("created_at <=", SqlValue::Integer(u));
    }
    let filter = if parts.is_empty() { String::new() } else { format!("WHERE {}", parts.join(" AND ")) };
    (filter, args)
}

fn read_row(r: &Row<'_>) -> rusqlite::Result<RequestRow> {
    let endpoint: String = r.get(3)?;
    let model: Option<String> = r.get(2)?;
    Ok(RequestRow {
        id: r.get(0)?,
        timestamp: r.get(1)?,
        node: node_of(model.as_deref()),
        model,
        api: api_of(&endpoint),
        endpoint,
        status_code: r.get(4)?,
        stream: r.get(5)?,
        outcome: r.get(6)?,
        prompt_tokens: r.get(7)?,
        completion_tokens: r.get(8)?,
        ttft_ms: r.get(9)?,
        total_ms: r.get(10)?,
        queue_ms: r.get(11)?,
        tokens_per_second: r.get(12)?,
        error: r.get(13)?,
        client: r.get(14)?,
    })
}

fn stored(id: i64, r: NewRequest) -> RequestRow {
    RequestRow {
        id,
        timestamp: r.created_at,
        node: node_of(r.model.as_deref()),
        model: r.model,
        api: api_of(&r.endpoint),
        endpoint: r.endpoint,
        status_code: Some(i64::from(r.status_code)),
        stream: r.stream,
        outcome: r.outcome.to_string(),
        prompt_tokens: r.prompt_tokens,
        completion_tokens: r.completion_tokens,
        ttft_ms: r.ttft_ms,
        total_ms: Some(r.total_ms),
        queue_ms: Some(r.queue_ms),
        tokens_per_second: r.tokens_per_second,
        error: r.error,
        client: r.client,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(model: &str, outcome: &'static str, total_ms: f64) -> NewRequest {
        NewRequest {
            created_at: super::super::now_ms(),
            model: Some(model.into()),
            endpoint: "/v1/chat/completions".into(),
            status_code: if outcome == "ok" { 200 } else { 502 },
            outcome,
            completion_tokens: Some(10),
            total_ms,
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn stored_requests_filter_sort_page_and_total() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        let batch = vec![request("a", "ok", 30.0), request("a", "error", 10.0), request("b", "ok", 20.0)];
        let stored = db.insert_requests(batch).await.unwrap();
        assert_eq!(stored.len(), 3);
        db.insert_requests(vec![request("c", "cancelled", 5.0)]).await.unwrap();

        let q = RequestQuery { model: Some("a".into()), limit: 10, ..Default::default() };
        let (rows, total) = db.query_requests(q).await.unwrap();
        assert_eq!((rows.len(), total), (2, 2));

        let q =
            RequestQuery { sort: Some("totalMs".into()), ascending: true, limit: 1, offset: 1, ..Default::default() };
        let (rows, total) = db.query_requests(q).await.unwrap();
        assert_eq!((rows[0].total_ms, total), (Some(10.0), 4));

        let buckets = db.request_history(0, i64::MAX, 3_600_000, Some("a".into())).await.unwrap();
        assert_eq!(buckets.len(), 1, "both of a's requests fall in one hour");
        assert_eq!((buckets[0].requests, buckets[0].errors, buckets[0].completion_tokens), (2, 1, 20));

        let totals = db.request_totals(0).await.unwrap();
        let a = totals.iter().find(|t| t.model.as_deref() == Some("a")).unwrap();
        assert_eq!((a.requests, a.errors, a.completion_tokens), (2, 1, 20));
        let c = totals.iter().find(|t| t.model.as_deref() == Some("c")).unwrap();
        assert_eq!((c.requests, c.errors), (1, 0), "a cancelled request is not an error");
    }
}
