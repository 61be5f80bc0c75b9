//! Authentication: login, refresh-token rotation, logout, the caller's profile and sessions, the
//! public JWKS and (when enabled) self-registration.

mod handlers;
pub mod keyring;
mod login;
pub mod model;
pub mod password;
pub mod sessions;
pub mod throttle;
pub mod tokens;

use crate::AppState;
use axum::Router;
use axum::routing::{delete, get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", post(handlers::login))
        .route("/refresh", post(handlers::refresh))
        .route("/logout", post(handlers::logout))
        .route("/me", get(handlers::me))
        .route("/jwks.json", get(handlers::jwks))
        .route("/register", post(handlers::register))
        .route("/sessions", get(handlers::sessions))
        .route("/sessions/{session_id}", delete(handlers::end_session))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::login,
    handlers::refresh,
    handlers::logout,
    handlers::me,
    handlers::jwks,
    handlers::register,
    handlers::sessions,
    handlers::end_session,
))]
pub struct Api;
