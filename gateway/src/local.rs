//! What the gateway answers itself: `/health`, `/health/services` (fan-out to every service with
//! a deadline), `/metrics`, the API documentation (`/openapi.json`, `/docs`; see [`crate::docs`]),
//! and the plain-HTTP → HTTPS redirect.

use crate::context::RequestContext;
use crate::docs::Asset;
use crate::phases::route::RouteTable;
use crate::upstream::ProbeResult;
use axum::body::Body;
use axum::response::IntoResponse;
use chrono::{SecondsFormat, Utc};
use crm_common::api::Envelope;
use crm_common::http::Metrics;
use http::request::Parts;
use http::{HeaderValue, Method, Response, StatusCode, header};
use serde::Serialize;
use std::time::{Duration, Instant};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Serialize)]
struct ServicesHealth {
    overall_status: &'static str,
    services: Vec<ProbeResult>,
    checked_at: String,
}

pub fn health(started: Instant) -> Response<Body> {
    axum::Json(serde_json::json!({
        "status": "healthy",
        "service": "gateway",
        "version": VERSION,
        "uptime_seconds": started.elapsed().as_secs(),
    }))
    .into_response()
}

/// Asks every service at once; whatever has not answered by `deadline` counts as `timeout`.
pub async fn services_health(routes: &RouteTable, deadline: Duration) -> Response<Body> {
    let mut upstreams: Vec<_> = routes.upstreams().cloned().collect();
    upstreams.sort_by(|a, b| a.name.cmp(b.name));
    // Each probe has the deadline itself; the outer bound is a backstop against anything slower.
    let probes = futures_util::future::join_all(upstreams.iter().map(|u| u.probe(deadline)));
    let services = match tokio::time::timeout(deadline + Duration::from_millis(100), probes).await {
        Ok(results) => results,
        Err(_) => upstreams
            .iter()
            .map(|u| ProbeResult {
                name: u.name.to_string(),
                status: "timeout",
                latency_ms: deadline.as_millis() as f64,
                version: None,
                uptime: None,
            })
            .collect(),
    };
    let healthy = services.iter().filter(|s| s.status == "healthy").count();
    let overall_status = match healthy {
        n if n == services.len() => "healthy",
        0 => "unhealthy",
        _ => "degraded",
    };
    let status = if overall_status == "unhealthy" { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    let checked_at = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    Envelope::new(status, overall_status, ServicesHealth { overall_status, services, checked_at })
        .into_response_with(status)
}

pub fn metrics(metrics: &Metrics, routes: &RouteTable) -> Response<Body> {
    for upstream in routes.upstreams() {
        let labels = [("upstream", upstream.name)];
        for (name, help, value) in [
            (
                "gateway_upstream_in_flight",
                "Requests being served by each upstream (open upstream exchanges).",
                upstream.in_flight(),
            ),
            (
                "gateway_circuit_open",
                "1 while the upstream's circuit is open or half-open (requests refused with 503), else 0.",
                usize::from(upstream.circuit_tripped()),
            ),
            (
                "gateway_upstream_connections",
                "Open keep-alive connections to each upstream, busy or idle.",
                upstream.open_connections(),
            ),
            (
                "gateway_tunnels_open",
                "Upgraded (WebSocket) connections being relayed, by upstream.",
                upstream.open_tunnels(),
            ),
        ] {
            metrics.gauge_set(name, help, &labels, i64::try_from(value).unwrap_or(i64::MAX));
        }
    }
    ([(header::CONTENT_TYPE, crm_common::http::METRICS_CONTENT_TYPE)], metrics.render()).into_response()
}

/// 308 to the same path on the HTTPS listener. The host comes from `Host` (port dropped) and is
/// only used when it looks like a host name, so the redirect cannot be bent into header injection.
pub fn redirect(parts: &Parts, tls_port: u16) -> Response<Body> {
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(strip_port)
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.[]:".contains(&b)))
        .unwrap_or("localhost");
    let host = if host.contains(':') { format!("[{host}]") } else { host.to_owned() };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let location =
        if tls_port == 443 { format!("https://{host}{path}") } else { format!("https://{host}:{tls_port}{path}") };
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::PERMANENT_REDIRECT;
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // [v6]:port
        return host.rsplit_once("]:").map_or(host, |(h, _)| h).trim_end_matches(']').trim_start_matches('[');
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

/// The gateway's own routes.
pub enum Local {
    Health,
    ServicesHealth,
    Metrics,
    OpenApi,
    Docs(Asset),
}

/// Which of the gateway's own routes a request is for; `None` when it is for an upstream.
pub fn match_local(method: &Method, ctx: &mut RequestContext) -> Option<Local> {
    let local = local_route(method, &ctx.path)?;
    ctx.route = match local {
        Local::Health => "gateway:health",
        Local::ServicesHealth => "gateway:health_services",
        Local::Metrics => "gateway:metrics",
        Local::OpenApi => "gateway:openapi",
        Local::Docs(_) => "gateway:docs",
    }
    .into();
    Some(local)
}

/// Which of the gateway's own routes `method path` is, if any.
pub fn local_route(method: &Method, path: &str) -> Option<Local> {
    if *method != Method::GET && *method != Method::HEAD {
        return None;
    }
    Some(match path {
        "/health" => Local::Health,
        "/health/services" => Local::ServicesHealth,
        "/metrics" => Local::Metrics,
        "/openapi.json" => Local::OpenApi,
        path => Local::Docs(Asset::at(path)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_stripped() {
        assert_eq!(strip_port("example.com:8080"), "example.com");
        assert_eq!(strip_port("example.com"), "example.com");
        assert_eq!(strip_port("[::1]:8080"), "::1");
    }
}
