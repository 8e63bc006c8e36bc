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
    #[error("no model named '{0}'")]
    ModelNotFound(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("unknown event '{0}'")]
    UnknownEvent(String),
    /// The llama-server router could not do what was asked (not found, port taken, failed to start).
    #[error("{0}")]
    Router(String),
    /// Storage or I/O failure; details are logged, the client gets a short message.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadRequest { field: field.into(), message: message.into() }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "BAD_REQUEST",
            Self::NotFound(_) => "NOT_FOUND",
            Self::ModelNotFound(_) => "MODEL_NOT_FOUND",
            Self::Unauthorized(_) => "UNAUTHORIZED",
            Self::UnknownEvent(_) => "UNKNOWN_EVENT",
            Self::Router(_) => "ROUTER_ERROR",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// The `error` object of a socket reply.
    pub fn to_socket(&self) -> Value {
        let mut err = json!({"code": self.code(), "message": self.to_string()});
        if let Self::BadRequest { field, .. } = self {
            err["field"] = json!(field);
        }
        err
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::NotFound(_) | Self::ModelNotFound(_) | Self::UnknownEvent(_) => StatusCode::NOT_FOUND,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Router(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn openai_type(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "invalid_request_error",
            Self::NotFound(_) | Self::ModelNotFound(_) | Self::UnknownEvent(_) => "not_found_error",
            Self::Unauthorized(_) => "authentication_error",
            Self::Router(_) | Self::Internal(_) => "server_error",
        }
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(err: crate::db::DbError) -> Self {
        tracing::error!(error = %err, "database call failed");
        Self::Internal("database error; see the server log".into())
    }
}

/// OpenAI's shape: `{"error":{"message","type","code"}}`.
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"message": self.to_string(), "type": self.openai_type(), "code": self.code().to_ascii_lowercase()}});
        (self.status(), axum::Json(body)).into_response()
    }
}

/// How a JSON value's type reads in an error message ("a string", "an object").
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
