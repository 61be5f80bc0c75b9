//! Leads: prospects before they become customers. Everyone sees their organization's public pool
//! and their own leads, administrators all of the organization's; contact fields are masked for
//! callers without `customer.pii` who do not own the lead; updates may be conditional on
//! `version`. Follow-ups move the lead along its status machine ([`rules`]); notes are free text.
//! A lead becomes a customer and an opportunity by conversion ([`convert`]).

pub mod convert;
mod dto;
mod handlers;
pub mod model;
pub mod rules;
pub mod service;

pub use dto::{CreateLead, FOLLOW_UP_TYPES, LeadItem, NOTE_TYPES, UpdateLead};

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
        .route("/leads/{id}/convert-to-customer", post(convert::convert_to_customer))
        .route("/leads/{id}/convert-to-opportunity", post(convert::convert_to_opportunity))
        .route("/opportunities/convert-from-lead/{lead_id}", post(convert::convert_from_lead))
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
    handlers::check_duplicate,
    convert::convert_to_customer,
    convert::convert_to_opportunity,
    convert::convert_from_lead
))]
pub struct Api;
