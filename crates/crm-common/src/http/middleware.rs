use super::metrics::Metrics;
use crate::api::{ApiError, with_request_id};
use crate::net::Proxies;
use crate::telemetry::otlp::{TRACEPARENT, Tracer};
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use std::net::{IpAddr, SocketAddr};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// A client-supplied id is kept only if it is short and plain, so it is safe in logs and headers.
pub fn valid_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

pub(super) async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| valid_request_id(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    if let Ok(value) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(REQUEST_ID_HEADER, value.clone());
        let mut response = with_request_id(id, next.run(req)).await;
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
        response
    } else {
        next.run(req).await
    }
}

pub(super) async fn catch_panic(req: Request, next: Next) -> Response {
    match AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(response) => response,
        Err(_) => ApiError::internal("handler panicked").into_response(),
    }
}

/// The framework answers some errors itself with a plain body (405, 413 while streaming, 415);
/// give those the envelope too.
pub(super) async fn ensure_envelope(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::payload_too_large(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::unsupported_media_type(),
        StatusCode::NOT_FOUND => ApiError::NotFound("not found".into()),
        StatusCode::METHOD_NOT_ALLOWED => {
            let mut r = crate::api::Envelope::new(status, "method not allowed", ()).into_response_with(status);
            if let Some(allow) = response.headers().get(header::ALLOW) {
                r.headers_mut().insert(header::ALLOW, allow.clone());
            }
            return r;
        }
        s if s.is_server_error() => ApiError::internal(format!("plain {s} response")),
        _ => ApiError::bad_request("bad request"),
    };
    error.into_response()
}

pub(super) async fn not_found() -> ApiError {
    ApiError::NotFound("not found".into())
}

/// One access-log line and the request metrics per request. No bodies, no tokens.
pub(super) async fn observe(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".to_owned());
    // A temporary link's token is in its path: the log keeps the path without it.
    let path = super::secret_path::loggable(req.uri().path()).into_owned();
    let request_id = req.headers().get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let response: Response<Body> = next.run(req).await;
    let elapsed = start.elapsed();
    let status = response.status().as_u16();
    metrics.observe_request(&route, method.as_str(), status, elapsed);
    if route != "/health" && route != "/metrics" {
        tracing::info!(
            method = %method,
            route,
            path,
            status,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            request_id,
            "request"
        );
    }
    response
}

/// The exporter the [`trace`] layer opens spans with, and where it counts the ones it had to drop.
#[derive(Clone)]
pub(super) struct Tracing {
    pub tracer: Tracer,
    pub metrics: Arc<Metrics>,
}

/// One server span per request (health, readiness and metrics probes excepted), continuing the
/// caller's `traceparent` or starting a trace. The handler sees, and the response carries, a
/// `traceparent` naming this span, and the handler runs inside it, so whatever it calls (peers)
/// becomes its child. Installed by [`super::finish`] only when traces are exported.
pub(super) async fn trace(State(state): State<Tracing>, mut req: Request, next: Next) -> Response {
    if matches!(req.uri().path(), "/health" | "/ready" | "/metrics") {
        return next.run(req).await;
    }
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let name = match &route {
        Some(route) => format!("{method} {route}"),
        None => method.to_string(),
    };
    let span = state.tracer.server_span(&name, Some(req.headers()));
    let traceparent = span.traceparent().and_then(|v| HeaderValue::from_str(&v).ok());
    if let Some(value) = &traceparent {
        req.headers_mut().insert(TRACEPARENT, value.clone());
    }
    if span.is_recording() {
        span.set("http.request.method", method.as_str().to_owned());
        span.set("url.path", super::secret_path::loggable(req.uri().path()).into_owned());
        if let Some(route) = route {
            span.set("http.route", route);
        }
        if let Some(id) = req.headers().get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()) {
            span.set_strings("http.request.header.x-request-id", vec![id.to_owned()]);
        }
    }
    let mut response = state.tracer.in_dispatch(next.run(req).instrument(span.span().clone())).await;
    if let Some(value) = traceparent {
        response.headers_mut().insert(TRACEPARENT, value);
    }
    span.status(response.status().as_u16(), None);
    span.end();
    state.tracer.report_drops(&state.metrics);
    response
}

/// The client's address: the peer, or — when the peer is a trusted proxy — the nearest untrusted
/// hop of `X-Forwarded-For`.
pub fn client_ip(headers: &HeaderMap, peer: Option<&ConnectInfo<SocketAddr>>, trusted: &Proxies) -> Option<IpAddr> {
    let peer = peer.map(|c| c.0.ip())?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let hop = forwarded.and_then(|xff| {
        xff.split(',').rev().filter_map(|s| s.trim().parse::<IpAddr>().ok()).find(|ip| !trusted.contains(ip))
    });
    Some(hop.unwrap_or(peer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids() {
        assert!(valid_request_id("abc-123_4.5"));
        assert!(!valid_request_id(""));
        assert!(!valid_request_id("a b"));
        assert!(!valid_request_id(&"x".repeat(200)));
    }

    #[test]
    fn forwarded_only_from_trusted_peers() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("1.2.3.4, 10.0.0.1"));
        let trusted = Proxies::parse("127.0.0.1, 10.0.0.0/24").unwrap();
        let local = ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 1)));
        assert_eq!(client_ip(&h, Some(&local), &trusted), Some("1.2.3.4".parse().unwrap()));
        let other = ConnectInfo(SocketAddr::from(([9, 9, 9, 9], 1)));
        assert_eq!(client_ip(&h, Some(&other), &trusted), Some("9.9.9.9".parse().unwrap()));
    }
}

/// Peers whose `X-Forwarded-For` is believed; installed by [`super::finish`].
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Arc<Proxies>);

/// The client's address as [`client_ip`] determines it (absent when the transport has none).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let trusted = parts.extensions.get::<TrustedProxies>().cloned().unwrap_or_default();
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>();
        Ok(ClientIp(client_ip(&parts.headers, peer, &trusted.0)))
    }
}
