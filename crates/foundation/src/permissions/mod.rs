//! Permission points (`resource.action`) and their grants to roles.

pub mod by_menu;
mod handlers;
pub mod model;
pub mod service;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/permissions", post(handlers::create).get(handlers::list))
        .route("/permissions/{permission_id}", get(handlers::get).put(handlers::update))
        .route("/permissions/roles/{role_id}/assign", post(handlers::assign))
        .route("/permissions/roles/{role_id}", get(handlers::of_role))
        .route("/permissions/assign", post(handlers::assign_by_menu))
        .route("/permissions/role/{role_id}", get(handlers::of_role_by_menu))
        .route("/permissions/users/{user_id}/info", get(handlers::user_info))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::create,
    handlers::list,
    handlers::get,
    handlers::update,
    handlers::assign,
    handlers::of_role,
    handlers::assign_by_menu,
    handlers::of_role_by_menu,
    handlers::user_info,
))]
pub struct Api;
