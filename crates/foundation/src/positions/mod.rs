//! Positions (from seed 002): an organization's job hierarchy ("CEO > CTO > Senior developer").
//! Members of the organization hold a position through `organization_employees.position_id`.

mod dto;
mod handlers;
pub mod model;
pub mod service;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/positions", post(handlers::create).get(handlers::list))
        .route("/positions/{position_id}", get(handlers::get).put(handlers::update).delete(handlers::delete))
        .route("/positions/{position_id}/move", post(handlers::move_to))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::create,
    handlers::list,
    handlers::get,
    handlers::update,
    handlers::delete,
    handlers::move_to,
))]
pub struct Api;
