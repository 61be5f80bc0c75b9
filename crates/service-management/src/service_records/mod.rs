//! Service records: what each customer needs. A record is seen by whoever sees its customer and
//! by its salesperson; the names of what it refers to are copied on write; its status follows a
//! fixed flow (`service::allowed_moves`); lists sort by priority in SQL via `priority_rank`.

mod dto;
mod handlers;
pub mod model;
pub mod service;

pub use dto::{CreateServiceRecord, ServiceRecordItem, UpdateServiceRecord};

use crate::AppState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/service-records", get(handlers::list).post(handlers::create))
        .route("/service-records/{id}", get(handlers::get).put(handlers::update).delete(handlers::delete))
        .route("/service-records/customers/{customer_id}/service-records", get(handlers::list_of_customer))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::create,
    handlers::list,
    handlers::get,
    handlers::update,
    handlers::delete,
    handlers::list_of_customer
))]
pub struct Api;
