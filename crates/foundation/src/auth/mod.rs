//! Authentication: login, refresh-token rotation, logout, the caller's profile, the public JWKS
//! and (when enabled) self-registration.

mod handlers;
pub mod keyring;
mod login;
pub mod model;
pub mod password;
pub mod throttle;
pub mod tokens;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", post(handlers::login))
        .route("/refresh", post(handlers::refresh))
        .route("/logout", post(handlers::logout))
        .route("/me", get(handlers::me))
        .route("/jwks.json", get(handlers::jwks))
        .route("/register", post(handlers::register))
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
))]
pub struct Api;
