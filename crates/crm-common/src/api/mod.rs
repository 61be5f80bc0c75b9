//! The response envelope, the one error type, and request extractors that report bad input in the
//! envelope instead of axum's plain-text rejections.

mod envelope;
mod error;
mod extract;
pub mod money;
#[cfg(feature = "openapi")]
pub mod openapi;
mod pagination;
pub mod patch;
pub mod upload;
pub mod validate;

pub use envelope::{Envelope, created, in_request, ok, ok_message, request_id, with_request_id};
pub use error::{ApiError, ApiResult, FieldError};
pub use extract::{Json, Path, Query, parse_json};
pub use pagination::{Page, PageParams, RecordsPage};
