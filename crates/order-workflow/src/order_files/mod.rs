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
        .route("/order-files/upload", post(handlers::upload_flat).layer(upload_limit))
        .route(
            "/order-files/{file_id}",
            get(handlers::get_flat).put(handlers::update_flat).delete(handlers::delete_flat),
        )
        .route("/order-files/{file_id}/url", get(handlers::url))
        .route("/order-files/order/{id}/files", get(handlers::list_flat))
        .route("/orders/{id}/files", get(handlers::list_nested).post(handlers::upload_nested).layer(upload_limit))
        .route(
            "/orders/{id}/files/{file_id}",
            get(handlers::get_nested).put(handlers::update_nested).delete(handlers::delete_nested),
        )
        .route("/orders/{id}/files/{file_id}/verify", post(handlers::verify))
        .route("/orders/{id}/files/{file_id}/download", get(handlers::download))
        .route("/orders/{id}/stages/{stage_id}/files", get(handlers::stage_files))
        .route("/orders/{id}/items/{item_id}/files", get(handlers::item_files))
        .route("/files/signed/{file_id}", get(handlers::signed))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::upload_flat,
    handlers::upload_nested,
    handlers::get_flat,
    handlers::get_nested,
    handlers::update_flat,
    handlers::update_nested,
    handlers::verify,
    handlers::delete_flat,
    handlers::delete_nested,
    handlers::list_flat,
    handlers::list_nested,
    handlers::stage_files,
    handlers::item_files,
    handlers::url,
    handlers::download,
    handlers::signed
))]
pub struct Api;
