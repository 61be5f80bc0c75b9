//! Leads: prospects before they become customers. Everyone sees their organization's public pool
//! and their own leads, administrators all of the organization's; contact fields are masked for
//! callers without `customer.pii` who do not own the lead; updates may be conditional on
//! `version`. Follow-ups move the lead along its status machine ([`rules`]); notes are free text.

mod dto;
mod handlers;
pub mod model;
pub mod rules;
pub mod service;

pub use dto::{CreateLead, LeadItem, UpdateLead};

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/leads", get(handlers::list).post(handlers::create))
        .route("/leads/check-duplicate", post(handlers::check_duplicate))
        .route("/leads/{id}", get(handlers::get).put(handlers::update).delete(handlers::delete))
        .route("/leads/{id}/move-to-pool", post(handlers::move_to_pool))
        .route("/leads/{id}/assign", post(handlers::assign))
        .route("/leads/{id}/follow-ups", get(handlers::follow_ups).post(handlers::add_follow_up))
        .route("/leads/{id}/notes", get(handlers::notes).post(handlers::add_note))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::create,
    handlers::list,
    handlers::get,
    handlers::update,
    handlers::delete,
    handlers::move_to_pool,
    handlers::assign,
    handlers::follow_ups,
    handlers::add_follow_up,
    handlers::notes,
    handlers::add_note,
    handlers::check_duplicate
))]
pub struct Api;
