//! The error policy of every service.
//!
//! Handlers return [`ApiError`]; it maps once to an HTTP status and the standard envelope with
//! `code` equal to that status. Clients see a safe message only: the cause of an internal error is
//! logged with the request id and never serialised. Validation failures answer 400 with the list of
//! field errors in `data`.

use super::envelope::Envelope;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub type ApiResult<T> = Result<T, ApiError>;

/// One invalid input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The field's path in the input, e.g. `email`, `role_ids[0]`, `body`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("request parameter error")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// A duplicate or a stale version; `current` carries the record as it now is, when known.
    #[error("{message}")]
    Conflict { message: String, current: Option<serde_json::Value> },
    #[error("{0}")]
    Gone(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{message}")]
    TooManyRequests { message: String, retry_after_secs: u64 },
    #[error("{0}")]
    Unavailable(String),
    /// An upstream answered with something that is not a valid response (the gateway).
    #[error("{0}")]
    BadGateway(String),
    /// An upstream did not answer in time (the gateway).
    #[error("{0}")]
    GatewayTimeout(String),
    /// Anything unexpected. The cause goes to the log, never to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self::BadRequest(msg.into())
    }
    pub fn unauthorized(msg: impl Into<String>) -> Self {
        Self::Unauthorized(msg.into())
    }
    pub fn forbidden(msg: impl Into<String>) -> Self {
        Self::Forbidden(msg.into())
    }
    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }
    pub fn conflict(msg: impl Into<String>) -> Self {
        Self::Conflict { message: msg.into(), current: None }
    }
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }
    /// The request body is over the service's limit.
    pub fn payload_too_large() -> Self {
        Self::PayloadTooLarge("request body too large".into())
    }
    /// A body that is not JSON where JSON is expected.
    pub fn unsupported_media_type() -> Self {
        Self::UnsupportedMediaType("unsupported media type: send application/json".into())
    }
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::Validation(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Gone(_) => StatusCode::GONE,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::GatewayTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = match &self {
            Self::TooManyRequests { retry_after_secs, .. } => Some(*retry_after_secs),
            Self::Unavailable(_) => Some(5),
            _ => None,
        };
        let mut response = match self {
            Self::Validation(fields) => {
                Envelope::new(status, "request parameter error", fields).into_response_with(status)
            }
            Self::Conflict { message, current } => Envelope::new(status, message, current).into_response_with(status),
            Self::Internal(cause) => {
                tracing::error!(error = %cause, "internal error");
                Envelope::new(status, "internal server error", ()).into_response_with(status)
            }
            other => Envelope::new(status, other.to_string(), ()).into_response_with(status),
        };
        if let Some(secs) = retry_after
            && let Ok(value) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(err: serde_json::Error) -> Self {
        Self::internal(err)
    }
}
