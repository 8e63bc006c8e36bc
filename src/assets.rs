//! The embedded dashboard (`web/`), with History-API fallback: a path without a file extension
//! gets `index.html`; a missing file with an extension is a 404.

use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "web/"]
struct Web;

/// Paths owned by other handlers: never answered with the SPA shell.
const RESERVED: [&str; 3] = ["v1/", "admin/", "llamaproxws"];

pub async fn serve(uri: Uri) -> Response {
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
    (StatusCode::NOT_FOUND, "not found\n").into_response()
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
