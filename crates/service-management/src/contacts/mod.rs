//! Contacts: the people to talk to at a customer. A contact is visible exactly when its customer
//! is; its phone, e-mail and WeChat id are masked like the customer's; at most one contact per
//! customer is primary, and making one primary clears the others in the same transaction. Every
//! write takes a sync change number, so offline clients see contacts change in commit order.

mod dto;
mod handlers;
pub mod model;
pub mod service;

pub use dto::{ContactItem, CreateContact, UpdateContact};

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/contacts", post(handlers::create))
        .route("/contacts/{id}", get(handlers::get).put(handlers::update).delete(handlers::delete))
        .route("/contacts/customers/{customer_id}/contacts", get(handlers::list_of_customer))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::create, handlers::get, handlers::update, handlers::delete, handlers::list_of_customer))]
pub struct Api;
