//! The original's paths under order-workflow's prefix that belong to this service's data: product
//! dependencies (the `dependencies` module declares those), customer levels and follow-up
//! statuses. The gateway's default prefix overrides route them here.

use crate::AppState;
use crate::reference::handlers;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customer-levels", get(handlers::legacy_levels))
        .route("/follow-up-statuses", get(handlers::legacy_statuses))
}
