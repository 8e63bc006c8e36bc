//! Reading a `/v1` request: the body within `proxy.maxBodyBytes` and `proxy.bodyTimeoutMs`, and a peek
//! at `model` and `stream`. The body itself is forwarded byte for byte. A model name is a short
//! identifier: a longer one is refused here, before it reaches SQLite, the logs or a broadcast.

use crate::error::{ApiError, json_kind};
use axum::body::{Body, Bytes};
use axum::extract::Query;
use axum::http::{HeaderMap, Uri, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;

pub struct Incoming {
    pub model: String,
    pub stream: bool,
    /// Seconds to keep the model loaded once idle, when the request asks (`ttl`, as LM Studio takes it).
    pub ttl: Option<f64>,
    pub body: Bytes,
}

#[derive(Deserialize)]
struct Peek {
    model: Option<Value>,
    stream: Option<Value>,
    ttl: Option<Value>,
}

/// What the body says beside its bytes.
struct Peeked {
    model: Option<String>,
    stream: bool,
    ttl: Option<f64>,
}

/// Longest model id or alias a request may name.
pub const MAX_MODEL_NAME: usize = 256;

/// How much of the body may arrive, and by when.
pub struct BodyLimits {
    pub max_bytes: usize,
    pub deadline: std::time::Duration,
}

pub async fn read(uri: &Uri, headers: &HeaderMap, body: Body, limits: &BodyLimits) -> Result<Incoming, ApiError> {
    let limit = limits.max_bytes;
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::TooLarge(limit as u64));
    }
    let collected = tokio::time::timeout(limits.deadline, Limited::new(body, limit).collect()).await;
    let body = match collected {
        Err(_) => return Err(ApiError::BodyTimeout(limits.deadline.as_millis() as u64)),
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(err)) if err.downcast_ref::<LengthLimitError>().is_some() => {
            return Err(ApiError::TooLarge(limit as u64));
        }
        Ok(Err(err)) => return Err(ApiError::bad("body", format!("could not read the request body: {err}"))),
    };
    let peeked = if is_json(headers, &body) { peek(&body)? } else { Peeked { model: None, stream: false, ttl: None } };
    let Peeked { model, stream, ttl } = peeked;
    let model = match model.or_else(|| query_model(uri)) {
        Some(m) if m.chars().count() > MAX_MODEL_NAME => {
            return Err(ApiError::bad(
                "model",
                format!("must be a model id or alias of at most {MAX_MODEL_NAME} characters"),
            ));
        }
        Some(m) => m,
        None => return Err(ApiError::bad("model", "required: name the model to use (see GET /v1/models)")),
    };
    Ok(Incoming { model, stream, ttl, body })
}

/// Refuses paths that would leave `/v1` upstream: the URL parser resolves `.`/`..` segments (also
/// written `%2e`) and treats `\` as `/`, so `/v1/../models/load` would reach the router's admin API.
pub fn check_path(path: &str) -> Result<(), ApiError> {
    let dotted = path.split(['/', '\\']).any(|segment| {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        decoded == "." || decoded == ".."
    });
    if dotted || path.contains('\\') {
        return Err(ApiError::bad("path", "must not contain '.' or '..' segments or backslashes"));
    }
    Ok(())
}

fn is_json(headers: &HeaderMap, body: &Bytes) -> bool {
    match headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        Some(ct) => ct.contains("json"),
        None => !body.is_empty(),
    }
}

fn peek(body: &Bytes) -> Result<Peeked, ApiError> {
    let invalid = |e: serde_json::Error| ApiError::bad("body", format!("invalid JSON: {e}"));
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        serde_json::from_slice::<serde::de::IgnoredAny>(body).map_err(invalid)?;
        return Err(ApiError::bad("body", "must be a JSON object"));
    }
    let peek: Peek = serde_json::from_slice(body).map_err(invalid)?;
    let model = match peek.model {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => return Err(ApiError::bad("model", format!("must be a string, got {}", json_kind(&other)))),
    };
    let stream = match peek.stream {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => b,
        Some(other) => return Err(ApiError::bad("stream", format!("must be a boolean, got {}", json_kind(&other)))),
    };
    let ttl = match peek.ttl {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_f64(),
        Some(other) => {
            return Err(ApiError::bad("ttl", format!("must be a number of seconds, got {}", json_kind(&other))));
        }
    };
    Ok(Peeked { model, stream, ttl })
}

fn query_model(uri: &Uri) -> Option<String> {
    let Query(query) = Query::<HashMap<String, String>>::try_from_uri(uri).ok()?;
    query.get("model").cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_json(body: &'static str) -> Result<Incoming, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        read(&Uri::from_static("/v1/chat/completions"), &headers, Body::from(body), &limits(1024)).await
    }

    fn limits(max_bytes: usize) -> BodyLimits {
        BodyLimits { max_bytes, deadline: std::time::Duration::from_secs(5) }
    }

    fn field(result: Result<Incoming, ApiError>) -> String {
        match result {
            Err(ApiError::BadRequest { field, .. }) => field,
            Err(other) => format!("other error: {other}"),
            Ok(_) => "accepted".into(),
        }
    }

    #[tokio::test]
    async fn model_and_stream_are_read_and_bad_bodies_name_the_problem() {
        let ok = read_json(r#"{"model":"smol","stream":true,"messages":[]}"#).await.unwrap();
        assert_eq!((ok.model.as_str(), ok.stream), ("smol", true));
        assert_eq!(field(read_json(r#"{"model":"smol""#).await), "body");
        assert_eq!(field(read_json(r#"[1,2]"#).await), "body");
        assert_eq!(field(read_json(r#"{"messages":[]}"#).await), "model");
        assert_eq!(field(read_json(r#"{"model":7}"#).await), "model");
        assert_eq!(field(read_json(r#"{"model":"m","stream":"yes"}"#).await), "stream");
        assert_eq!(read_json(r#"{"model":"m","ttl":90}"#).await.unwrap().ttl, Some(90.0));
        assert_eq!(field(read_json(r#"{"model":"m","ttl":"5m"}"#).await), "ttl");
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_too_large_even_without_a_length() {
        let big = Body::from(vec![b' '; 4096]);
        let result = read(&Uri::from_static("/v1/embeddings"), &HeaderMap::new(), big, &limits(1024)).await;
        assert!(matches!(result, Err(ApiError::TooLarge(1024))));
    }

    #[tokio::test]
    async fn a_body_that_stops_arriving_times_out_and_a_huge_model_name_is_refused() {
        let (_sender, body) = tokio::sync::mpsc::channel::<Result<axum::body::Bytes, std::io::Error>>(1);
        let stalled = Body::from_stream(tokio_stream_of(body));
        let quick = BodyLimits { max_bytes: 1024, deadline: std::time::Duration::from_millis(100) };
        let result = read(&Uri::from_static("/v1/embeddings"), &HeaderMap::new(), stalled, &quick).await;
        assert!(matches!(result, Err(ApiError::BodyTimeout(100))), "{:?}", result.err());
        let name = "m".repeat(MAX_MODEL_NAME + 1);
        let uri: Uri = format!("/v1/slots?model={name}").parse().unwrap();
        assert_eq!(field(read(&uri, &HeaderMap::new(), Body::empty(), &limits(1024)).await), "model");
    }

    fn tokio_stream_of(
        mut rx: tokio::sync::mpsc::Receiver<Result<axum::body::Bytes, std::io::Error>>,
    ) -> impl futures_util::Stream<Item = Result<axum::body::Bytes, std::io::Error>> {
        futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
    }

    #[tokio::test]
    async fn a_declared_length_over_the_limit_is_refused_before_reading_and_one_at_the_limit_is_read() {
        let with_length = |n: usize| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_LENGTH, n.to_string().parse().unwrap());
            headers
        };
        let body = r#"{"model":"m"}"#;
        let uri = Uri::from_static("/v1/embeddings");
        let declared_too_much = read(&uri, &with_length(1025), Body::from(body), &limits(1024)).await;
        assert!(matches!(declared_too_much, Err(ApiError::TooLarge(1024))));
        let short = read(&uri, &with_length(body.len()), Body::from(body), &limits(1024)).await;
        assert_eq!(short.map(|i| i.model).ok().as_deref(), Some("m"));
        let exact = format!(r#"{{"model":"m","pad":"{}"}}"#, " ".repeat(1024 - 22));
        assert_eq!(exact.len(), 1024);
        let at_limit = read(&uri, &with_length(1024), Body::from(exact), &limits(1024)).await;
        assert!(at_limit.is_ok(), "a body of exactly maxBodyBytes is accepted");
    }

    #[tokio::test]
    async fn a_body_that_breaks_off_is_a_bad_request_not_too_large() {
        let (sender, rx) = tokio::sync::mpsc::channel::<Result<axum::body::Bytes, std::io::Error>>(2);
        sender.send(Ok(Bytes::from_static(b"{\"model\":"))).await.unwrap();
        sender.send(Err(std::io::Error::other("connection reset"))).await.unwrap();
        let broken = Body::from_stream(tokio_stream_of(rx));
        let result = read(&Uri::from_static("/v1/embeddings"), &HeaderMap::new(), broken, &limits(1024)).await;
        match result {
            Err(ApiError::BadRequest { field, message }) => {
                assert_eq!(field, "body");
                assert!(message.contains("connection reset"), "{message}");
            }
            other => panic!("expected a bad request, got {:?}", other.err()),
        }
    }

    #[tokio::test]
    async fn a_model_name_of_exactly_the_longest_length_is_accepted() {
        let name = "m".repeat(MAX_MODEL_NAME);
        let uri: Uri = format!("/v1/slots?model={name}").parse().unwrap();
        assert_eq!(read(&uri, &HeaderMap::new(), Body::empty(), &limits(1024)).await.unwrap().model, name);
    }

    #[test]
    fn paths_that_would_climb_out_of_v1_are_refused() {
        assert!(check_path("/v1/chat/completions").is_ok());
        assert!(check_path("/v1/models/smol.q4").is_ok());
        for bad in ["/v1/../models/load", "/v1/%2E%2e/models/unload", "/v1/./x", "/v1\\..\\models", "/v1/a\\b"] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_get_names_its_model_in_the_query() {
        let uri = Uri::from_static("/v1/slots?model=smol%20x");
        let got = read(&uri, &HeaderMap::new(), Body::empty(), &limits(1024)).await.unwrap();
        assert_eq!(got.model, "smol x");
    }
}
