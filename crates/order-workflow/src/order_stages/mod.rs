//! An order's delivery stages (documents collected, visa applied, visa issued…), each with a
//! status moving forward only and a progress of 0–100. An order completes only when all its
//! stages that were not cancelled are completed (checked in `orders::service` with the order row
//! locked, as every stage write locks it).

mod dto;
mod handlers;
pub mod model;
pub mod rules;
pub mod service;

pub use dto::{CreateStage, StageView, UpdateStage};

use crate::AppState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders/{id}/stages", get(handlers::list).post(handlers::create))
        .route("/orders/{id}/stages/{stage_id}", get(handlers::get).put(handlers::update).delete(handlers::delete))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::list, handlers::create, handlers::get, handlers::update, handlers::delete))]
pub struct Api;
