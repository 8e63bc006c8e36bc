//! Credential checks shared by the socket handshake, `/v1` and `/admin`.

use crate::config::Config;
use crate::error::ApiError;
use axum::http::{HeaderMap, header};

/// Compares without stopping at the first difference, so timing does not reveal a secret's prefix.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `Authorization: Bearer T` or `X-Admin-Token: T` must equal `security.adminToken` when one is set.
/// Without one the server only listens on loopback (validation refuses other hosts), so local callers pass.
pub fn check_admin(config: &Config, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = config.security.admin_token.as_deref() else { return Ok(()) };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| headers.get("x-admin-token").and_then(|v| v.to_str().ok()));
    match given {
        Some(token) if constant_time_eq(token.trim().as_bytes(), expected.as_bytes()) => Ok(()),
        Some(_) => Err(ApiError::Unauthorized("wrong admin token".into())),
        None => Err(ApiError::Unauthorized(
            "admin token required: 'Authorization: Bearer <token>' or 'X-Admin-Token: <token>'".into(),
        )),
    }
}
