//! Organizations (BANTU internal units, agents, vendors) and their members.

pub mod dto;
mod handlers;
mod members;
pub mod model;
pub mod service;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post, put};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/organizations", post(handlers::create).get(handlers::list))
        .route("/organizations/{organization_id}", get(handlers::get).put(handlers::update).delete(handlers::delete))
        .route("/organizations/{organization_id}/restore", put(handlers::restore))
        .route("/organizations/{organization_id}/lock", post(handlers::lock))
        .route("/organizations/{organization_id}/unlock", post(handlers::unlock))
        .route("/organizations/{organization_id}/employees", get(members::list).post(members::add))
        .route("/organizations/{organization_id}/employees/{employee_id}", put(members::update).delete(members::remove))
        .route("/organizations/{organization_id}/employees/{employee_id}/restore", put(members::restore))
        .route("/organizations/{organization_id}/members", get(members::list_members).post(members::add_member))
        .route("/organizations/{organization_id}/members/{user_id}", axum::routing::delete(members::remove_user))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::create,
    handlers::list,
    handlers::get,
    handlers::update,
    handlers::lock,
    handlers::unlock,
    handlers::delete,
    handlers::restore,
    members::list,
    members::add,
    members::update,
    members::remove,
    members::restore,
    members::list_members,
    members::add_member,
    members::remove_user,
))]
pub struct Api;
