//! Request history and queue events (`requests:list`, `requests:stats`) and per-model settings
//! (`models:update`).

use super::payload::Params;
use crate::app::AppState;
use crate::db::{RequestQuery, now_ms};
use crate::error::{ApiError, json_kind};
use serde_json::{Value, json};

pub const OUTCOMES: [&str; 4] = ["ok", "error", "rejected", "cancelled"];
const MAX_TTL_SEC: i64 = 31_536_000;

pub async fn requests_list(state: &AppState, p: &Params) -> Result<Value, ApiError> {
    let sort_keys: Vec<&str> = crate::db::REQUEST_SORT_KEYS.iter().map(|(k, _)| *k).collect();
    let query = RequestQuery {
        model: p.opt_str("model", 256)?,
        outcome: p.one_of("outcome", &OUTCOMES)?,
        since: p.opt_i64("since", 0, i64::MAX)?,
        until: p.opt_i64("until", 0, i64::MAX)?,
        sort: p.one_of("sort", &sort_keys)?,
        ascending: p.one_of("order", &["asc", "desc"])?.is_some_and(|o| o == "asc"),
        limit: p.opt_i64("limit", 1, 1_000)?.unwrap_or(100),
        offset: p.opt_i64("offset", 0, i64::MAX)?.unwrap_or(0),
    };
    if let (Some(since), Some(until)) = (query.since, query.until)
        && since > until
    {
        return Err(ApiError::bad("since", "must not be after until"));
    }
    let (requests, total) = state.db.query_requests(query).await?;
    Ok(json!({"requests": requests, "total": total}))
}

/// Chart series: `{since?, until?, bucketMs?, model?}`; by default the last hour in about 120 buckets.
pub async fn requests_history(state: &AppState, p: &Params) -> Result<Value, ApiError> {
    let until = p.opt_i64("until", 0, i64::MAX)?.unwrap_or_else(now_ms);
    let since = p.opt_i64("since", 0, i64::MAX)?.unwrap_or(until - crate::proxy::stats::DEFAULT_WINDOW_MS);
    if since > until {
        return Err(ApiError::bad("since", "must not be after until"));
    }
    let auto = ((until - since) / 120).max(1_000);
    let bucket_ms = p.opt_i64("bucketMs", 1_000, 86_400_000)?.unwrap_or(auto);
    if (until - since) / bucket_ms > 10_000 {
        return Err(ApiError::bad("bucketMs", "too small for the range (at most 10000 buckets)"));
    }
    let model = p.opt_str("model", 256)?;
    let buckets = state.db.request_history(since, until, bucket_ms, model.clone()).await?;
    let by_api = state.db.request_apis(since, until, model).await?;
    Ok(json!({"since": since, "until": until, "bucketMs": bucket_ms, "buckets": buckets, "byApi": by_api}))
}

pub async fn requests_stats(state: &AppState, p: &Params) -> Result<Value, ApiError> {
    let since = p.opt_i64("since", 0, i64::MAX)?.unwrap_or(now_ms() - crate::proxy::stats::DEFAULT_WINDOW_MS);
    crate::proxy::stats::payload(&state.activity, &state.db, since).await
}

/// `{id, changes: {ttl?, pinned?}}`: `ttl` in seconds (0 = never unload) or `null` for
/// `models.idleTimeoutSec`; `pinned` keeps the model from being evicted or idle-unloaded.
pub async fn models_update(state: &AppState, p: &Params, id: String) -> Result<Value, ApiError> {
    let changes = p.required_object("changes")?;
    if let Some(key) = changes.keys().find(|k| !["ttl", "pinned"].contains(&k.as_str())) {
        return Err(ApiError::bad(
            format!("changes.{key}"),
            "cannot be changed for router-mode models (only ttl and pinned)",
        ));
    }
    if changes.is_empty() {
        return Err(ApiError::bad("changes", "must name a setting to change (ttl, pinned)"));
    }
    let pinned = match changes.get("pinned") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(v) => return Err(ApiError::bad("changes.pinned", format!("must be true or false, got {}", json_kind(v)))),
    };
    let ttl = match changes.get("ttl") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(v) => match v.as_i64() {
            Some(n) if (0..=MAX_TTL_SEC).contains(&n) => Some(Some(n)),
            Some(n) => {
                return Err(ApiError::bad("changes.ttl", format!("must be between 0 and {MAX_TTL_SEC}, got {n}")));
            }
            None => {
                return Err(ApiError::bad("changes.ttl", format!("must be an integer or null, got {}", json_kind(v))));
            }
        },
    };
    if let Some(pinned) = pinned {
        state.models.set_router_pinned(&id, pinned).await?;
    }
    if let Some(ttl) = ttl {
        state.models.set_ttl(&id, ttl).await?;
    }
    tracing::info!(model = %id, ttl = ?ttl, pinned = ?pinned, "model settings updated");
    let model = state.models.get(&id);
    state.models.publish_list();
    Ok(json!({"model": model}))
}
