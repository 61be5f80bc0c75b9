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
        .route("/order-comments", post(handlers::comment_create_flat))
        .route(
            "/order-comments/{comment_id}",
            get(handlers::comment_get_flat).put(handlers::comment_update_flat).delete(handlers::comment_delete_flat),
        )
        .route("/order-comments/{comment_id}/reply", post(handlers::comment_reply_flat))
        .route("/order-comments/order/{id}/comments", get(handlers::comment_list_flat))
        .route("/orders/{id}/comments", get(handlers::comment_list_nested).post(handlers::comment_create_nested))
        .route(
            "/orders/{id}/comments/{comment_id}",
            get(handlers::comment_get_nested)
                .put(handlers::comment_update_nested)
                .delete(handlers::comment_delete_nested),
        )
        .route("/orders/{id}/comments/{comment_id}/reply", post(handlers::comment_reply_nested))
        .route("/orders/{id}/comments/{comment_id}/pin", post(handlers::comment_pin))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::comment_create_flat,
    handlers::comment_get_flat,
    handlers::comment_update_flat,
    handlers::comment_delete_flat,
    handlers::comment_reply_flat,
    handlers::comment_list_flat,
    handlers::comment_list_nested,
    handlers::comment_create_nested,
    handlers::comment_get_nested,
    handlers::comment_update_nested,
    handlers::comment_delete_nested,
    handlers::comment_reply_nested,
    handlers::comment_pin
))]
pub struct Api;
