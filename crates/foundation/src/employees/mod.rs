//! Employees: seed 002's view of the caller's organization's members. An employee is a user with
//! an active membership in the caller's organization; its `position` is the membership's place in
//! the job hierarchy and its `role` the first of its roles. Everything is stored through the users
//! and memberships tables, so `/users` and `/employees` always agree, and the `user.*` permissions
//! guard both.

mod dto;
mod handlers;
mod service;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/employees", post(handlers::create).get(handlers::list))
        .route("/employees/{employee_id}", get(handlers::get).put(handlers::update).delete(handlers::delete))
        .route("/employees/{employee_id}/reset-password", post(handlers::reset_password))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::create,
    handlers::list,
    handlers::get,
    handlers::update,
    handlers::delete,
    handlers::reset_password,
))]
pub struct Api;
