//! Business analytics (seed 001 §1, seed 003's funnel): each endpoint asks the owner of the data
//! for its aggregate (foundation, service-management, order-workflow `/stats/*`, with the
//! caller's token), shapes it as seed 001 documents and caches it per result and organization
//! (`crate::flight`). No table of another service is read.

pub mod dto;
mod handlers;
pub mod rules;

use crate::AppState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/analytics/customers/summary", get(handlers::customers_summary))
        .route("/analytics/customers/trend", get(handlers::customers_trend))
        .route("/analytics/orders/summary", get(handlers::orders_summary))
        .route("/analytics/orders/revenue", get(handlers::orders_revenue))
        .route("/analytics/service-records/statistics", get(handlers::service_records))
        .route("/analytics/users/activity", get(handlers::users_activity))
        .route("/analytics/organizations/summary", get(handlers::organizations_summary))
        .route("/analytics/opportunities/summary", get(handlers::opportunities_summary))
        .route("/analytics/opportunities/funnel", get(handlers::opportunities_funnel))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::customers_summary,
    handlers::customers_trend,
    handlers::orders_summary,
    handlers::orders_revenue,
    handlers::service_records,
    handlers::users_activity,
    handlers::organizations_summary,
    handlers::opportunities_summary,
    handlers::opportunities_funnel,
))]
pub struct Api;
