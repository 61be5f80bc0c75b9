//! Export tasks (from seed 002): files made in the background — so far work-log exports — with
//! their progress, and the download of the finished file.

mod handlers;
pub mod model;
pub mod service;

use crate::AppState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new().route("/tasks/{task_id}", get(handlers::get)).route("/tasks/{task_id}/file", get(handlers::file))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::get, handlers::file))]
pub struct Api;
