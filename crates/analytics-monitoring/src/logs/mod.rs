//! Log search (seed 001 §3) over the log store every service ships to (crm-common's `logstore`:
//! MongoDB when `MONGODB_URL` is set, else the SQLite file all services of a host share):
//! filtered, counted and paginated in the database, newest first. Every tenant's requests are in
//! the logs, so this is for platform administrators with `logs.view`.

pub mod dto;
mod handlers;

use crate::AppState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/logs/query", get(handlers::query_get).post(handlers::query_post))
        .route("/logs/statistics", get(handlers::statistics))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::query_get, handlers::query_post, handlers::statistics))]
pub struct Api;
