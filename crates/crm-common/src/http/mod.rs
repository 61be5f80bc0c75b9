//! What every service mounts around its routes: request id, panic safety, the envelope on every
//! error (including the framework's own 404/405/413), access log and metrics, and the
//! `/health`, `/ready` and `/metrics` endpoints.

pub mod audit;
mod health;
pub mod metrics;
mod middleware;

pub use health::{Probe, ProbeFuture, health_router};
pub use metrics::Metrics;
pub use middleware::{ClientIp, REQUEST_ID_HEADER, TrustedProxies, client_ip, valid_request_id};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use std::sync::Arc;

/// Wraps a service's router in the common layers. `body_limit` bounds every request body.
pub fn finish(router: Router, metrics: Arc<Metrics>, body_limit: usize, trusted: TrustedProxies) -> Router {
    router
        .fallback(middleware::not_found)
        .layer(axum::Extension(trusted))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(from_fn(middleware::ensure_envelope))
        .layer(from_fn_with_state(metrics, middleware::observe))
        .layer(from_fn(middleware::catch_panic))
        .layer(from_fn(middleware::request_id))
}

/// Serves `router` on `listener` until ctrl-c / SIGTERM, with peer addresses available to handlers.
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
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
