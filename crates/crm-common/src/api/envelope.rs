use axum::Json as AxumJson;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{SecondsFormat, Utc};
use serde::Serialize;
use std::future::Future;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Runs `fut` with `id` as the request id that envelopes built inside it carry. Not an `async fn`:
/// that would hold `fut` twice in its state, and request futures are several KiB.
pub fn with_request_id<F: Future>(id: String, fut: F) -> impl Future<Output = F::Output> {
    REQUEST_ID.scope(id, fut)
}

/// Runs `f` with `id` as the request id that envelopes built inside it carry: for a caller that
/// builds its error response outside any request future.
pub fn in_request<R>(id: String, f: impl FnOnce() -> R) -> R {
    REQUEST_ID.sync_scope(id, f)
}

/// The id of the request being served, or an empty string outside a request.
pub fn request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

/// `{"code", "message", "data", "timestamp", "request_id"}` — the shape of every JSON response.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Envelope<T: Serialize> {
    /// The HTTP status of the response.
    pub code: u16,
    pub message: String,
    pub data: T,
    /// When the response was made (UTC, milliseconds).
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub timestamp: String,
    /// The request's id, also in the `X-Request-ID` header.
    pub request_id: String,
}

impl<T: Serialize> Envelope<T> {
    pub fn new(status: StatusCode, message: impl Into<String>, data: T) -> Self {
        Self {
            code: status.as_u16(),
            message: message.into(),
            data,
            timestamp: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            request_id: request_id(),
        }
    }

    /// The envelope with `code` equal to the HTTP status, as the original API does.
    pub fn into_response_with(self, status: StatusCode) -> Response {
        (status, AxumJson(self)).into_response()
    }
}

/// 200 with `data`.
pub fn ok<T: Serialize>(data: T) -> Response {
    Envelope::new(StatusCode::OK, "success", data).into_response_with(StatusCode::OK)
}

/// 200 with `data` and a specific message.
pub fn ok_message<T: Serialize>(message: &str, data: T) -> Response {
    Envelope::new(StatusCode::OK, message, data).into_response_with(StatusCode::OK)
}

/// 201 with `data`.
pub fn created<T: Serialize>(data: T) -> Response {
    Envelope::new(StatusCode::CREATED, "created", data).into_response_with(StatusCode::CREATED)
}
