//! System monitoring (seed 001 §2): every service's health (the gateway's fan-out, from here),
//! this service's database health and metrics, and this host's (or container's) CPU, memory and
//! disk from `sysinfo`. Deployment-wide data: `monitoring.view` and a platform administrator.

pub mod dto;
mod handlers;
pub mod service;
pub mod system;

use crate::AppState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/monitoring/health/services", get(handlers::services_health))
        .route("/monitoring/health/database", get(handlers::database_health))
        .route("/monitoring/metrics/system", get(handlers::system_metrics))
        .route("/monitoring/metrics/database", get(handlers::database_metrics))
        .route("/monitoring/metrics/history", get(handlers::history))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::services_health,
    handlers::database_health,
    handlers::system_metrics,
    handlers::database_metrics,
    handlers::history,
))]
pub struct Api;
