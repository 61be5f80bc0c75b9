//! Uploaded files (seed 002): avatars, documents and exports a member uploads for their
//! organization, and their download.

mod handlers;
pub mod kinds;
pub mod model;
pub mod service;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/upload", post(handlers::upload))
        .route("/uploads", get(handlers::list))
        .route("/uploads/{file_id}", get(handlers::get).delete(handlers::delete))
        .route("/uploads/{file_id}/{filename}", get(handlers::download))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::upload, handlers::list, handlers::get, handlers::download, handlers::delete))]
pub struct Api;
