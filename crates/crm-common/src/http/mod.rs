//! What every service mounts around its routes: request id, panic safety, the envelope on every
//! error (including the framework's own 404/405/413), access log and metrics, and the
//! `/health`, `/ready` and `/metrics` endpoints.

pub mod audit;
mod health;
pub mod metrics;
mod middleware;
pub mod peer;
pub mod secret_path;

pub use health::{Probe, ProbeFuture, health_router, probe_local};
pub use metrics::{CONTENT_TYPE as METRICS_CONTENT_TYPE, Metrics};
pub use middleware::{ClientIp, REQUEST_ID_HEADER, TrustedProxies, client_ip, valid_request_id};

use crate::telemetry::otlp::Tracer;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use std::sync::Arc;

/// Wraps a service's router in the common layers. `body_limit` bounds every request body.
/// Server spans and request metrics go to the process-wide OTLP exporter when there is one
/// (`OTEL_EXPORTER_OTLP_ENDPOINT`).
pub fn finish(router: Router, metrics: Arc<Metrics>, body_limit: usize, trusted: TrustedProxies) -> Router {
    finish_traced(router, metrics, body_limit, trusted, crate::telemetry::otlp::global())
}

/// [`finish`] with an explicit exporter; `None` (or one exporting only metrics) adds no tracing
/// layer at all.
pub fn finish_traced(
    router: Router,
    metrics: Arc<Metrics>,
    body_limit: usize,
    trusted: TrustedProxies,
    tracer: Option<Tracer>,
) -> Router {
    let router = router
        .fallback(middleware::not_found)
        .layer(axum::Extension(trusted))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(from_fn(middleware::ensure_envelope))
        .layer(from_fn_with_state(metrics.clone(), middleware::observe))
        .layer(from_fn(middleware::catch_panic));
    if let Some(tracer) = &tracer {
        metrics.export_requests(tracer);
    }
    let router = match tracer.filter(Tracer::traces) {
        Some(tracer) => router.layer(from_fn_with_state(middleware::Tracing { tracer, metrics }, middleware::trace)),
        None => router,
    };
    router.layer(from_fn(middleware::request_id))
}

/// Serves `router` on `listener` until ctrl-c / SIGTERM, with peer addresses available to handlers;
/// then sends the spans and metrics still queued for export (bounded wait).
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    let served = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await;
    crate::telemetry::flush(std::time::Duration::from_secs(3)).await;
    served
}

/// Resolves on ctrl-c or SIGTERM: what every binary stops on.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
