//! Product categories: a multi-level tree (visa services › business visas › …). Codes are
//! unique; a parent must exist, be active, and not make a cycle. `GET /categories/tree` is the
//! real client's batch picker: the whole tree with product counts and products.

mod dto;
mod handlers;
pub mod model;
pub mod service;

use crate::AppState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/categories", get(handlers::list).post(handlers::create))
        .route("/categories/tree", get(handlers::tree))
        .route("/categories/{id}", get(handlers::get).put(handlers::update).delete(handlers::delete))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::create, handlers::list, handlers::tree, handlers::get, handlers::update, handlers::delete))]
pub struct Api;
