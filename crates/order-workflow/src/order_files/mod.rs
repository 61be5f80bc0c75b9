//! Order files: passports, visas and documents collected while delivering an order, per item and
//! per stage, verified by staff. Uploads are streamed to disk under the service's files
//! directory; every answer carries a short-lived signed `file_url` a browser opens without a
//! token ([`signing`]). Served at the original's flat paths (`/order-files…`) and the real
//! client's nested ones (`/orders/{id}/files…`) by the same service functions.

mod dto;
mod handlers;
pub mod model;
pub mod service;
pub mod signing;

pub use dto::FileView;

use crate::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use crm_common::api::upload::MAX_FILE_BYTES;

/// The request-body limit of the two upload routes: a file of the limit with its form around
/// it. The service's own limit (`CRM_BODY_LIMIT_BYTES`) stays on every other route.
pub const UPLOAD_BODY_LIMIT: usize = MAX_FILE_BYTES + 64 * 1024;

pub fn routes() -> Router<AppState> {
    let upload_limit = DefaultBodyLimit::max(UPLOAD_BODY_LIMIT);
    Router::new()
        .route("/order-files/upload", post(handlers::file_upload_flat).layer(upload_limit))
        .route(
            "/order-files/{file_id}",
            get(handlers::file_get_flat).put(handlers::file_update_flat).delete(handlers::file_delete_flat),
        )
        .route("/order-files/{file_id}/url", get(handlers::file_url))
        .route("/order-files/order/{id}/files", get(handlers::file_list_flat))
        .route(
            "/orders/{id}/files",
            get(handlers::file_list_nested).post(handlers::file_upload_nested).layer(upload_limit),
        )
        .route(
            "/orders/{id}/files/{file_id}",
            get(handlers::file_get_nested).put(handlers::file_update_nested).delete(handlers::file_delete_nested),
        )
        .route("/orders/{id}/files/{file_id}/verify", post(handlers::file_verify))
        .route("/orders/{id}/files/{file_id}/download", get(handlers::file_download))
        .route("/orders/{id}/stages/{stage_id}/files", get(handlers::file_stage_files))
        .route("/orders/{id}/items/{item_id}/files", get(handlers::file_item_files))
        .route("/files/signed/{file_id}", get(handlers::file_signed))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::file_upload_flat,
    handlers::file_upload_nested,
    handlers::file_get_flat,
    handlers::file_get_nested,
    handlers::file_update_flat,
    handlers::file_update_nested,
    handlers::file_verify,
    handlers::file_delete_flat,
    handlers::file_delete_nested,
    handlers::file_list_flat,
    handlers::file_list_nested,
    handlers::file_stage_files,
    handlers::file_item_files,
    handlers::file_url,
    handlers::file_download,
    handlers::file_signed
))]
pub struct Api;
