//! Roles: global codes that carry permissions. The five preset roles always exist.

mod handlers;
pub mod model;

use crate::AppState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/roles", get(handlers::list).post(handlers::create))
        .route("/roles/{role_id}", get(handlers::get).put(handlers::update).delete(handlers::delete))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::list, handlers::create, handlers::get, handlers::update, handlers::delete))]
pub struct Api;
