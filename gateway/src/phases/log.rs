//! Phase 6 — log: one JSON access-log line and the request metrics per request, written when the
//! response body is finished (or the client went away), so `duration_ms` covers the whole
//! exchange, streaming included. No tokens (a temporary link's is cut out of its path), no bodies, no
//! query strings.
//!
//! When traces are exported, the same moment ends the gateway's server span (see [`open_span`]).

use crate::body::Guarded;
use crate::context::{RequestContext, Route};
use crate::pipeline::Gateway;
use axum::body::Body;
use crm_common::telemetry::otlp::{RequestSpan, TRACEPARENT, Tracer};
use http::{HeaderMap, HeaderValue, Response};
use std::sync::Arc;

/// The gateway's server span while the request is in flight.
pub struct OpenSpan(RequestSpan);

/// Starts the gateway's server span when traces are exported (`tracer` is `Some`); does nothing
/// otherwise.
///
/// The span belongs to the trace the identify phase settled on: when it kept the caller's
/// `traceparent` (`incoming`), the caller's span is the parent; when it made a new one, the
/// gateway's span is the root of a new trace and its ids replace that header. Either way the
/// request goes upstream, and the response back, with the gateway's span as the parent. A trace
/// the sampler leaves out is still propagated, but no span is kept for it.
pub fn open_span(
    tracer: Option<&Tracer>,
    headers: &mut HeaderMap,
    ctx: &mut RequestContext,
    incoming: Option<&HeaderValue>,
) -> Option<OpenSpan> {
    let tracer = tracer?;
    let continued = incoming.and_then(|v| v.to_str().ok()) == Some(ctx.traceparent.as_str());
    let span = tracer.server_span("gateway", continued.then_some(&*headers));
    let traceparent = span.traceparent()?;
    let value = HeaderValue::from_str(&traceparent).ok()?;
    headers.insert(TRACEPARENT, value);
    ctx.traceparent = traceparent;
    span.is_recording().then_some(OpenSpan(span))
}

struct AccessRecord {
    ctx: RequestContext,
    status: u16,
    /// The request's own handle on the gateway, moved here rather than a new one taken: a shared
    /// reference count touched by every request on every worker is a cache line they fight over.
    gateway: Arc<Gateway>,
    span: Option<OpenSpan>,
}

impl Drop for AccessRecord {
    fn drop(&mut self) {
        record(&self.ctx, self.status, &self.gateway, self.span.take());
    }
}

/// Reports one finished request: its metrics, its access-log line and, when traced, its span.
pub fn record(ctx: &RequestContext, status: u16, gateway: &Gateway, span: Option<OpenSpan>) {
    let elapsed = ctx.started.elapsed();
    let metrics = &gateway.metrics;
    metrics.observe_request(ctx.route.as_str(), ctx.method.as_str(), status, elapsed);
    if matches!(ctx.route, Route::Gateway("gateway:metrics" | "gateway:health")) {
        return;
    }
    tracing::info!(
        target: "access",
        method = %ctx.method,
        route = %ctx.route,
        // A temporary link's token is in its path: the line keeps the path without it.
        path = %crm_common::http::secret_path::loggable(&ctx.path),
        status,
        duration_ms = (elapsed.as_secs_f64() * 1000.0 * 100.0).round() / 100.0,
        upstream = ctx.upstream.unwrap_or("-"),
        request_id = %ctx.request_id,
        user_id = ctx.user_id.map(|u| u.to_string()).unwrap_or_default(),
        failure = ctx.failure.unwrap_or("-"),
        "request"
    );
    if let Some(OpenSpan(span)) = span {
        span_attributes(&span, ctx, status);
        span.end();
        if let Some(tracer) = &gateway.tracer {
            tracer.report_drops(metrics);
        }
    }
}

/// The finished span: named after the route label (the service, or the gateway's own route).
fn span_attributes(span: &RequestSpan, ctx: &RequestContext, status: u16) {
    span.rename(format!("{} {}", ctx.method, ctx.route));
    span.set("http.request.method", ctx.method.as_str().to_owned());
    span.set("http.route", ctx.route.to_string());
    span.set("url.path", crm_common::http::secret_path::loggable(&ctx.path).into_owned());
    span.set("client.address", ctx.client_ip.to_string());
    span.set_strings("http.request.header.x-request-id", vec![ctx.request_id.clone()]);
    if let Some(user) = ctx.user_id {
        span.set("user.id", user.to_string());
    }
    span.status(status, ctx.failure);
}

/// Attaches the access record (and the open span, if any) to the response body; both are
/// finished when the body is dropped.
pub fn complete(
    response: Response<Body>,
    ctx: RequestContext,
    gateway: Arc<Gateway>,
    span: Option<OpenSpan>,
) -> Response<Body> {
    let status = response.status().as_u16();
    let record = AccessRecord { ctx, status, gateway, span };
    response.map(|body| Body::new(Guarded::new(body, record)))
}
