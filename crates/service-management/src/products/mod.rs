//! (to be built)

pub mod model;

use crate::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi()]
pub struct Api;
