//! Time-bounded prices — generic (`organization_id` null) or one vendor's — and their history.
//! For one (product, organization, price type, currency) the validity periods `[from, to)`
//! never overlap, even under concurrent writes; every create, change and delete writes a
//! `product_price_history` row in the same transaction. Approving a price is a BANTU
//! administrator's `price.approve`.

mod dto;
pub use dto::PriceItem;
mod handlers;
pub mod model;
pub mod service;

use crate::AppState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/prices", get(handlers::list).post(handlers::create))
        .route("/prices/history/{product_id}", get(handlers::history))
        .route("/prices/{id}", axum::routing::put(handlers::update).delete(handlers::delete))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::list, handlers::create, handlers::update, handlers::delete, handlers::history))]
pub struct Api;
