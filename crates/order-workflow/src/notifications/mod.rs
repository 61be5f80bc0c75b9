//! In-app notifications: rows per user, written in the same transaction as what they announce
//! (a collection task so far), read and marked read by their owner only. Live push is not here.

mod dto;
mod handlers;
pub mod model;
pub mod service;

pub use dto::NotificationView;

use crate::AppState;
use axum::Router;
use axum::routing::{get, put};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(handlers::list))
        .route("/notifications/unread-count", get(handlers::unread_count))
        .route("/notifications/read-all", put(handlers::read_all))
        .route("/notifications/{notification_id}/read", put(handlers::read))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::list, handlers::read, handlers::read_all, handlers::unread_count))]
pub struct Api;
