//! Internal aggregates for analytics-monitoring (DESIGN §12): customers' summary and daily
//! creations, service records' statistics, grouped and counted here, in service-management's own
//! database. Called with the end user's token like the `/lookup/*` endpoints; scoped to the
//! caller's organization (a platform administrator: all, or the one named by `organization_id`).

mod handlers;
pub mod service;

use crate::AppState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stats/customers/summary", get(handlers::customers_summary))
        .route("/stats/customers/created", get(handlers::customers_created))
        .route("/stats/service-records", get(handlers::service_records))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::customers_summary, handlers::customers_created, handlers::service_records))]
pub struct Api;
