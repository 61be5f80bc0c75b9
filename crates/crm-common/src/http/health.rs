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
/// (every probe answers), `/info` (release) and `/metrics` (Prometheus text).
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
        .route("/info", get(info))
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

/// `/info`: what is deployed — the service, its own release version (each service is versioned
/// and released on its own) and the commit it was built from when the build recorded one.
async fn info(axum::extract::State(s): axum::extract::State<Arc<HealthState>>) -> Response {
    axum::Json(serde_json::json!({
        "service": s.service,
        "version": s.version,
        "commit": option_env!("CRM_BUILD_COMMIT"),
        "started_seconds_ago": s.started.elapsed().as_secs(),
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

/// `<binary> healthcheck`: asks this process's own `/health` on `port` (loopback) and says
/// whether it answered 200 — a container health check for images that carry no shell and no
/// HTTP client (the runtime image is distroless). Plain `std`, blocking, bounded by a 2 s timeout.
pub fn probe_local(port: u16) -> bool {
    use std::io::{Read, Write};
    let timeout = std::time::Duration::from_secs(2);
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&addr, timeout) else { return false };
    let _ = stream.set_read_timeout(Some(timeout));
    let _ = stream.set_write_timeout(Some(timeout));
    let request = format!("GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 16];
    let mut read = 0;
    while read < head.len() {
        match stream.read(&mut head[read..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
    head[..read].starts_with(b"HTTP/1.1 200")
}

#[cfg(test)]
mod probe_tests {
    #[tokio::test]
    async fn a_live_health_endpoint_passes_and_a_closed_port_fails() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let app = axum::Router::new().route("/health", axum::routing::get(|| async { "ok" }));
        tokio::spawn(async move { axum::serve(listener, app).await });
        let up = tokio::task::spawn_blocking(move || super::probe_local(port)).await.unwrap_or(false);
        assert!(up);
        let closed =
            std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(1);
        let down = tokio::task::spawn_blocking(move || super::probe_local(closed)).await.unwrap_or(true);
        assert!(!down);
    }
}
