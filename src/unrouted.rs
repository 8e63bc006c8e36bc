//! What a request gets when no handler can take it: a method its path does not take, or a path segment
//! that is not valid (an invalid percent-encoding). Each is an OpenAI-shaped JSON error like every other
//! error on the port, never axum's empty or `text/plain` default.

use crate::error::ApiError;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};

/// The fallback for a method a route does not take; axum adds the `Allow` header to what this returns.
pub async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    ApiError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path())).into_response()
}

/// The one `{param}` of a route, decoded; a segment that does not decode to UTF-8 is a JSON 400 naming it.
pub struct Segment(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Segment {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::bad("path", rejection.body_text())),
        }
    }
}
