//! What the other services ask foundation about their callers: the caller's current standing
//! (`GET /auth/principal`, which every other service's identity resolution calls with the caller's
//! own token), batched id → name lookups of users and organizations for the names their
//! answers show (`owner_user_name`, a vendor's name) — one call per page, never one per row — and
//! the colleagues holding a role (whom order-workflow tells of a task given to that role).

mod handlers;

use crate::AppState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/principal", get(handlers::principal))
        .route("/lookup/users", get(handlers::users))
        .route("/lookup/role-members", get(handlers::role_members))
        .route("/lookup/organizations", get(handlers::organizations))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::principal, handlers::users, handlers::role_members, handlers::organizations))]
pub struct Api;
