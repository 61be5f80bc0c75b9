//! The gateway's request pipeline: the phases in order, one [`RequestContext`] passed through.
//!
//! identify → (edge checks) → authenticate → limit (a login's body read here) → choose upstream →
//! proxy → log.
//! A phase that refuses the request ends the pipeline with an envelope; the log phase runs for
//! every request, refused or not.

use crate::context::{Connection, RequestContext, Route, Scheme};
use crate::docs::Docs;
use crate::local::{self, Local};
use crate::phases::authenticate::Authenticator;
use crate::phases::edge::{self, Cors};
use crate::phases::limit::Limiter;
use crate::phases::proxy::Proxy;
use crate::phases::route::{RouteTable, Target};
use crate::phases::{identify, log, login};
use axum::body::Body;
use axum::response::IntoResponse;
use crm_common::ApiError;
use crm_common::api::with_request_id;
use crm_common::http::Metrics;
use crm_common::net::Proxies;
use crm_common::telemetry::otlp::Tracer;
use http::request::Parts;
use http::{Method, Request, Response};
use hyper::body::Incoming;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the phases before the proxy ended for a request they did not refuse.
pub(crate) enum Admitted<'a> {
    /// The gateway answered itself (its own routes, redirects, preflights).
    Answered(Response<Body>),
    Forward(Target<'a>),
}

pub struct Gateway {
    pub(crate) started: Instant,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) routes: RouteTable,
    pub(crate) auth: Authenticator,
    pub(crate) limiter: Limiter,
    pub(crate) proxy: Proxy,
    pub(crate) cors: Cors,
    pub(crate) trusted: Proxies,
    pub(crate) body_limit: usize,
    /// The longest a write to a client may make no progress ([`crate::client_io`]).
    pub(crate) send_timeout: Duration,
    pub(crate) health_deadline: Duration,
    /// The merged OpenAPI document, kept for a short while.
    pub(crate) docs: Docs,
    /// Whether simple requests take the direct path ([`crate::h1`]).
    pub(crate) direct_path: bool,
    /// The HTTPS port plain requests are redirected to; `None` = serve plain requests.
    pub(crate) redirect_to: Option<u16>,
    /// Where server spans go; `None` = traces are not exported (and `traceparent` passes through).
    pub(crate) tracer: Option<Tracer>,
}

impl Gateway {
    pub async fn handle(self: Arc<Self>, request: Request<Incoming>, connection: Connection) -> Response<Body> {
        let (mut parts, body) = request.into_parts();
        let incoming_trace = self.tracer.as_ref().and_then(|_| parts.headers.get(identify::TRACEPARENT).cloned());
        let mut ctx = identify::begin(&parts, connection, &self.trusted);
        identify::stamp(&mut parts.headers, &ctx);
        let span = log::open_span(self.tracer.as_ref(), &mut parts.headers, &mut ctx, incoming_trace.as_ref());
        let request = Request::from_parts(parts, body);
        let id = ctx.request_id.clone();
        // Boxed: hyper moves the future it is handed several times per request, and the
        // pipeline's is a few KiB. (Bound with `let`: a temporary in the awaited expression would
        // keep the unboxed future's space in this one's state as well.)
        let pipeline = Box::pin(with_request_id(id, self.respond(request, &mut ctx)));
        let mut response = pipeline.await;
        edge::finish(response.headers_mut(), &ctx, &self.cors);
        log::complete(response, ctx, self, span)
    }

    async fn respond(&self, request: Request<Incoming>, ctx: &mut RequestContext) -> Response<Body> {
        self.phases(request, ctx).await.unwrap_or_else(IntoResponse::into_response)
    }

    async fn phases(&self, request: Request<Incoming>, ctx: &mut RequestContext) -> Result<Response<Body>, ApiError> {
        let (parts, body) = request.into_parts();
        let target = match self.admit(&parts, ctx).await? {
            Admitted::Answered(response) => return Ok(response),
            Admitted::Forward(target) => target,
        };
        // A login is also counted per account, which only its (small) body names: that one body
        // is read, counted and forwarded as read. Every other body streams.
        if self.limiter.enabled() && login::applies(&parts.method, &ctx.path) {
            let login = Box::pin(async {
                let request = login::run(&self.limiter, parts, body, self.body_limit, ctx).await?;
                self.proxy.forward(request, ctx, target).await
            });
            return login.await;
        }
        self.proxy.forward(Request::from_parts(parts, body), ctx, target).await
    }

    /// Every phase before the proxy, on the request head: the request is refused, answered by the
    /// gateway itself, or admitted to its upstream.
    pub(crate) async fn admit(&self, parts: &Parts, ctx: &mut RequestContext) -> Result<Admitted<'_>, ApiError> {
        if let Err(error) = identify::check_target(parts) {
            ctx.fail("bad_target");
            return Err(error);
        }
        if let Err(error) = identify::check_host(parts) {
            ctx.fail("bad_host");
            return Err(error);
        }
        if ctx.connection.scheme == Scheme::Http
            && let Some(port) = self.redirect_to
            && ctx.path != "/health"
        {
            ctx.route = "gateway:redirect".into();
            return Ok(Admitted::Answered(local::redirect(parts, port)));
        }
        if let Some(response) = self.cors.preflight(parts, ctx) {
            ctx.route = "gateway:preflight".into();
            return Ok(Admitted::Answered(response));
        }
        if let Err(error) = edge::check_length(parts, self.body_limit) {
            ctx.fail("body_too_large");
            return Err(error);
        }
        if let Some(local) = local::match_local(&parts.method, ctx) {
            self.auth.run(parts, ctx).await?;
            // Boxed, like every rare path below: an inlined future would make the state machine
            // of every proxied request as large as its largest branch.
            let local = Box::pin(self.local(local));
            return Ok(Admitted::Answered(local.await));
        }
        // The route is looked up first only to label logs and metrics; an unknown service is
        // reported after authentication, so the route table is not revealed to anonymous callers.
        let target = self.routes.choose(&ctx.path);
        if let Ok(target) = &target {
            ctx.route = Route::Service(target.upstream.name);
        }
        self.auth.run(parts, ctx).await?;
        self.limiter.run(ctx).await?;
        let target = target.inspect_err(|_| ctx.fail("no_route"))?;
        Ok(Admitted::Forward(target))
    }

    /// Whether connections of `scheme` start on the direct path ([`crate::h1`]): not while traces
    /// are exported, nor on a plain listener that redirects to HTTPS.
    pub(crate) fn direct_connection(&self, scheme: Scheme) -> bool {
        self.direct_path && self.tracer.is_none() && !(scheme == Scheme::Http && self.redirect_to.is_some())
    }

    /// Whether the direct path may serve `method path`: a plain forward to a service, with none
    /// of the gateway's own routes, preflights or per-account login counting involved. Looks at
    /// nothing that changes state, so a request turned away here is served by the general path as
    /// if it had come there first.
    pub(crate) fn direct(&self, method: &Method, path: &str) -> bool {
        *method != Method::OPTIONS
            && local::local_route(method, path).is_none()
            && !(self.limiter.enabled() && login::applies(method, path))
            && self.routes.owner(path).is_some()
    }

    /// What the gateway answers itself.
    async fn local(&self, local: Local) -> Response<Body> {
        match local {
            Local::Health => local::health(self.started),
            Local::ServicesHealth => local::services_health(&self.routes, self.health_deadline).await,
            Local::Metrics => {
                self.limiter.report_fallbacks();
                local::metrics(&self.metrics, &self.routes)
            }
            Local::OpenApi => self.docs.openapi(&self.routes).await,
            Local::Docs(asset) => asset.response(),
        }
    }
}
