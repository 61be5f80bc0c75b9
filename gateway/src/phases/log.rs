//! Phase 6 — log: one JSON access-log line and the request metrics per request, written when the
//! response body is finished (or the client went away), so `duration_ms` covers the whole
//! exchange, streaming included. No tokens, no bodies, no query strings.

use crate::body::Guarded;
use crate::context::RequestContext;
use axum::body::Body;
use crm_common::http::Metrics;
use http::Response;
use std::sync::Arc;

struct AccessRecord {
    ctx: RequestContext,
    status: u16,
    metrics: Arc<Metrics>,
}

impl Drop for AccessRecord {
    fn drop(&mut self) {
        let ctx = &self.ctx;
        let elapsed = ctx.started.elapsed();
        self.metrics.observe_request(&ctx.route, ctx.method.as_str(), self.status, elapsed);
        if ctx.route == "gateway:metrics" || ctx.route == "gateway:health" {
            return;
        }
        tracing::info!(
            target: "access",
            method = %ctx.method,
            route = %ctx.route,
            path = %ctx.path,
            status = self.status,
            duration_ms = (elapsed.as_secs_f64() * 1000.0 * 100.0).round() / 100.0,
            upstream = ctx.upstream.as_deref().unwrap_or("-"),
            request_id = %ctx.request_id,
            user_id = ctx.user_id.map(|u| u.to_string()).unwrap_or_default(),
            failure = ctx.failure.unwrap_or("-"),
            "request"
        );
    }
}

/// Attaches the access record to the response body; it is written when the body is dropped.
pub fn complete(response: Response<Body>, ctx: RequestContext, metrics: Arc<Metrics>) -> Response<Body> {
    let status = response.status().as_u16();
    let record = AccessRecord { ctx, status, metrics };
    response.map(|body| Body::new(Guarded::new(body, record)))
}
