//! Product dependencies: product A requires (or recommends) product B — a work visa requires a
//! company registration. Served at the original's full path,
//! `/api/order-workflow/product-dependencies`, which the gateway sends here: the data is the
//! catalogue's, the path is the one clients already call. No self-dependency, no duplicate pair,
//! no cycle. `validate` and `calculate-order` are what order-workflow calls when products are
//! combined into one opportunity or order.

mod dto;
mod handlers;
pub mod model;
pub mod service;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/product-dependencies", get(handlers::list).post(handlers::create))
        .route("/product-dependencies/validate", post(handlers::validate))
        .route("/product-dependencies/calculate-order", post(handlers::calculate_order))
        // The same position holds a product id for GET and a dependency id for PUT/DELETE, as
        // in the original.
        .route("/product-dependencies/{id}", get(handlers::of_product).put(handlers::update).delete(handlers::delete))
        .route("/product-dependencies/{id}/dependents", get(handlers::dependents))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::list,
    handlers::create,
    handlers::validate,
    handlers::calculate_order,
    handlers::of_product,
    handlers::dependents,
    handlers::update,
    handlers::delete
))]
pub struct Api;
