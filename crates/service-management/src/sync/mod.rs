//! Offline sync (seed 004) for customers, contacts and follow-ups: change numbers handed out in
//! commit order per organization, tombstones of deletions, a batch of offline writes applied
//! item by item, and the changes since a cursor.

mod batch;
mod changes;
pub mod dto;
mod handlers;
pub mod model;
pub mod service;

pub use dto::Entity;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new().route("/sync/batch", post(handlers::batch)).route("/sync/changes", get(handlers::changes))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::batch, handlers::changes))]
pub struct Api;
