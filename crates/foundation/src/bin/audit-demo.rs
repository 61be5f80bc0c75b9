//! A minimal second service for exercising audit delivery end to end: it mounts crm-common's
//! audit capture exactly as every service does and delivers to foundation over HTTP. Used by
//! foundation's integration tests; not deployed.
//!
//! `POST /api/demo/items`, `PUT|DELETE /api/demo/items/{id}`; configured by `CRM_BIND_ADDR`,
//! `CRM_DATA_DIR` and the `CRM_AUDIT_*` variables.

use axum::Router;
use axum::routing::{post, put};
use crm_common::api::{Path, ok};
use crm_common::http::audit::{AuditCapture, AuditSettings, mount};
use crm_common::http::{Metrics, TrustedProxies, finish, health_router, serve};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

async fn create() -> axum::response::Response {
    ok(serde_json::json!({ "id": uuid::Uuid::now_v7() }))
}

async fn change(Path(id): Path<uuid::Uuid>) -> axum::response::Response {
    ok(serde_json::json!({ "id": id }))
}

async fn run() -> Result<(), String> {
    let data_dir = PathBuf::from(crm_common::config::env("CRM_DATA_DIR").unwrap_or_else(|| "./data".into()));
    let settings = AuditSettings::from_env("demo", &data_dir).map_err(|e| e.to_string())?;
    let bind = crm_common::config::env("CRM_BIND_ADDR").unwrap_or_else(|| "127.0.0.1:0".into());
    let audit = AuditCapture::over_http("demo", &settings, Default::default()).map_err(|e| e.to_string())?;
    let metrics = Arc::new(Metrics::new());
    let routes = Router::new()
        .route("/api/demo/items", post(create))
        .route("/api/demo/items/{id}", put(change).delete(change))
        .merge(health_router("demo", "0", Vec::new(), metrics.clone()));
    let app = mount(finish(routes, metrics, 1024 * 1024, TrustedProxies::default()), audit);
    let listener = tokio::net::TcpListener::bind(&bind).await.map_err(|e| e.to_string())?;
    serve(listener, app).await.map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    crm_common::telemetry::init("demo");
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("audit-demo: {e}");
            ExitCode::FAILURE
        }
    }
}
