//! Temporary links: share one resource (an order, a customer, a service account) through a
//! random token that opens a limited number of times, perhaps until a date, without signing in.
//! The public `GET /temporary-links/{token}` is in the gateway's public paths.

mod dto;
mod handlers;
pub mod model;
mod rules;
pub mod service;

use crate::AppState;
use axum::Router;
use axum::routing::{get, put};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/temporary-links", get(handlers::list).post(handlers::create))
        .route("/temporary-links/{token}", get(handlers::open))
        .route("/temporary-links/{link_id}/disable", put(handlers::disable))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::create, handlers::open, handlers::list, handlers::disable))]
pub struct Api;
