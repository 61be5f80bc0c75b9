use super::metrics::Metrics;
use crate::api::{ApiError, ok};
use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

pub type ProbeFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// A dependency `/ready` checks (database, cache).
pub trait Probe: Send + Sync {
    fn name(&self) -> &'static str;
    fn check(&self) -> ProbeFuture<'_>;
}

impl Probe for crate::cache::Cache {
    fn name(&self) -> &'static str {
        "cache"
    }
    fn check(&self) -> ProbeFuture<'_> {
        Box::pin(self.ping())
    }
}

struct HealthState {
    service: String,
    version: &'static str,
    started: Instant,
    probes: Vec<Arc<dyn Probe>>,
    metrics: Arc<Metrics>,
}

/// `/health` (liveness, the original's unenveloped shape plus version and uptime), `/ready`
/// (every probe answers) and `/metrics` (Prometheus text).
pub fn health_router(
    service: &str,
    version: &'static str,
    probes: Vec<Arc<dyn Probe>>,
    metrics: Arc<Metrics>,
) -> Router {
    let state = Arc::new(HealthState {
        service: format!("{service}-service"),
        version,
        started: Instant::now(),
        probes,
        metrics,
    });
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics_text))
        .with_state(state)
}

async fn health(axum::extract::State(s): axum::extract::State<Arc<HealthState>>) -> Response {
    axum::Json(serde_json::json!({
        "status": "healthy",
        "service": s.service,
        "version": s.version,
        "uptime_seconds": s.started.elapsed().as_secs(),
    }))
    .into_response()
}

async fn ready(axum::extract::State(s): axum::extract::State<Arc<HealthState>>) -> Result<Response, ApiError> {
    let mut checks = serde_json::Map::new();
    let mut failed = Vec::new();
    for probe in &s.probes {
        let result = tokio::time::timeout(std::time::Duration::from_secs(2), probe.check()).await;
        match result {
            Ok(Ok(())) => {
                checks.insert(probe.name().into(), "ok".into());
            }
            Ok(Err(err)) => {
                tracing::warn!(probe = probe.name(), error = %err, "readiness check failed");
                failed.push(probe.name());
            }
            Err(_) => {
                tracing::warn!(probe = probe.name(), "readiness check timed out");
                failed.push(probe.name());
            }
        }
    }
    if failed.is_empty() {
        Ok(ok(serde_json::json!({ "status": "ready", "checks": checks })))
    } else {
        Err(ApiError::Unavailable(format!("not ready: {}", failed.join(", "))))
    }
}

async fn metrics_text(axum::extract::State(s): axum::extract::State<Arc<HealthState>>) -> Response {
    ([(header::CONTENT_TYPE, super::metrics::CONTENT_TYPE)], s.metrics.render()).into_response()
}
