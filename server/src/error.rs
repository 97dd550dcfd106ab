//! The relay's error type and the one place that decides what a client sees of it.
//! Details of internal failures go to the log; the client gets a code and a short message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use natter_protocol::http::HttpError;
use natter_protocol::{ErrorCode, WireError};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A refusal the client caused (bad input, not allowed, …); shown as is.
    #[error(transparent)]
    Client(#[from] WireError),
    #[error("username is taken")]
    UsernameTaken,
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Anything else that is our fault, not the client's (hashing, a stopped task, …).
    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Client(WireError::new(ErrorCode::Forbidden, message))
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::Client(WireError::new(ErrorCode::NotFound, message))
    }
    pub fn unauthorized() -> Self {
        Self::Client(WireError::new(ErrorCode::Unauthorized, "unauthorized"))
    }
    pub fn rate_limited() -> Self {
        Self::Client(WireError::new(
            ErrorCode::RateLimited,
            "too many requests, slow down",
        ))
    }

    /// What the client is told; internal failures are logged here, once.
    pub fn to_wire(&self) -> WireError {
        match self {
            Self::Client(e) => e.clone(),
            Self::UsernameTaken => WireError::invalid("username is taken"),
            Self::Store(_) | Self::Internal(_) => {
                tracing::error!(error = %self, "internal error");
                WireError::new(ErrorCode::Internal, "internal error")
            }
        }
    }

    fn status(&self, code: ErrorCode) -> StatusCode {
        match (self, code) {
            (Self::UsernameTaken, _) => StatusCode::CONFLICT,
            (_, ErrorCode::Unauthorized) => StatusCode::UNAUTHORIZED,
            (_, ErrorCode::Forbidden) => StatusCode::FORBIDDEN,
            (_, ErrorCode::NotFound) => StatusCode::NOT_FOUND,
            (_, ErrorCode::Invalid) => StatusCode::BAD_REQUEST,
            (_, ErrorCode::TooLarge) => StatusCode::PAYLOAD_TOO_LARGE,
            (_, ErrorCode::RateLimited) => StatusCode::TOO_MANY_REQUESTS,
            (_, ErrorCode::Internal) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let error = self.to_wire();
        let status = self.status(error.code);
        (status, Json(HttpError { error })).into_response()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
