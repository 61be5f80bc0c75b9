//! Menus: the navigation tree of the admin frontend, each entry optionally gated by permissions.
//! Menus are global, so only platform administrators change them; every user reads the entries
//! their permissions open.

pub mod dto;
mod handlers;
pub mod model;
pub mod service;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/menus", post(handlers::create))
        .route("/menus/tree/list", get(handlers::tree))
        .route("/menus/user", get(handlers::mine))
        .route("/menus/users/{user_id}/accessible", get(handlers::accessible))
        .route("/menus/{menu_id}", get(handlers::get).put(handlers::update).delete(handlers::delete))
        .route("/menus/{menu_id}/permissions/assign", post(handlers::assign))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::create,
    handlers::tree,
    handlers::mine,
    handlers::accessible,
    handlers::get,
    handlers::update,
    handlers::delete,
    handlers::assign,
))]
pub struct Api;
