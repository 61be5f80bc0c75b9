//! One request on the direct path: the same phases as the general path ([`Gateway::admit`], the
//! proxy's admission, header rewriting and failure mapping, the edge headers and the access
//! record), with the exchange done on [`relay`] connections and the response written straight to
//! the client.

use super::deadline::Deadline;
use super::relay::{self, Conn, RelayError};
use super::wire::{self, Framing};
use crate::context::{Connection, RequestContext};
use crate::phases::edge::Value;
use crate::phases::proxy::headers::{self, Forwarded};
use crate::phases::proxy::{self, Failure};
use crate::phases::{edge, identify, log};
use crate::pipeline::{Admitted, Gateway};
use axum::body::Body;
use axum::response::IntoResponse;
use bytes::{Bytes, BytesMut};
use crm_common::ApiError;
use crm_common::api::in_request;
use http::request::Parts;
use http::{HeaderValue, Method, Response, StatusCode, header};
use http_body_util::BodyExt;
use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::io::AsyncWrite;

/// Largest answer of the gateway's own (an error envelope, a redirect) written on this path.
const ANSWER_LIMIT: usize = 1024 * 1024;

/// What a client connection keeps from one request to the next for the service side.
pub struct Scratch {
    /// Where the request for the service, then the response for the client, is put together.
    pub out: BytesMut,
    /// Bounds each wait on the service (see [`Deadline`]).
    pub deadline: Deadline,
}

/// What was written to the client.
struct Written {
    status: StatusCode,
    /// The response went out whole and the connection may carry another request.
    reusable: bool,
}

/// Serves `request` (its body already read) and writes the response; returns whether the client
/// connection may carry another request.
pub async fn serve<S: AsyncWrite + Unpin>(
    gateway: &Gateway,
    request: wire::Request,
    body: Bytes,
    connection: &Connection,
    client: &mut S,
    scratch: &mut Scratch,
) -> bool {
    let wire::Request { parts, close, length_declared, .. } = request;
    let mut ctx = identify::begin(&parts, connection.clone(), &gateway.trusted);
    let method = parts.method.clone();
    // No request-id scope around the whole exchange (the general path's): on this path only an
    // error becomes an envelope, and it is made here.
    let length = length_declared.then_some(body.len());
    let written = match respond(gateway, parts, body, length, &mut ctx, close, client, scratch).await {
        Ok(written) => written,
        Err(error) => {
            let response = in_request(ctx.request_id.clone(), || error.into_response());
            answer(gateway, response, &ctx, &method, close, client, &mut scratch.out).await
        }
    };
    log::record(&ctx, written.status.as_u16(), gateway, None);
    written.reusable && !close
}

/// The phases, the exchange and the relay of the response. An error is returned only while
/// nothing has been written to the client, so that it can still be answered with an envelope.
#[allow(clippy::too_many_arguments)]
async fn respond<S: AsyncWrite + Unpin>(
    gateway: &Gateway,
    parts: Parts,
    body: Bytes,
    length: Option<usize>,
    ctx: &mut RequestContext,
    close: bool,
    client: &mut S,
    scratch: &mut Scratch,
) -> Result<Written, ApiError> {
    let Scratch { out, deadline } = scratch;
    let target = match gateway.admit(&parts, ctx).await? {
        Admitted::Forward(target) => target,
        Admitted::Answered(response) => {
            return Ok(answer(gateway, response, ctx, &parts.method, close, client, out).await);
        }
    };
    let proxy = &gateway.proxy;
    let upstream = proxy.acquire(ctx, &**target.upstream)?;
    out.clear();
    let forwarded = Forwarded::new(&parts.headers, ctx, &proxy.trusted);
    let (mut endpoint, mut tried) = (upstream.pick(), 1);
    upstream_request(out, &parts, length, &body, &upstream, endpoint, ctx, &forwarded);
    let may_retry = body.is_empty() && proxy::retryable_method(&parts.method);

    let (mut attempt, mut replaced) = (0, false);
    let (mut conn, head): (Conn, wire::Response) = loop {
        let idle = upstream.endpoint(endpoint).direct();
        let exchanged = match idle.take(replaced).await {
            Ok((mut conn, reused)) => {
                conn.exchange(out, &parts.method, reused, deadline, target.timeout).await.map(|head| (conn, head))
            }
            Err(failure) => Err(failure),
        };
        match exchanged {
            Ok(pair) => break pair,
            // A kept-alive connection the service had closed: once more on a new one, when safe.
            Err(relay::Failure::Stale) if may_retry && !replaced => replaced = true,
            // Nothing was sent: another replica may take it, whatever the method.
            Err(relay::Failure::Connect(reason)) if tried < upstream.endpoint_count() => {
                match upstream.fail_over(endpoint, tried) {
                    Some(next) => {
                        (endpoint, tried, replaced) = (next, tried + 1, false);
                        upstream_request(out, &parts, length, &body, &upstream, endpoint, ctx, &forwarded);
                    }
                    None => return Err(proxy.fail(ctx, &upstream, Failure::Connect(reason))),
                }
            }
            Err(relay::Failure::Connect(reason)) if may_retry && proxy.may_retry_connect(&upstream, attempt) => {
                attempt += 1;
                proxy.count_retry(&upstream, attempt, &reason);
            }
            Err(failure) => {
                let failure = match failure {
                    relay::Failure::Connect(reason) => Failure::Connect(reason),
                    relay::Failure::Timeout => Failure::Timeout,
                    relay::Failure::Stale => Failure::BadResponse("connection closed before a response".into()),
                    relay::Failure::BadResponse(reason) => Failure::BadResponse(reason),
                };
                return Err(proxy.fail(ctx, &upstream, failure));
            }
        }
    };
    upstream.record_success();

    let (status, framing) = (head.status, head.framing);
    let ends = close || framing == Framing::Close;
    out.clear();
    relayed_head(out, &head, conn.headers(&head), &edge::Decided::new(ctx, &gateway.cors), ends);
    match relay::body(&mut conn, framing, client, out, deadline, target.timeout).await {
        Ok(clean) => {
            if clean && !head.close {
                upstream.endpoint(endpoint).direct().put(conn);
            }
            Ok(Written { status, reusable: !ends })
        }
        Err(RelayError::Client) => {
            ctx.fail("client_gone");
            Ok(Written { status, reusable: false })
        }
        Err(RelayError::SendTimeout) => {
            ctx.fail("send_timeout");
            Ok(Written { status, reusable: false })
        }
        Err(RelayError::Upstream(reason)) => {
            tracing::warn!(upstream = %upstream.name, request_id = %ctx.request_id, reason, "response body cut short");
            ctx.fail("upstream_body");
            Ok(Written { status, reusable: false })
        }
    }
}

/// The whole request for `endpoint` of `upstream`, in `out`: its head, then the body.
#[allow(clippy::too_many_arguments)]
fn upstream_request(
    out: &mut BytesMut,
    parts: &Parts,
    length: Option<usize>,
    body: &Bytes,
    upstream: &crate::upstream::Upstream,
    endpoint: usize,
    ctx: &RequestContext,
    forwarded: &Forwarded,
) {
    out.clear();
    upstream_head(out, parts, length, upstream.base_path(), upstream.endpoint(endpoint).host(), ctx, forwarded);
    out.extend_from_slice(body);
}

/// The request head for the service: the client's headers less the hop-by-hop ones, its `Host`,
/// and those the gateway sets (request id, trace context, `X-Forwarded-*`, `X-Real-IP`) or
/// normalises (`Content-Length`, as the number `length`), then the gateway's. (`Connection` names
/// no header here: [`wire::request`] leaves such a request to the general path; nor does any
/// name have an underscore, which it dropped.)
fn upstream_head(
    out: &mut BytesMut,
    parts: &Parts,
    length: Option<usize>,
    base: &str,
    host: &[u8],
    ctx: &RequestContext,
    forwarded: &Forwarded,
) {
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    wire::put_request_line(out, &parts.method, base, target, host);
    for (name, value) in &parts.headers {
        let name = name.as_str().as_bytes();
        let set_here = name == b"x-request-id" || name == b"traceparent" || name == b"content-length";
        if !(set_here || headers::hop_by_hop(name) || headers::client_only(name) || forwarded.replaces(name)) {
            wire::put_field(out, name, value.as_bytes());
        }
    }
    if let Some(length) = length {
        put_length(out, length as u64);
    }
    wire::put_field(out, b"x-request-id", ctx.request_id.as_bytes());
    wire::put_field(out, b"traceparent", ctx.traceparent.as_bytes());
    forwarded.each(parts.headers.get(header::HOST), |name, value| {
        wire::put_field(out, name.as_str().as_bytes(), value.as_bytes());
    });
    out.extend_from_slice(b"\r\n");
}

/// The response head for the client: the service's header lines as they came, less the
/// hop-by-hop ones (and those its `Connection` names) and those the gateway decides, then the
/// gateway's own and the framing.
fn relayed_head<'a>(
    out: &mut BytesMut,
    head: &wire::Response,
    fields: impl Iterator<Item = (&'a [u8], &'a [u8])> + Clone,
    decided: &edge::Decided<'_>,
    ends: bool,
) {
    // Names the service's `Connection` lists beyond its own options (usually none).
    let mut named: [&[u8]; 8] = [b""; 8];
    let mut count = 0;
    for (_, value) in fields.clone().filter(|(name, _)| name.eq_ignore_ascii_case(b"connection")) {
        for token in value.split(|b| *b == b',').map(<[u8]>::trim_ascii) {
            let option = token.eq_ignore_ascii_case(b"keep-alive") || token.eq_ignore_ascii_case(b"close");
            if !(token.is_empty() || option) && count < named.len() {
                named[count] = token;
                count += 1;
            }
        }
    }
    let named = &named[..count];
    wire::put_status(out, head.status);
    let mut dated = false;
    for (name, value) in fields {
        let listed = named.iter().any(|token| token.eq_ignore_ascii_case(name));
        if !(headers::hop_by_hop(name) || decided.overrides(name) || listed) {
            dated |= name.eq_ignore_ascii_case(b"date");
            wire::put_field(out, name, value);
        }
    }
    // A proxy forwarding a response without a date adds one (RFC 9110 §6.6.1).
    if !dated {
        with_date(|date| wire::put_field(out, b"date", date.as_bytes()));
    }
    decided.each(|name, value| {
        let name = name.as_str().as_bytes();
        match value {
            Value::Static(text) | Value::Text(text) => wire::put_field(out, name, text.as_bytes()),
            Value::Header(value) => wire::put_field(out, name, value.as_bytes()),
            Value::Number(n) => wire::put_field(out, name, n.to_string().as_bytes()),
        }
    });
    if let Some(length) = head.length {
        put_length(out, length);
    }
    if head.framing == Framing::Chunked {
        out.extend_from_slice(b"transfer-encoding: chunked\r\n");
    }
    if ends {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

fn put_length(out: &mut BytesMut, length: u64) {
    out.extend_from_slice(b"content-length: ");
    wire::put_number(out, length, 10);
    out.extend_from_slice(b"\r\n");
}

/// Writes an answer of the gateway's own (an error envelope, a redirect): whole, with its length.
async fn answer<S: AsyncWrite + Unpin>(
    gateway: &Gateway,
    response: Response<Body>,
    ctx: &RequestContext,
    method: &Method,
    close: bool,
    client: &mut S,
    out: &mut BytesMut,
) -> Written {
    let (mut parts, body) = response.into_parts();
    let body = match http_body_util::Limited::new(body, ANSWER_LIMIT).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    edge::finish(&mut parts.headers, ctx, &gateway.cors);
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    if !parts.headers.contains_key(header::DATE)
        && let Ok(date) = with_date(HeaderValue::from_str)
    {
        parts.headers.insert(header::DATE, date);
    }
    out.clear();
    wire::put_response(out, parts.status, &parts.headers, if close { b"connection: close\r\n" } else { b"" });
    if *method != Method::HEAD {
        out.extend_from_slice(&body);
    }
    let sent = relay::flush(client, out).await.is_ok();
    Written { status: parts.status, reusable: sent && !close }
}

thread_local! {
    /// The current second as a `Date` value, and which second it is.
    static DATE: RefCell<(u64, String)> = const { RefCell::new((0, String::new())) };
}

/// Calls `f` with the current time as an HTTP date, formatted once a second per thread.
fn with_date<R>(f: impl FnOnce(&str) -> R) -> R {
    let now = SystemTime::now();
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    DATE.with_borrow_mut(|(at, text)| {
        if *at != second || text.is_empty() {
            *at = second;
            *text = httpdate::fmt_http_date(now);
        }
        f(text)
    })
}
