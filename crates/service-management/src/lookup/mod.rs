//! Batched id → name lookups of this service's records for the other services' answers
//! (`customer_name`, `product_name` in order-workflow): one call per page, never one per row.
//! Shaped like foundation's `/lookup/users`: `?ids=a,b,c` in, an array of the records the caller
//! may see out; unknown and hidden ids are simply absent.

mod handlers;

use crate::AppState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/lookup/customers", get(handlers::customers))
        .route("/lookup/products", get(handlers::products))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::customers, handlers::products))]
pub struct Api;
