//! Work logs (from seed 002): members record their day's work with a self rating; their
//! organization's managers (or holders of `worklog.rate`) add a supervisor rating.

mod dto;
mod export;
mod handlers;
pub mod model;
pub mod service;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/worklogs", post(handlers::create).get(handlers::list))
        .route("/worklogs/{worklog_id}", get(handlers::get).put(handlers::update))
        .route("/worklogs/export", post(export::export))
        .route("/worklogs/{worklog_id}/rate", post(handlers::rate))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::create, handlers::list, handlers::get, handlers::update, handlers::rate, export::export))]
pub struct Api;
