//! Organization domains: a global catalogue of business domains (legal, accounting, …) and which
//! of them each organization works in, one of them primary.

mod handlers;
pub mod model;
pub mod service;

use crate::AppState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/organization-domains", get(handlers::list).post(handlers::create))
        .route("/organization-domains/{domain_id}", get(handlers::get).put(handlers::update).delete(handlers::delete))
        .route(
            "/organization-domains/organizations/{organization_id}/domains",
            get(handlers::of_organization).post(handlers::set_for_organization),
        )
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::list,
    handlers::create,
    handlers::get,
    handlers::update,
    handlers::delete,
    handlers::of_organization,
    handlers::set_for_organization,
))]
pub struct Api;
