//! Phase 5 — proxy: send the request to the chosen upstream and stream the answer back.
//!
//! Failures map to the envelope: upstream unreachable, circuit open or saturated → 503, the
//! client's address holding its share of the service already → 429, no answer in time → 504,
//! anything that is not a valid response (an unrequested `101`, a transfer coding other than
//! `chunked`) → 502. Only bodiless GET, HEAD and OPTIONS are retried, only on connect errors, and
//! only within the upstream's retry budget. The response timeout counts from the last
//! request-body byte the client sent, so a slow large upload is not cut off while it is still
//! moving — as long as it keeps its [`Pace`] (400 otherwise).

pub mod headers;
mod upgrade;

use crate::body::{BoxError, Guarded, IdleTimeout, LimitedBody, Pace, Progress};
use crate::context::{RequestContext, Route};
use crate::phases::route::Target;
use crate::upstream::pool::{Lease, LeasedBody, SendError};
use crate::upstream::{Refused, Slot, Upstream};
use axum::body::Body;
use crm_common::ApiError;
use crm_common::http::Metrics;
use crm_common::net::Proxies;
use http::{HeaderMap, Method, Request, Response, StatusCode, Version};
use hyper::body::{Bytes, Incoming};
use std::sync::Arc;
use std::time::Duration;

pub struct Proxy {
    pub metrics: Arc<Metrics>,
    pub trusted: Proxies,
    pub body_limit: usize,
    pub retries: u32,
    /// How long an upgraded connection may carry nothing either way before it is closed.
    pub tunnel_idle: Duration,
    /// How fast a streamed request body must arrive.
    pub pace: Pace,
    /// Path prefixes where a WebSocket upgrade may pass (see [`headers::websocket_upgrade`]).
    pub websocket_paths: Arc<[String]>,
}

pub enum Failure {
    Connect(String),
    Timeout,
    TooLarge,
    /// The client's own request body failed (it went away mid-upload): not the upstream's fault.
    ClientBody(String),
    /// The client sent its body too slowly (see [`Pace`]): not the upstream's fault either.
    SlowBody,
    BadResponse(String),
}

/// Methods whose bodiless requests may be sent again after a connect error.
pub fn retryable_method(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn retryable<B: hyper::body::Body>(method: &Method, headers: &HeaderMap, body: &B) -> bool {
    retryable_method(method) && body.is_end_stream() && !headers.contains_key(http::header::TRANSFER_ENCODING)
}

impl Proxy {
    fn error(&self, ctx: &mut RequestContext, upstream: &str, kind: &'static str) {
        ctx.fail(kind);
        self.metrics.inc(
            "gateway_upstream_errors_total",
            "Requests the gateway could not complete with an upstream, by kind.",
            &[("upstream", upstream), ("kind", kind)],
            1,
        );
    }

    /// A place for one request at `upstream`, unless its circuit is open, it has its maximum
    /// in flight, or the client has its share of that in flight (429). Clients that are trusted
    /// proxies themselves (a request through one that names no client) are not bounded per
    /// address: what comes through them is many clients.
    pub fn acquire<U>(&self, ctx: &mut RequestContext, upstream: U) -> Result<Slot<U>, ApiError>
    where
        U: std::ops::Deref<Target = Upstream>,
    {
        ctx.upstream = Some(upstream.name);
        ctx.route = Route::Service(upstream.name);
        if !upstream.admit() {
            self.error(ctx, upstream.name, "circuit_open");
            return Err(ApiError::Unavailable("service temporarily unavailable".into()));
        }
        let client = (!self.trusted.contains(&ctx.client_ip)).then_some(ctx.client_ip);
        let slot = match Upstream::try_acquire(upstream, client) {
            Ok(slot) => slot,
            Err((upstream, Refused::Saturated)) => {
                self.error(ctx, upstream.name, "saturated");
                return Err(ApiError::Unavailable("service busy".into()));
            }
            Err((upstream, Refused::Client)) => {
                self.error(ctx, upstream.name, "client_saturated");
                return Err(ApiError::TooManyRequests {
                    message: "too many requests in flight from this client".into(),
                    retry_after_secs: 1,
                });
            }
        };
        slot.on_request();
        Ok(slot)
    }

    /// Whether a request that met a connect error after `attempt` retries may go once more: within
    /// `CRM_UPSTREAM_RETRIES` and the upstream's retry budget (spent when granted).
    pub fn may_retry_connect(&self, upstream: &Upstream, attempt: u32) -> bool {
        attempt < self.retries && upstream.try_retry()
    }

    /// Counts a connect error's retry; see [`Proxy::exchange`].
    pub fn count_retry(&self, upstream: &Upstream, attempt: u32, reason: &str) {
        self.metrics.inc(
            "gateway_upstream_retries_total",
            "Requests sent again after a connect error (bodiless GET/HEAD/OPTIONS only).",
            &[("upstream", upstream.name)],
            1,
        );
        tracing::debug!(upstream = %upstream.name, attempt, reason, "retrying after connect error");
    }

    /// Forwards a request whose body is the client's stream ([`Incoming`]) or, for a login, the
    /// bytes already read.
    pub async fn forward<B>(
        &self,
        mut request: Request<B>,
        ctx: &mut RequestContext,
        target: Target<'_>,
    ) -> Result<Response<Body>, ApiError>
    where
        B: hyper::body::Body<Data = Bytes> + Send + Unpin + 'static,
        B::Error: Into<BoxError>,
    {
        // Held until the response body is done; the rest of the exchange reaches the upstream
        // through it.
        let upstream = self.acquire(ctx, target.upstream.clone())?;

        let upgrade = headers::websocket_upgrade(&request, &self.websocket_paths);
        // Taken before the upstream is asked, so a refused upgrade never reaches it.
        let tunnel_slot = match upgrade.then(|| upstream.open_tunnel()) {
            Some(None) => {
                self.error(ctx, upstream.name, "tunnels_full");
                return Err(ApiError::Unavailable("too many open connections to this service".into()));
            }
            taken => taken.flatten(),
        };
        let client_upgrade = upgrade.then(|| hyper::upgrade::on(&mut request));
        let (mut parts, body) = request.into_parts();
        parts.uri = upstream
            .target(std::mem::take(&mut parts.uri))
            .map_err(|_| ApiError::bad_request("invalid request path"))?;
        parts.version = Version::HTTP_11;
        headers::to_upstream(&mut parts.headers, ctx, &self.trusted, upgrade);
        headers::normalise_length(&mut parts.headers, body.size_hint().exact());
        let may_retry = !upgrade && retryable(&parts.method, &parts.headers, &body);
        let (request, progress) = if may_retry {
            (Request::from_parts(parts, Body::empty()), None)
        } else {
            let (body, progress) = LimitedBody::new(body, self.body_limit, Some(self.pace));
            (Request::from_parts(parts, Body::new(body)), Some(progress))
        };
        let (mut response, lease) =
            match self.exchange(&upstream, request, may_retry, target.timeout, progress.as_ref()).await {
                Ok(exchanged) => exchanged,
                Err(failure) => return Err(self.fail(ctx, &upstream, failure)),
            };
        if let Err(reason) = headers::check_response(&response, upgrade) {
            return Err(self.fail(ctx, &upstream, Failure::BadResponse(reason.into())));
        }
        upstream.record_success();

        if response.status() == StatusCode::SWITCHING_PROTOCOLS
            && let (Some(client_upgrade), Some(slot)) = (client_upgrade, tunnel_slot)
        {
            let upstream_upgrade = hyper::upgrade::on(&mut response);
            upgrade::Tunnel {
                client: client_upgrade,
                upstream: upstream_upgrade,
                service: upstream.name,
                request_id: ctx.request_id.clone(),
                idle_limit: self.tunnel_idle,
                slot,
            }
            .spawn();
            drop(lease);
            let (mut parts, _) = response.into_parts();
            headers::strip_hop_by_hop(&mut parts.headers, true);
            return Ok(Response::from_parts(parts, Body::empty()));
        }
        let (mut parts, body) = response.into_parts();
        headers::from_upstream(&mut parts.headers, parts.status);
        let body = Guarded::new(IdleTimeout::new(LeasedBody::new(body, lease), target.timeout), upstream);
        Ok(Response::from_parts(parts, Body::new(body)))
    }

    /// The exchange, with connect errors retried for bodiless idempotent requests (`may_retry`)
    /// within the upstream's budget: the pool hands back a request it could not send.
    async fn exchange(
        &self,
        upstream: &Upstream,
        mut request: Request<Body>,
        may_retry: bool,
        timeout: Duration,
        progress: Option<&Arc<Progress>>,
    ) -> Result<(Response<Incoming>, Lease), Failure> {
        let mut attempt = 0;
        loop {
            match send(upstream, request, timeout, progress).await {
                Ok(exchanged) => return Ok(exchanged),
                Err((Failure::Connect(reason), Some(unsent)))
                    if may_retry && self.may_retry_connect(upstream, attempt) =>
                {
                    attempt += 1;
                    request = unsent;
                    self.count_retry(upstream, attempt, &reason);
                }
                Err((failure, _)) => return Err(failure),
            }
        }
    }

    pub fn fail(&self, ctx: &mut RequestContext, upstream: &Upstream, failure: Failure) -> ApiError {
        let (kind, error) = match failure {
            Failure::TooLarge => {
                ctx.fail("body_too_large");
                return ApiError::payload_too_large();
            }
            Failure::SlowBody => {
                tracing::info!(upstream = %upstream.name, request_id = %ctx.request_id, "client body too slow");
                ctx.fail("slow_body");
                return ApiError::bad_request("request body not received in time");
            }
            Failure::ClientBody(reason) => {
                tracing::info!(upstream = %upstream.name, request_id = %ctx.request_id, reason, "client body failed");
                ctx.fail("client_body");
                return ApiError::bad_request("request body incomplete");
            }
            Failure::Connect(reason) => {
                tracing::warn!(upstream = %upstream.name, request_id = %ctx.request_id, reason, "upstream unreachable");
                ("connect", ApiError::Unavailable("service unavailable".into()))
            }
            Failure::Timeout => ("timeout", ApiError::GatewayTimeout("service did not answer in time".into())),
            Failure::BadResponse(reason) => {
                tracing::warn!(upstream = %upstream.name, request_id = %ctx.request_id, reason, "bad upstream response");
                ("bad_response", ApiError::BadGateway("invalid response from service".into()))
            }
        };
        self.error(ctx, upstream.name, kind);
        if upstream.record_failure() {
            tracing::warn!(upstream = %upstream.name, "circuit opened after repeated failures");
        }
        error
    }
}

/// One exchange, with the response timeout measured from the later of the start and the last
/// request-body frame. A request that could not be sent comes back with its failure.
async fn send(
    upstream: &Upstream,
    request: Request<Body>,
    timeout: Duration,
    progress: Option<&Arc<Progress>>,
) -> Result<(Response<Incoming>, Lease), (Failure, Option<Request<Body>>)> {
    let mut exchange = std::pin::pin!(upstream.send(request));
    let start = tokio::time::Instant::now();
    let mut deadline = start + timeout;
    loop {
        tokio::select! {
            result = &mut exchange => {
                return result.map_err(|(err, unsent)| match err {
                    SendError::Connect(reason) => (Failure::Connect(reason), unsent),
                    SendError::Exchange(_) if progress.is_some_and(|p| p.exceeded()) => (Failure::TooLarge, None),
                    SendError::Exchange(_) if progress.is_some_and(|p| p.too_slow()) => (Failure::SlowBody, None),
                    SendError::Exchange(err) if err.is_user() => (Failure::ClientBody(error_chain(&err)), None),
                    SendError::Exchange(err) => (Failure::BadResponse(error_chain(&err)), None),
                });
            }
            () = tokio::time::sleep_until(deadline) => {
                let active = progress.map(|p| p.last_activity() + timeout);
                match active {
                    Some(later) if later > deadline => deadline = later,
                    _ => return Err((Failure::Timeout, None)),
                }
            }
        }
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
