//! The response body as it streams back to the client: bytes pass through untouched and unbuffered,
//! while a bounded sample feeds telemetry. The model's slot (and, for a router-mode model, the lease that
//! holds off a router restart) is held until the body ends or the client
//! leaves (dropping this stream drops the upstream response, which closes the upstream connection and
//! so cancels the generation). An SSE body that fails midway, or ends without OpenAI's `[DONE]` (Anthropic's
//! `message_stop` on `/v1/messages`), gets a final error event in that API's shape instead of a silent cut.

use super::telemetry::Exchange;
use super::usage::BodySample;
use crate::core::activity::Admission;
use crate::core::error_chain;
use crate::error::ApiError;
use axum::body::Bytes;
use futures_util::Stream;
use std::pin::Pin;
use std::task::{Context, Poll};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub type Upstream = Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>;

/// What a request holds until its answer ended (dropping it returns both): its slot, and the router's
/// lease when it went there.
pub struct Held {
    _admission: Admission,
    _lease: Option<crate::supervisor::RouterLease>,
}

impl Held {
    pub fn new(admission: Admission, lease: Option<crate::supervisor::RouterLease>) -> Self {
        Self { _admission: admission, _lease: lease }
    }
}

pub struct Tap {
    upstream: Upstream,
    sample: BodySample,
    exchange: Exchange,
    sse: bool,
    /// What the last event of a whole stream ends with, for the APIs that have one: `[DONE]` for chat and
    /// text completions, Anthropic's `message_stop` for messages; other streams need not.
    end_marker: Option<&'static str>,
    /// Anthropic's Messages API, whose clients read errors in its shape.
    anthropic: bool,
    ended: bool,
    /// Bytes still to come when the length is known; the answer is complete at zero.
    remaining: Option<u64>,
    /// The whole answer was passed on (and recorded); what the upstream does after that is not the client's concern.
    complete: bool,
    /// The upstream answered with an error status: the request failed even if the body arrives whole.
    error_status: bool,
    _held: Option<Held>,
}

impl Tap {
    /// `answer`: the upstream's body, its Content-Length when it sent one, and the `/v1` path it answers.
    pub fn new(answer: (Upstream, Option<u64>, &str), exchange: Exchange, sse: bool, held: Held) -> Self {
        let (upstream, length, endpoint) = answer;
        let error_status = exchange.row.status_code >= 400;
        let end_marker = match endpoint {
            "/v1/chat/completions" | "/v1/completions" if sse => Some("[DONE]"),
            "/v1/messages" if sse => Some(r#"{"type":"message_stop"}"#),
            _ => None,
        };
        let anthropic = endpoint.starts_with("/v1/messages");
        Self {
            upstream,
            sample: BodySample::default(),
            exchange,
            sse,
            end_marker,
            anthropic,
            ended: false,
            remaining: length,
            complete: false,
            error_status,
            _held: Some(held),
        }
    }

    fn end(&mut self, outcome: &'static str, error: Option<String>) {
        self.ended = true;
        self.exchange.finish(outcome, error, self.sample.usage());
        self._held = None;
    }

    /// A client may hang up the moment it has the whole answer (`[DONE]`, or every byte of a known
    /// length), before the upstream's end is polled: the request is recorded as complete already then.
    fn record_if_complete(&mut self) {
        let complete = match self.end_marker {
            Some(marker) => self.sample.ends_with(marker),
            None => self.remaining == Some(0),
        };
        if complete {
            if self.error_status {
                let message = self.sample.error_message().unwrap_or_else(|| "upstream error".into());
                self.exchange.finish("error", Some(message), self.sample.usage());
            } else {
                self.exchange.finish("ok", None, self.sample.usage());
            }
            self.complete = true;
            self._held = None;
        }
    }

    /// Ends the stream after a failure: an SSE client gets an error event (Anthropic's `event: error` on its
    /// Messages API), any other client a broken body.
    fn fail(&mut self, message: String) -> Option<Result<Bytes, std::io::Error>> {
        tracing::warn!(model = ?self.exchange.row.model, "{message}");
        self.end("error", Some(message.clone()));
        if self.sse && self.anthropic {
            let body = ApiError::Upstream(message).anthropic_body();
            Some(Ok(Bytes::from(format!("event: error\ndata: {body}\n\n"))))
        } else if self.sse {
            let body = ApiError::Upstream(message).openai_body();
            Some(Ok(Bytes::from(format!("data: {body}\n\n"))))
        } else {
            Some(Err(std::io::Error::other(message)))
        }
    }
}

impl Stream for Tap {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        match this.upstream.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(chunk))) => {
                this.exchange.first_byte();
                this.sample.push(&chunk);
                this.remaining = this.remaining.map(|left| left.saturating_sub(chunk.len() as u64));
                this.record_if_complete();
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(_))) if this.complete => {
                this.ended = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(err))) => {
                Poll::Ready(this.fail(format!("the model's upstream failed mid-response: {}", error_chain(&*err))))
            }
            Poll::Ready(None) if this.end_marker.is_some_and(|marker| !this.sample.ends_with(marker)) => {
                Poll::Ready(this.fail("the model's upstream ended the stream before it was complete".into()))
            }
            Poll::Ready(None) if this.error_status => {
                let message = this.sample.error_message().unwrap_or_else(|| "upstream error".into());
                this.end("error", Some(message));
                Poll::Ready(None)
            }
            Poll::Ready(None) => {
                this.end("ok", None);
                Poll::Ready(None)
            }
        }
    }
}
