//! Suppliers: vendor (and BANTU's internal) organizations as the catalogue sees them — who
//! offers which product, at what cost. The organizations live in foundation; their offers are
//! `vendor_products` rows here. A vendor's staff see and manage only their own offers (another
//! vendor's are a 404); BANTU staff read all; at most one primary supplier per product.

mod dto;
mod handlers;
pub mod model;
pub mod service;

use crate::AppState;
use axum::Router;
use axum::routing::{delete, get, post, put};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/suppliers", get(handlers::list))
        .route("/suppliers/{id}", get(handlers::get))
        .route("/suppliers/{id}/services", get(handlers::services))
        .route("/suppliers/{id}/services/{product_id}/prices", get(handlers::service_prices))
        .route("/suppliers/{id}/services/{product_id}/price", put(handlers::set_service_price))
        .route("/suppliers/{id}/products/batch", post(handlers::batch_add))
        .route("/suppliers/{id}/products/batch-prices", put(handlers::batch_prices))
        .route("/suppliers/{id}/products/existing", get(handlers::existing))
        .route("/suppliers/{id}/products/{product_id}", delete(handlers::remove))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::list,
    handlers::get,
    handlers::services,
    handlers::service_prices,
    handlers::set_service_price,
    handlers::batch_add,
    handlers::batch_prices,
    handlers::existing,
    handlers::remove
))]
pub struct Api;
