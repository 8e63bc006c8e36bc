//! CORS from `security.corsOrigins`. Empty means same-origin only (no CORS headers at all).

use axum::http::HeaderValue;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

pub fn layer(origins: &[String]) -> CorsLayer {
    if origins.is_empty() {
        return CorsLayer::new();
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    CorsLayer::new().allow_origin(allow).allow_methods(Any).allow_headers(Any)
}
