//! Service types: the kinds of service BANTU sells (`LANDING_VISA`, `BUSINESS_VISA`, …). Codes
//! are unique and fixed once created; a type still used by products cannot be deleted.

mod dto;
mod handlers;
pub mod model;
pub mod service;

use crate::AppState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/service-types", get(handlers::list).post(handlers::create))
        .route("/service-types/code/{code}", get(handlers::by_code))
        .route("/service-types/{id}", get(handlers::get).put(handlers::update).delete(handlers::delete))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::create,
    handlers::list,
    handlers::by_code,
    handlers::get,
    handlers::update,
    handlers::delete
))]
pub struct Api;
