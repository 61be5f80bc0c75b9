//! The audit log: storage of the events every service captures (ingest over HTTP, or straight
//! from foundation's own outbox), search, per-user and per-resource history, and export.

mod dto;
pub(crate) mod export;
mod handlers;
pub mod model;
pub mod service;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit-logs", get(handlers::list))
        .route("/audit-logs/ingest", post(handlers::ingest))
        .route("/audit-logs/export", post(export::export))
        .route("/audit-logs/users/{user_id}", get(handlers::by_user))
        .route("/audit-logs/resources/{resource_type}/{resource_id}", get(handlers::by_resource))
        .route("/audit-logs/{audit_log_id}", get(handlers::get))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::list,
    handlers::ingest,
    export::export,
    handlers::by_user,
    handlers::by_resource,
    handlers::get,
))]
pub struct Api;
