//! Plain HTTP to the llama-servers we start (on loopback): health polls, the router's `/models` API and
//! its status stream, the pass-through to a backend. A pooled hyper client and nothing else: no proxy, no
//! redirects, no TLS (setting TLS up for every client cost the idle process 4 MiB of OpenSSL pages).

use super::upstream::{Secret, Upstream};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{HeaderMap, Method, Request, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::time::Duration;

/// How long a pooled connection to a llama-server may idle: less than the 5 s after which llama-server
/// closes an idle keep-alive connection, so a request never goes out on one it is closing just then.
const IDLE_BEFORE_LLAMA_SERVER_CLOSES: Duration = Duration::from_secs(3);

/// The largest body read whole ([`Reply::json`], [`Reply::bytes`]): a `/models` list or a small answer.
const MAX_BODY: usize = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

/// A hyper client's connection pool to the llama-servers we start.
pub type Pool = Client<HttpConnector, Full<Bytes>>;

/// `idle_per_host` pooled connections at most (0: a fresh connection per request); idle ones are dropped
/// before llama-server would close them.
pub fn pool(connect_timeout: Duration, idle_per_host: usize) -> Pool {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(connect_timeout));
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(idle_per_host)
        .pool_idle_timeout(IDLE_BEFORE_LLAMA_SERVER_CLOSES)
        .pool_timer(TokioTimer::new())
        .build(connector)
}

/// Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct Loopback {
    client: Pool,
    /// For the head of each answer; none for streams that stay open.
    timeout: Option<Duration>,
}

impl Loopback {
    /// `connect_timeout` for every request; `timeout` until the head of an answer arrives.
    pub fn new(connect_timeout: Duration, timeout: Option<Duration>) -> Self {
        Self { client: pool(connect_timeout, usize::MAX), timeout }
    }

    pub async fn get(&self, upstream: &Upstream, path: &str) -> Result<Reply, HttpError> {
        self.send(Method::GET, &format!("{}{path}", upstream.url), &upstream.key, Bytes::new()).await
    }

    /// `GET url` with the child's key (a health URL is whole already).
    pub async fn get_url(&self, url: &str, key: &Secret) -> Result<Reply, HttpError> {
        self.send(Method::GET, url, key, Bytes::new()).await
    }

    pub async fn post_json(
        &self,
        upstream: &Upstream,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<Reply, HttpError> {
        let body = Bytes::from(body.to_string());
        self.send(Method::POST, &format!("{}{path}", upstream.url), &upstream.key, body).await
    }

    async fn send(&self, method: Method, url: &str, key: &Secret, body: Bytes) -> Result<Reply, HttpError> {
        let uri: Uri = url.parse().map_err(|e| HttpError(format!("bad URL {url}: {e}")))?;
        let bearer = HeaderValue::try_from(format!("Bearer {}", key.expose()))
            .map_err(|e| HttpError(format!("bad key: {e}")))?;
        let json = !body.is_empty();
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        request.headers_mut().insert(header::AUTHORIZATION, bearer);
        if json {
            request.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        let sent = self.client.request(request);
        let response = match self.timeout {
            Some(limit) => tokio::time::timeout(limit, sent)
                .await
                .map_err(|_| HttpError(format!("{url}: no answer within {} ms", limit.as_millis())))?,
            None => sent.await,
        }
        .map_err(|e| HttpError(format!("{url}: {}", crate::core::error_chain(&e))))?;
        let (head, body) = response.into_parts();
        Ok(Reply { status: head.status, headers: head.headers, body })
    }
}

/// The head of an answer; the body is read on demand.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    body: Incoming,
}

impl Reply {
    pub async fn bytes(self) -> Result<Bytes, HttpError> {
        let collected = Limited::new(self.body, MAX_BODY).collect().await;
        Ok(collected.map_err(|e| HttpError(format!("reading the answer: {e}")))?.to_bytes())
    }

    pub async fn json<T: serde::de::DeserializeOwned>(self) -> Result<T, HttpError> {
        let bytes = self.bytes().await?;
        serde_json::from_slice(&bytes).map_err(|e| HttpError(format!("the answer is not the JSON expected: {e}")))
    }

    /// The next piece of a streamed body; `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, HttpError> {
        loop {
            match self.body.frame().await {
                None => return Ok(None),
                Some(Err(e)) => return Err(HttpError(format!("reading the stream: {e}"))),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        return Ok(Some(data));
                    }
                }
            }
        }
    }
}
