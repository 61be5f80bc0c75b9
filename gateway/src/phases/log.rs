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
use crm_common::telemetry::otlp::{Span, SpanContext, TRACEPARENT, TraceParent, Tracer, new_span_id};
use http::{HeaderMap, HeaderValue, Response};
use std::sync::Arc;
use std::time::SystemTime;

/// The gateway's server span while the request is in flight.
pub struct OpenSpan {
    tracer: Tracer,
    context: SpanContext,
    start: SystemTime,
}

/// Starts the gateway's server span when traces are exported (`tracer` is `Some`) and the trace
/// is sampled; does nothing otherwise.
///
/// The span belongs to the trace the identify phase settled on: when it kept the caller's
/// `traceparent` (`incoming`), the caller's span is the parent and the gateway's span gets a new
/// id; when it made a new one, that id is the gateway's root span. Either way the request goes
/// upstream, and the response back, with the gateway's span as the parent.
pub fn open_span(
    tracer: Option<&Tracer>,
    headers: &mut HeaderMap,
    ctx: &mut RequestContext,
    incoming: Option<&HeaderValue>,
) -> Option<OpenSpan> {
    let tracer = tracer?;
    let settled = TraceParent::parse(&ctx.traceparent)?;
    if !settled.sampled() {
        return None;
    }
    let continued = incoming.and_then(|v| v.to_str().ok()) == Some(ctx.traceparent.as_str());
    let context = if continued {
        SpanContext {
            trace_id: settled.trace_id,
            span_id: new_span_id(),
            parent_id: Some(settled.parent_id),
            sampled: true,
        }
    } else {
        SpanContext { trace_id: settled.trace_id, span_id: settled.parent_id, parent_id: None, sampled: true }
    };
    let traceparent = context.traceparent();
    let value = HeaderValue::from_str(&traceparent).ok()?;
    headers.insert(TRACEPARENT, value);
    ctx.traceparent = traceparent;
    let start = SystemTime::now().checked_sub(ctx.started.elapsed()).unwrap_or_else(SystemTime::now);
    Some(OpenSpan { tracer: tracer.clone(), context, start })
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
    if let Some(open) = span {
        let span = server_span(&open, ctx, status, elapsed);
        if !open.tracer.record(span) {
            let help = "Spans dropped because the export queue was full.";
            metrics.inc("otlp_spans_dropped_total", help, &[], 1);
        }
    }
}

/// The finished span: named after the route label (the service, or the gateway's own route).
fn server_span(open: &OpenSpan, ctx: &RequestContext, status: u16, elapsed: std::time::Duration) -> Span {
    let mut span = Span::server(open.context, format!("{} {}", ctx.method, ctx.route), open.start, elapsed)
        .attr("http.request.method", ctx.method.as_str())
        .attr("http.route", ctx.route.as_str())
        .attr("url.path", crm_common::http::secret_path::loggable(&ctx.path).into_owned())
        .attr("http.response.status_code", i64::from(status))
        .attr("client.address", ctx.client_ip.to_string())
        .attr("http.request.header.x-request-id", vec![ctx.request_id.clone()]);
    if let Some(user) = ctx.user_id {
        span = span.attr("user.id", user.to_string());
    }
    if let Some(failure) = ctx.failure {
        span = span.attr("error.type", failure);
    }
    if status >= 500 {
        if ctx.failure.is_none() {
            span = span.attr("error.type", status.to_string());
        }
        span.error = true;
    }
    span
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
