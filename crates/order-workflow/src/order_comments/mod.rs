//! Order comments: the conversation about an order — bilingual, internal or for the customer,
//! with replies and pinned comments first. Served at the original's flat paths
//! (`/order-comments…`) and the real client's nested ones (`/orders/{id}/comments…`) by the same
//! service functions.

mod dto;
mod handlers;
pub mod model;
pub mod service;

pub use dto::CommentView;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/order-comments", post(handlers::create_flat))
        .route(
            "/order-comments/{comment_id}",
            get(handlers::get_flat).put(handlers::update_flat).delete(handlers::delete_flat),
        )
        .route("/order-comments/{comment_id}/reply", post(handlers::reply_flat))
        .route("/order-comments/order/{id}/comments", get(handlers::list_flat))
        .route("/orders/{id}/comments", get(handlers::list_nested).post(handlers::create_nested))
        .route(
            "/orders/{id}/comments/{comment_id}",
            get(handlers::get_nested).put(handlers::update_nested).delete(handlers::delete_nested),
        )
        .route("/orders/{id}/comments/{comment_id}/reply", post(handlers::reply_nested))
        .route("/orders/{id}/comments/{comment_id}/pin", post(handlers::pin))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::create_flat,
    handlers::get_flat,
    handlers::update_flat,
    handlers::delete_flat,
    handlers::reply_flat,
    handlers::list_flat,
    handlers::list_nested,
    handlers::create_nested,
    handlers::get_nested,
    handlers::update_nested,
    handlers::delete_nested,
    handlers::reply_nested,
    handlers::pin
))]
pub struct Api;
