//! What the other services ask foundation about their callers: the caller's current standing
//! (`GET /auth/principal`, which every other service's identity resolution calls with the caller's
//! own token), and batched id → name lookups of users and organizations for the names their
//! answers show (`owner_user_name`, a vendor's name) — one call per page, never one per row.

mod handlers;

use crate::AppState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/principal", get(handlers::principal))
        .route("/lookup/users", get(handlers::users))
        .route("/lookup/organizations", get(handlers::organizations))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::principal, handlers::users, handlers::organizations))]
pub struct Api;
