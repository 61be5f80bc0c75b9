//! Internal aggregates for analytics-monitoring (DESIGN §12): users' activity and organizations'
//! summary, grouped and counted here, in foundation's own database. Called with the end user's
//! token like the `/lookup/*` endpoints; scoped to the caller's organization (a platform
//! administrator: all, or the one named by `organization_id`).

mod handlers;
pub mod service;

use crate::AppState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stats/users/activity", get(handlers::users_activity))
        .route("/stats/organizations/summary", get(handlers::organizations_summary))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::users_activity, handlers::organizations_summary))]
pub struct Api;
