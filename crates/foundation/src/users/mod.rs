//! Users: login accounts, their profile, roles, lock state and passwords.

mod actions;
pub mod dto;
mod handlers;
pub mod model;
pub mod service;

pub(crate) use actions::reset_to;
pub(crate) use handlers::set_deleted;

use crate::AppState;
use axum::Router;
use axum::routing::{delete, get, post, put};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users", post(handlers::create).get(handlers::list))
        .route("/users/batch", post(actions::batch))
        .route("/employees/batch", post(actions::batch_employees))
        .route("/users/{user_id}", get(handlers::get).put(handlers::update).delete(handlers::delete))
        .route("/users/{user_id}/restore", put(handlers::restore))
        .route("/users/{user_id}/lock", post(actions::lock))
        .route("/users/{user_id}/unlock", post(actions::unlock))
        .route("/users/{user_id}/sessions", delete(actions::end_sessions))
        .route("/users/{user_id}/reset-password", post(actions::reset_password))
        .route("/users/{user_id}/password", put(actions::change_password))
        .route("/users/{user_id}/roles", get(actions::roles))
        .route("/users/{user_id}/roles/{role_id}", post(actions::grant_role).delete(actions::revoke_role))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::create,
    handlers::list,
    actions::batch,
    actions::batch_employees,
    handlers::get,
    handlers::update,
    handlers::delete,
    handlers::restore,
    actions::lock,
    actions::unlock,
    actions::end_sessions,
    actions::reset_password,
    actions::change_password,
    actions::roles,
    actions::grant_role,
    actions::revoke_role,
))]
pub struct Api;

/// Shared by the users handlers: forget a user's cached standing after a change to it.
pub(crate) async fn changed(state: &AppState, user_id: uuid::Uuid) {
    crate::authz::invalidate_user(&state.cache, user_id).await;
}
