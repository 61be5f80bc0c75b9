//! Workflows: definitions (stages with bilingual names and one task each, transitions with
//! conditions), validated on save; instances bound to an order or a service record; the engine
//! ([`engine`]) that completes a task, chooses the transition, records it, moves the stage and
//! creates the next task. The pure rules — the definition's shape and validation, conditions,
//! the choice of transition — are in [`rules`] and [`condition`]; the original's
//! `order_approval`, seeded per organization, in [`seed`]. With a definition of orders whose
//! `auto_start` is on, every new order starts it and its stages drive the order's status.

pub mod condition;
mod dto;
pub mod engine;
mod handlers;
pub mod model;
pub mod rules;
pub mod seed;
pub mod service;

pub use dto::{DefinitionView, InstanceView, TransitionView};

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/workflows/definitions", get(handlers::list_definitions).post(handlers::create_definition))
        .route(
            "/workflows/definitions/{id}",
            get(handlers::get_definition).put(handlers::update_definition).delete(handlers::delete_definition),
        )
        .route("/workflows/instances", get(handlers::list_instances).post(handlers::start))
        .route("/workflows/instances/{id}", get(handlers::get_instance))
        .route("/workflows/instances/{id}/complete", post(handlers::complete_instance))
        .route("/workflows/instances/{id}/cancel", post(handlers::cancel_instance))
        .route("/workflows/instances/{id}/suspend", post(handlers::suspend_instance))
        .route("/workflows/instances/{id}/resume", post(handlers::resume_instance))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::list_definitions,
    handlers::get_definition,
    handlers::create_definition,
    handlers::update_definition,
    handlers::delete_definition,
    handlers::start,
    handlers::list_instances,
    handlers::get_instance,
    handlers::complete_instance,
    handlers::cancel_instance,
    handlers::suspend_instance,
    handlers::resume_instance
))]
pub struct Api;
