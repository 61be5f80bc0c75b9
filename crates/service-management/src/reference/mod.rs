//! Reference data of the customer side, read by every signed-in user in the caller's language
//! (`lang=zh|id`): industries, customer sources, customer levels and follow-up statuses. Levels
//! and statuses are also served at the original's `/api/order-workflow/…` paths.

pub(crate) mod handlers;
pub mod model;
pub mod seed;

use crate::AppState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/industries", get(handlers::industries))
        .route("/customer-sources", get(handlers::sources))
        .route("/customer-levels", get(handlers::levels))
        .route("/follow-up-statuses", get(handlers::statuses))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::industries,
    handlers::sources,
    handlers::levels,
    handlers::statuses,
    handlers::legacy_levels,
    handlers::legacy_statuses
))]
pub struct Api;
