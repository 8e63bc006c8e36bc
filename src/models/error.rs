//! What the model service can fail with; the edges map it to HTTP and socket errors (`ApiError`).

use crate::backends::BackendError;
use crate::core::activity::AdmissionError;
use crate::db::DbError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ModelError {
    #[error("no model named '{0}'")]
    NotFound(String),
    /// A name that cannot be a model id (control characters, a path).
    #[error("{0}")]
    BadName(&'static str),
    /// A request path an own backend does not serve (`proxyEndpoints`).
    #[error("{0}")]
    NotForwarded(String),
    /// The llama-server router is down or refused what was asked.
    #[error("{0}")]
    Router(String),
    /// A load that could only happen by unloading a pinned model.
    #[error("{0}")]
    Pinned(String),
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error(transparent)]
    Admission(#[from] AdmissionError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Internal(String),
}

impl From<crate::backends::persist::PersistError> for ModelError {
    fn from(err: crate::backends::persist::PersistError) -> Self {
        Self::Internal(err.to_string())
    }
}
