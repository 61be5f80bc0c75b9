//! Tasks: what a workflow asks of a person or a role at each stage, and people's own tasks
//! attached to a record (seed 003's tasks on deals). `GET /tasks` is the caller's work list with
//! filters by status, due date, assignee and record; completing a workflow's task moves its
//! workflow through the engine (`workflows::engine`).

mod dto;
mod handlers;
pub mod model;
pub mod service;

pub use dto::{Completion, TaskView};

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tasks", get(handlers::list).post(handlers::create))
        .route("/tasks/{id}", get(handlers::get).put(handlers::update).delete(handlers::delete))
        .route("/tasks/{id}/complete", post(handlers::complete))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::list,
    handlers::get,
    handlers::complete,
    handlers::create,
    handlers::update,
    handlers::delete
))]
pub struct Api;
