//! Extractors that turn every kind of bad input into a 400/413/415 envelope that names the field.

use super::error::{ApiError, FieldError};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A JSON body, parsed with the failing field's path reported (`role_ids[2]: invalid type …`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if let Some(ct) = req.headers().get(CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
            if !(ct.starts_with("application/json") || ct.contains("+json")) {
                return Err(ApiError::unsupported_media_type());
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(bytes_rejection)?;
        parse_json(&bytes).map(Json)
    }
}

/// Parses JSON bytes into `T`, naming the offending field on failure.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::field("body", "request body is required"));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::Validation(vec![FieldError::new("body", "malformed JSON")]);
        }
        let field = if path == "." || path.is_empty() { "body".to_owned() } else { path };
        let message = strip_position(&inner.to_string());
        let field = missing_field(&message).map_or(field.clone(), |m| join_path(&field, m));
        ApiError::Validation(vec![FieldError::new(field, message)])
    })
}

fn bytes_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large()
    } else {
        ApiError::bad_request("could not read the request body")
    }
}

/// serde_json appends " at line 1 column 7"; the client needs the field, not the byte offset.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(idx) => message[..idx].to_owned(),
        None => message.to_owned(),
    }
}

fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

fn join_path(base: &str, field: &str) -> String {
    if base == "body" { field.to_owned() } else { format!("{base}.{field}") }
}

/// Query parameters; a wrong type answers 400 naming the parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de).map(Query).map_err(|err| {
            let path = err.path().to_string();
            let message = err.into_inner().to_string();
            let field = missing_field(&message)
                .map(str::to_owned)
                .unwrap_or_else(|| if path == "." { "query".to_owned() } else { path });
            ApiError::Validation(vec![FieldError::new(field, message)])
        })
    }
}

/// Path parameters; a malformed id answers 400 naming the parameter instead of a plain-text 400.
#[derive(Debug, Clone, Copy)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => {
                use axum::extract::rejection::PathRejection;
                let message = match &rejection {
                    PathRejection::FailedToDeserializePathParams(e) => e.body_text(),
                    other => other.body_text(),
                };
                let field = message
                    .split('`')
                    .nth(1)
                    .filter(|_| message.contains("parse parameter"))
                    .unwrap_or("path")
                    .to_owned();
                Err(ApiError::Validation(vec![FieldError::new(field, "invalid identifier")]))
            }
        }
    }
}
