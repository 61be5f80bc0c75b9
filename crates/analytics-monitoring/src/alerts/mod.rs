//! Alerts (seed 001 §2.5–2.6): rules over this host's metrics and each service's error rate
//! (spec §3's thresholds, configurable), evaluated on a schedule by one replica at a time (a lease
//! row), persisted with the lifecycle `active → acknowledged → resolved`; an open alert is not
//! raised again, nor one raised within the repeat window.

mod handlers;
pub mod job;
pub mod lease;
pub mod model;
pub mod rules;
pub mod service;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/monitoring/alerts/active", get(handlers::active))
        .route("/monitoring/alerts/{alert_id}/acknowledge", post(handlers::acknowledge))
}

/// The operations [`routes`] mounts, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::active, handlers::acknowledge))]
pub struct Api;
