//! Opportunities: a possible sale, with the products it would sell and the payments agreed.
//! Administrators see the organization's, everyone else their own; stage and status move
//! together ([`rules`]); products are checked against service-management's dependencies and
//! their names copied ([`lines`]); updates may be conditional on `version`. Follow-ups and notes
//! ([`timeline`]) serve the admin frontend's detail page. Leads become opportunities by
//! conversion (`leads::convert`); an opportunity becomes an order by [`convert`].

pub mod convert;
mod dto;
mod handlers;
pub mod lines;
pub mod model;
pub mod rules;
pub mod service;
mod timeline;

pub use dto::{
    CreateOpportunity, OpportunityItem, OpportunityPaymentStageItem, OpportunityProductItem, OpportunityProductLine,
    PaymentStageLine, UpdateOpportunity, day,
};

use crate::AppState;
use axum::Router;
use axum::routing::{get, patch, post, put};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/opportunities", get(handlers::list).post(handlers::create))
        .route("/opportunities/products/calculate-order", post(handlers::calculate_order))
        .route("/opportunities/{id}", get(handlers::get).put(handlers::update).delete(handlers::delete))
        .route("/opportunities/{id}/stage", put(handlers::stage))
        .route("/opportunities/{id}/update-stage", post(handlers::update_stage))
        .route("/opportunities/{id}/status", patch(handlers::status))
        .route("/opportunities/{id}/assign", post(handlers::assign))
        .route("/opportunities/{id}/convert-to-order", post(convert::convert_to_order))
        .route("/opportunities/{id}/convert", post(convert::convert))
        .route("/opportunities/{id}/products/validate-dependencies", post(handlers::validate_dependencies))
        .route("/opportunities/{id}/follow-ups", get(timeline::follow_ups).post(timeline::add_follow_up))
        .route("/opportunities/{id}/notes", get(timeline::notes).post(timeline::add_note))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::create,
    handlers::list,
    handlers::get,
    handlers::update,
    handlers::delete,
    handlers::stage,
    handlers::update_stage,
    handlers::status,
    handlers::assign,
    handlers::validate_dependencies,
    handlers::calculate_order,
    timeline::follow_ups,
    timeline::add_follow_up,
    timeline::notes,
    timeline::add_note,
    convert::convert_to_order,
    convert::convert
))]
pub struct Api;
