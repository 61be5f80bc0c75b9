//! Internal aggregates for analytics-monitoring (DESIGN §12): orders' summary, daily revenue,
//! opportunities' summary and funnel, grouped and summed here, in order-workflow's own database.
//! Called with the end user's token like the `/lookup/*` endpoints; scoped to the caller's
//! organization (a platform administrator: all, or the one named by `organization_id`).

mod handlers;
pub mod service;

use crate::AppState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stats/orders/summary", get(handlers::orders_summary))
        .route("/stats/orders/revenue", get(handlers::revenue))
        .route("/stats/opportunities/summary", get(handlers::opportunities_summary))
        .route("/stats/opportunities/funnel", get(handlers::funnel))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::orders_summary, handlers::revenue, handlers::opportunities_summary, handlers::funnel))]
pub struct Api;
