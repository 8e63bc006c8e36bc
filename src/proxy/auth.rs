//! `/v1` API keys (`security.apiKeys`): when any are configured, a request needs one as
//! `Authorization: Bearer KEY` (or `X-Api-Key: KEY`). The admin token is not an API key.

use crate::config::Config;
use crate::error::ApiError;
use axum::http::{HeaderMap, header};

pub fn check(config: &Config, headers: &HeaderMap) -> Result<(), ApiError> {
    let keys = &config.security.api_keys;
    if keys.is_empty() {
        return Ok(());
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
        .map(str::trim);
    match bearer {
        None => Err(ApiError::InvalidApiKey(
            "missing API key: send it as 'Authorization: Bearer <key>' (security.apiKeys)".into(),
        )),
        Some(given) if keys.iter().any(|k| crate::auth::constant_time_eq(k.as_bytes(), given.as_bytes())) => Ok(()),
        Some(_) => Err(ApiError::InvalidApiKey("invalid API key".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(keys: &[&str]) -> Config {
        let mut c = Config::default();
        c.security.api_keys = keys.iter().map(|k| k.to_string()).collect();
        c
    }

    fn with(name: &str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        h
    }

    #[test]
    fn keys_are_required_only_when_configured() {
        assert!(check(&config(&[]), &HeaderMap::new()).is_ok());
        let c = config(&["sk-one", "sk-two"]);
        assert!(check(&c, &with("authorization", "Bearer sk-two")).is_ok());
        assert!(check(&c, &with("x-api-key", "sk-one")).is_ok());
        assert!(matches!(check(&c, &HeaderMap::new()), Err(ApiError::InvalidApiKey(_))));
        assert!(matches!(check(&c, &with("authorization", "Bearer sk-on")), Err(ApiError::InvalidApiKey(_))));
    }
}
