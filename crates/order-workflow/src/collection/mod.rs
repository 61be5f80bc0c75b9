//! Collection tasks: chasing the money of an order's payment stages. People add manual tasks
//! (assigned by default to the order's seller, who is notified); the automatic job
//! ([`job`]) marks stages overdue and gives every due stage exactly one `auto` task, even with
//! several replicas running it against one database.

mod dto;
mod handlers;
pub mod job;
pub mod model;
pub mod rules;
pub mod service;

pub use dto::{CreateTask, TaskView, UpdateTask};

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/collection-tasks", get(handlers::mine))
        .route("/collection-tasks/orders/{order_id}", get(handlers::of_order).post(handlers::create))
        .route("/collection-tasks/{task_id}", get(handlers::get).put(handlers::update))
        .route("/collection-tasks/{task_id}/complete", post(handlers::complete))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::mine,
    handlers::get,
    handlers::of_order,
    handlers::create,
    handlers::update,
    handlers::complete
))]
pub struct Api;
