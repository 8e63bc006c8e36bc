//! The error a client sees: one enum, mapped once to a socket reply and once to an OpenAI-shaped HTTP body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum ApiError {
    /// A missing or malformed field; `field` is its path in the payload.
    #[error("{field}: {message}")]
    BadRequest { field: String, message: String },
    #[error("{0}")]
    NotFound(String),
    /// A write based on a version that is no longer current (the init file changed since it was loaded).
    #[error("{0}")]
    Conflict(String),
    /// A method the path does not take (the response carries `Allow`).
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("no model named '{0}'")]
    ModelNotFound(String),
    #[error("{0}")]
    Unauthorized(String),
    /// Refused whoever asks: a foreign origin or host name, or a key that needs the admin token.
    /// `field` names the config key or payload field that decides it.
    #[error("{field}: {message}")]
    Forbidden { field: String, message: String },
    /// The request body did not arrive within `proxy.bodyTimeoutMs`.
    #[error("the request body did not arrive within {0} ms (proxy.bodyTimeoutMs)")]
    BodyTimeout(u64),
    /// A client with too many requests in flight on one connection.
    #[error("{0}")]
    Busy(String),
    #[error("unknown event '{0}'")]
    UnknownEvent(String),
    /// The llama-server router could not do what was asked (not found, port taken, failed to start).
    #[error("{0}")]
    Router(String),
    /// A `/v1` request without a valid API key (`security.apiKeys`).
    #[error("{0}")]
    InvalidApiKey(String),
    #[error("request body is larger than proxy.maxBodyBytes ({0} bytes)")]
    TooLarge(u64),
    /// Every slot of the model is busy and its queue is full.
    #[error("model '{model}' is busy: {queued} requests already waiting (proxy.queueSize); retry later")]
    QueueFull { model: String, queued: usize, retry_after: u64 },
    /// Waited in the model's queue longer than `proxy.queueTimeoutMs`.
    #[error("model '{model}' stayed busy for {waited_ms} ms (proxy.queueTimeoutMs); retry later")]
    QueueTimeout { model: String, waited_ms: u64, retry_after: u64 },
    /// One of our own backends could not be started (the message says why, with its last output).
    #[error("{0}")]
    Backend(String),
    /// The model's upstream failed or could not be reached.
    #[error("{0}")]
    Upstream(String),
    /// The Hugging Face hub (or the `HF_ENDPOINT` mirror) refused or failed a request.
    #[error("{0}")]
    Hub(String),
    /// Storage or I/O failure; details are logged, the client gets a short message.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadRequest { field: field.into(), message: message.into() }
    }

    pub fn forbidden(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Forbidden { field: field.into(), message: message.into() }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "BAD_REQUEST",
            Self::NotFound(_) => "NOT_FOUND",
            Self::MethodNotAllowed(_) => "METHOD_NOT_ALLOWED",
            Self::Conflict(_) => "CONFLICT",
            Self::ModelNotFound(_) => "MODEL_NOT_FOUND",
            Self::Unauthorized(_) => "UNAUTHORIZED",
            Self::Forbidden { .. } => "FORBIDDEN",
            Self::BodyTimeout(_) => "REQUEST_TIMEOUT",
            Self::Busy(_) => "BUSY",
            Self::UnknownEvent(_) => "UNKNOWN_EVENT",
            Self::Router(_) => "ROUTER_ERROR",
            Self::InvalidApiKey(_) => "INVALID_API_KEY",
            Self::TooLarge(_) => "PAYLOAD_TOO_LARGE",
            Self::QueueFull { .. } => "QUEUE_FULL",
            Self::QueueTimeout { .. } => "QUEUE_TIMEOUT",
            Self::Upstream(_) => "UPSTREAM_ERROR",
            Self::Backend(_) => "BACKEND_ERROR",
            Self::Hub(_) => "HUB_ERROR",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// The `error` object of a socket reply.
    pub fn to_socket(&self) -> Value {
        let mut err = json!({"code": self.code(), "message": self.to_string()});
        if let Self::BadRequest { field, .. } | Self::Forbidden { field, .. } = self {
            err["field"] = json!(field);
        }
        err
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::NotFound(_) | Self::ModelNotFound(_) | Self::UnknownEvent(_) => StatusCode::NOT_FOUND,
            Self::Unauthorized(_) | Self::InvalidApiKey(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::QueueFull { .. } | Self::Busy(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Router(_) | Self::QueueTimeout { .. } | Self::Backend(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Upstream(_) | Self::Hub(_) => StatusCode::BAD_GATEWAY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn openai_type(&self) -> &'static str {
        match self {
            Self::BadRequest { .. }
            | Self::TooLarge(_)
            | Self::BodyTimeout(_)
            | Self::MethodNotAllowed(_)
            | Self::Conflict(_) => "invalid_request_error",
            Self::Forbidden { .. } => "permission_error",
            Self::NotFound(_) | Self::ModelNotFound(_) | Self::UnknownEvent(_) => "not_found_error",
            Self::Unauthorized(_) | Self::InvalidApiKey(_) => "authentication_error",
            Self::QueueFull { .. } | Self::Busy(_) => "rate_limit_error",
            Self::Router(_)
            | Self::Internal(_)
            | Self::QueueTimeout { .. }
            | Self::Upstream(_)
            | Self::Backend(_)
            | Self::Hub(_) => "server_error",
        }
    }

    /// Seconds a client should wait before retrying, for errors that say "busy".
    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::QueueFull { retry_after, .. } | Self::QueueTimeout { retry_after, .. } => Some(*retry_after),
            Self::Router(_) => Some(2),
            _ => None,
        }
    }

    /// The OpenAI-shaped body: `{"error":{"message","type","code"}}`.
    pub fn openai_body(&self) -> Value {
        let param = match self {
            Self::BadRequest { field, .. } | Self::Forbidden { field, .. } => json!(field),
            _ => Value::Null,
        };
        json!({"error": {"message": self.to_string(), "type": self.openai_type(), "param": param, "code": self.code().to_ascii_lowercase()}})
    }
}

impl From<crate::backends::BackendError> for ApiError {
    fn from(err: crate::backends::BackendError) -> Self {
        match err {
            crate::backends::BackendError::NotConfigured(model) => Self::ModelNotFound(model),
            pinned @ crate::backends::BackendError::Pinned { .. } => Self::Conflict(pinned.to_string()),
            other => Self::Backend(other.to_string()),
        }
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(err: crate::db::DbError) -> Self {
        tracing::error!(error = %err, "database call failed");
        Self::Internal("database error; see the server log".into())
    }
}

impl ApiError {
    /// Anthropic's shape, for its Messages API (`/v1/messages`):
    /// `{"type":"error","error":{"type","message"}}`, the type named by the status as Anthropic names it.
    pub fn anthropic_body(&self) -> Value {
        let kind = match self.status().as_u16() {
            400 | 405 | 408 => "invalid_request_error",
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            413 => "request_too_large",
            429 => "rate_limit_error",
            503 => "overloaded_error",
            _ => "api_error",
        };
        json!({"type": "error", "error": {"type": kind, "message": self.to_string()}})
    }

    /// The response in Anthropic's shape (status and `Retry-After` as [`IntoResponse`] gives them).
    pub fn into_anthropic_response(self) -> Response {
        let body = self.anthropic_body();
        self.respond_with(body)
    }

    /// The response in Ollama's shape, `{"error": message}` (status and `Retry-After` as [`IntoResponse`]).
    pub fn into_ollama_response(self) -> Response {
        let body = json!({"error": self.to_string()});
        self.respond_with(body)
    }

    fn respond_with(self, body: Value) -> Response {
        let mut response = (self.status(), axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after() {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.openai_body();
        self.respond_with(body)
    }
}

pub use crate::core::json_kind;

impl From<crate::core::activity::AdmissionError> for ApiError {
    fn from(err: crate::core::activity::AdmissionError) -> Self {
        use crate::core::activity::AdmissionError as E;
        match err {
            E::QueueFull { model, queued, retry_after } => Self::QueueFull { model, queued, retry_after },
            E::QueueTimeout { model, waited_ms, retry_after } => Self::QueueTimeout { model, waited_ms, retry_after },
            E::Closed => Self::Internal(err.to_string()),
        }
    }
}

impl From<crate::models::ModelError> for ApiError {
    fn from(err: crate::models::ModelError) -> Self {
        use crate::models::ModelError as E;
        match err {
            E::NotFound(id) => Self::ModelNotFound(id),
            E::BadName(message) => Self::bad("model", message),
            E::NotForwarded(message) => Self::NotFound(message),
            E::Router(message) => Self::Router(message),
            E::Pinned(message) => Self::Conflict(message),
            E::Backend(err) => err.into(),
            E::Admission(err) => err.into(),
            E::Db(err) => err.into(),
            E::Internal(message) => Self::Internal(message),
        }
    }
}

impl From<crate::backends::persist::PersistError> for ApiError {
    fn from(err: crate::backends::persist::PersistError) -> Self {
        use crate::backends::persist::PersistError as E;
        match err {
            E::WouldNotLoad(message) => Self::bad("config", message),
            E::Write(_) => Self::Internal(err.to_string()),
        }
    }
}

impl From<crate::settings::SettingsError> for ApiError {
    fn from(err: crate::settings::SettingsError) -> Self {
        use crate::settings::SettingsError as E;
        match err {
            E::Invalid { field, message } => Self::bad(field, message),
            E::Db(err) => err.into(),
        }
    }
}

impl From<crate::nodes::RouteError> for ApiError {
    fn from(err: crate::nodes::RouteError) -> Self {
        match err {
            crate::nodes::RouteError::Unavailable(message) => Self::Upstream(message),
            crate::nodes::RouteError::NoModel(name) => Self::ModelNotFound(name),
        }
    }
}

impl From<crate::nodes::ControlError> for ApiError {
    fn from(err: crate::nodes::ControlError) -> Self {
        match err {
            crate::nodes::ControlError::NoNode(_) => Self::bad("node", err.to_string()),
            other => Self::Upstream(other.to_string()),
        }
    }
}
