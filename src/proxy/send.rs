//! Sending a `/v1` request upstream and reading the head of the answer. Router-mode models (the router,
//! or a loaded model's own process) go through a plain hyper client: plain HTTP on loopback needs none of
//! reqwest's layers (redirect policy, retries, URL parsing, TLS setup), which cost about a tenth of the
//! proxy's CPU per request. Own backends keep reqwest for their configured connection and read timeouts.

use super::headers;
use super::tap::{self, BoxError};
use crate::core::error_chain;
use crate::process::{Pool, Upstream};
use axum::body::Bytes;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use futures_util::TryStreamExt;
use http_body_util::{BodyExt, Full};

/// Which client carries the request.
#[derive(Clone, Copy)]
pub enum Via<'a> {
    Hyper(&'a Pool),
    Reqwest(&'a reqwest::Client),
}

/// The head of an upstream's answer, and its body as it comes.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body's length, when the upstream declared it.
    pub length: Option<u64>,
    pub body: tap::Upstream,
}

/// Nothing came back. `gone`: the process was not there (no connection, or one closed before an answer
/// began); never a timeout, so a slow model does not get the request twice.
#[derive(Debug)]
pub struct Failed {
    pub gone: bool,
    pub message: String,
}

/// One request as it goes upstream; sendable more than once (the body is in memory).
pub struct Outgoing<'a> {
    pub parts: &'a Parts,
    pub body: Bytes,
}

impl Outgoing<'_> {
    pub async fn send(&self, via: Via<'_>, upstream: &Upstream) -> Result<Answer, Failed> {
        let path = self.parts.uri.path_and_query().map_or(self.parts.uri.path(), |p| p.as_str());
        match via {
            Via::Hyper(client) => self.send_hyper(client, upstream, path).await,
            Via::Reqwest(client) => self.send_reqwest(client, upstream, path).await,
        }
    }

    async fn send_hyper(&self, client: &Pool, upstream: &Upstream, path: &str) -> Result<Answer, Failed> {
        let invalid = |what: String| Failed { gone: false, message: what };
        let uri: Uri =
            format!("{}{path}", upstream.url).parse().map_err(|e| invalid(format!("bad upstream URI: {e}")))?;
        let bearer = HeaderValue::try_from(format!("Bearer {}", upstream.key.expose()))
            .map_err(|e| invalid(format!("bad upstream key: {e}")))?;
        let mut request = axum::http::Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.parts.method.clone();
        *request.uri_mut() = uri;
        *request.headers_mut() = headers::to_upstream(&self.parts.headers);
        request.headers_mut().insert(header::AUTHORIZATION, bearer);
        let response =
            client.request(request).await.map_err(|e| Failed { gone: hyper_gone(&e), message: error_chain(&e) })?;
        let (head, body) = response.into_parts();
        let length = hyper::body::Body::size_hint(&body).exact();
        let body: tap::Upstream = Box::pin(body.into_data_stream().map_err(|e| Box::new(e) as BoxError));
        Ok(Answer { status: head.status, headers: head.headers, length, body })
    }

    async fn send_reqwest(&self, client: &reqwest::Client, upstream: &Upstream, path: &str) -> Result<Answer, Failed> {
        let sent = upstream
            .request(client, self.parts.method.clone(), path)
            .headers(headers::to_upstream(&self.parts.headers))
            .body(self.body.clone())
            .send()
            .await;
        let mut response = sent.map_err(|e| Failed {
            gone: (e.is_connect() || e.is_request()) && !e.is_timeout(),
            message: error_chain(&e),
        })?;
        let headers = std::mem::take(response.headers_mut());
        let (status, length) = (response.status(), response.content_length());
        let body: tap::Upstream = Box::pin(response.bytes_stream().map_err(|e| Box::new(e) as BoxError));
        Ok(Answer { status, headers, length, body })
    }
}

/// No connection (a connect timeout aside), or a pooled connection the process closed before it answered.
fn hyper_gone(err: &hyper_util::client::legacy::Error) -> bool {
    if err.is_connect() {
        return !error_chain(err).contains("timed out");
    }
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        if let Some(hyper) = cause.downcast_ref::<hyper::Error>() {
            return hyper.is_incomplete_message() || hyper.is_canceled() || hyper.is_closed();
        }
        source = cause.source();
    }
    false
}
