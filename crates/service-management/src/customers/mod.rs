//! Customers: who the company sells to. Codes are generated per organization and day; sellers
//! see their own customers and administrators their organization's; contact fields are masked
//! for callers without `customer.pii`; updates may be conditional on `version`. Follow-ups move
//! the customer's last/next follow-up dates; notes are free text.

mod dto;
mod handlers;
pub mod model;
pub mod service;

pub use dto::{CreateCustomer, CreateFollowUp, CustomerItem, FollowUpItem, UpdateCustomer};

use crate::AppState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customers", get(handlers::list).post(handlers::create))
        .route("/customers/{id}", get(handlers::get).put(handlers::update).delete(handlers::delete))
        .route("/customers/{id}/follow-ups", get(handlers::follow_ups).post(handlers::add_follow_up))
        .route("/customers/{id}/notes", get(handlers::notes).post(handlers::add_note))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::create,
    handlers::list,
    handlers::get,
    handlers::update,
    handlers::delete,
    handlers::follow_ups,
    handlers::add_follow_up,
    handlers::notes,
    handlers::add_note
))]
pub struct Api;
