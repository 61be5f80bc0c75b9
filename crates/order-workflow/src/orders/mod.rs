//! Orders: what a customer bought, item by item, and who delivers it. Numbers are generated and
//! unique per organization; totals are always the sum of the items, recomputed in the same
//! transaction as any item change; the status machine and who may make each move are in
//! [`rules`]. Items are served at the original's flat paths (`/order-items…`) and the real
//! client's nested ones (`/orders/{id}/items…`) by the same functions.

mod dto;
mod handlers;
pub mod model;
pub mod rules;
pub mod service;

pub use dto::{CreateItem, CreateOrder, ItemView, OrderView};

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders", get(handlers::list).post(handlers::create))
        .route("/orders/{id}", get(handlers::get).put(handlers::update).delete(handlers::delete))
        .route("/orders/{id}/assign", post(handlers::assign))
        .route("/orders/{id}/items", get(handlers::items).post(handlers::add_nested_item))
        .route(
            "/orders/{id}/items/{item_id}",
            get(handlers::nested_item).put(handlers::update_nested_item).delete(handlers::delete_nested_item),
        )
        .route("/order-items", post(handlers::add_flat_item))
        .route(
            "/order-items/{item_id}",
            get(handlers::flat_item).put(handlers::update_flat_item).delete(handlers::delete_flat_item),
        )
        .route("/order-items/order/{id}/items", get(handlers::item_page))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::create,
    handlers::list,
    handlers::get,
    handlers::update,
    handlers::delete,
    handlers::assign,
    handlers::items,
    handlers::item_page,
    handlers::nested_item,
    handlers::flat_item,
    handlers::add_nested_item,
    handlers::add_flat_item,
    handlers::update_nested_item,
    handlers::update_flat_item,
    handlers::delete_nested_item,
    handlers::delete_flat_item
))]
pub struct Api;
