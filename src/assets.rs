//! The embedded dashboard (`web/`), with History-API fallback: a path without a file extension
//! gets `index.html`; a missing file with an extension is a JSON 404, and a method other than GET or HEAD
//! a JSON 405 (`CONNECT`, `DELETE` and the like never get the page).

use crate::error::ApiError;
use axum::http::{HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "web/"]
struct Web;

/// Paths owned by other handlers: never answered with the SPA shell.
const RESERVED: [&str; 4] = ["v1/", "admin/", "llamaproxws", "api/"];

pub async fn serve(method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        let mut response = crate::unrouted::method_not_allowed(method, uri).await;
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET,HEAD"));
        return response;
    }
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    if let Some(response) = file(path) {
        return response;
    }
    let last = path.rsplit('/').next().unwrap_or(path);
    let spa_route = !last.contains('.') && !RESERVED.iter().any(|r| path.starts_with(r));
    if spa_route && let Some(response) = file("index.html") {
        return response;
    }
    ApiError::NotFound(format!("nothing at {}", uri.path())).into_response()
}

fn file(path: &str) -> Option<Response> {
    let asset = Web::get(path)?;
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    // index.html must be revalidated so a new build's asset list is picked up.
    let cache = if path == "index.html" { "no-cache" } else { "public, max-age=300" };
    Some(
        (
            [(header::CONTENT_TYPE, mime.as_ref().to_string()), (header::CACHE_CONTROL, cache.to_string())],
            asset.data.into_owned(),
        )
            .into_response(),
    )
}
