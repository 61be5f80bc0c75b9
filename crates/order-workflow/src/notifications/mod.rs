//! In-app notifications: rows per user, written in the same transaction as what they announce
//! (lead assignment, order status, assignment, items, files and comments, collection tasks —
//! see [`triggers`]; a task given to a role tells each of its members, see [`roles`]), read and marked read by their owner only, and pushed live to their owner's
//! sockets once committed (see [`crate::live`]).

mod dto;
mod handlers;
pub mod model;
pub mod roles;
pub mod service;
pub mod triggers;

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
