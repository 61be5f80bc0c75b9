//! Products (the sellable services): their delivery terms, four price levels in IDR and CNY,
//! the profits derived from the IDR prices, and their sales state; and the products a vendor
//! organization offers (`/products/vendors/{vendor_id}`).

mod dto;
mod handlers;
pub mod model;
pub mod service;

use crate::AppState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/products", get(handlers::list).post(handlers::create))
        .route("/products/vendors/{vendor_id}", get(handlers::by_vendor))
        .route("/products/{id}", get(handlers::get).put(handlers::update).delete(handlers::delete))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::create,
    handlers::list,
    handlers::by_vendor,
    handlers::get,
    handlers::update,
    handlers::delete
))]
pub struct Api;
