//! Edge hygiene around every request: CORS preflights answered here, body size checked from
//! `Content-Length` before anything else happens (streamed bytes are counted by
//! [`crate::body::LimitedBody`]), and the security and CORS headers every response leaves with.

use crate::context::{RequestContext, Scheme};
use crate::phases::identify::{REQUEST_ID_NAME, TRACEPARENT_NAME};
use axum::body::Body;
use crm_common::ApiError;
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode, header};

const EXPOSED: &str =
    "x-request-id, traceparent, retry-after, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset";
const ALLOWED_METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS, HEAD";
const DEFAULT_ALLOWED_HEADERS: &str =
    "authorization, content-type, x-request-id, traceparent, tracestate, x-organization-id, accept-language";

/// Which browser origins may read responses.
#[derive(Debug, Clone, Default)]
pub struct Cors {
    origins: Vec<String>,
    any: bool,
}

impl Cors {
    pub fn new(origins: &[String]) -> Self {
        let any = origins.iter().any(|o| o == "*");
        Self { origins: origins.iter().filter(|o| *o != "*").cloned().collect(), any }
    }

    /// The `Access-Control-Allow-Origin` value for `origin`, and whether credentials are allowed.
    /// A listed origin is echoed with credentials; `*` never comes with credentials.
    fn allow(&self, origin: Option<&HeaderValue>) -> Option<(HeaderValue, bool)> {
        let origin = origin?;
        let text = origin.to_str().ok()?;
        if self.origins.iter().any(|o| o.eq_ignore_ascii_case(text)) {
            Some((origin.clone(), true))
        } else if self.any {
            Some((HeaderValue::from_static("*"), false))
        } else {
            None
        }
    }

    /// Answers a CORS preflight without involving any upstream; `None` for other requests.
    pub fn preflight(&self, parts: &Parts, ctx: &RequestContext) -> Option<Response<Body>> {
        if parts.method != Method::OPTIONS || !parts.headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
            return None;
        }
        let Some((origin, credentials)) = self.allow(ctx.origin.as_ref()) else {
            return Some(axum::response::IntoResponse::into_response(ApiError::forbidden("origin not allowed")));
        };
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NO_CONTENT;
        let h = response.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if credentials {
            h.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        }
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(ALLOWED_METHODS));
        let requested = parts.headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            requested.unwrap_or(HeaderValue::from_static(DEFAULT_ALLOWED_HEADERS)),
        );
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        h.append(header::VARY, HeaderValue::from_static("origin"));
        Some(response)
    }
}

/// 413 before the body is read when the declared length is over the limit.
pub fn check_length(parts: &Parts, limit: usize) -> Result<(), ApiError> {
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
    match declared.map(|v| v.trim().parse::<u64>()) {
        Some(Ok(n)) if n > limit as u64 => Err(ApiError::payload_too_large()),
        Some(Err(_)) => Err(ApiError::bad_request("invalid content-length")),
        _ => Ok(()),
    }
}

/// A value the gateway sets on a response.
pub enum Value<'a> {
    Static(&'static str),
    Text(&'a str),
    Number(u64),
    Header(&'a HeaderValue),
}

/// When the gateway decides a response header, whatever the upstream said.
#[derive(Clone, Copy)]
enum When {
    Always,
    /// The request was counted against a rate limit.
    Limited,
    Https,
}

/// Every response header the gateway may decide, and when it does.
const DECIDABLE: [(&str, When); 12] = [
    ("x-request-id", When::Always),
    ("traceparent", When::Always),
    ("x-ratelimit-limit", When::Limited),
    ("x-ratelimit-remaining", When::Limited),
    ("x-ratelimit-reset", When::Limited),
    ("access-control-allow-origin", When::Always),
    ("access-control-allow-credentials", When::Always),
    ("access-control-expose-headers", When::Always),
    ("x-content-type-options", When::Always),
    ("x-frame-options", When::Always),
    ("referrer-policy", When::Always),
    ("strict-transport-security", When::Https),
];
const RATE_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const RATE_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const RATE_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// The headers every response leaves with, for one request: request id, trace context, rate-limit
/// state, CORS and the security headers. The gateway alone decides these (an upstream's value is
/// replaced), except `Vary`, which it adds to.
pub struct Decided<'a> {
    ctx: &'a RequestContext,
    allow: Option<(HeaderValue, bool)>,
    vary: bool,
}

impl<'a> Decided<'a> {
    pub fn new(ctx: &'a RequestContext, cors: &Cors) -> Self {
        Self { ctx, allow: cors.allow(ctx.origin.as_ref()), vary: !cors.origins.is_empty() }
    }

    /// Whether an upstream's header called `name` (any case) is replaced by the gateway's.
    pub fn overrides(&self, name: &[u8]) -> bool {
        DECIDABLE.iter().any(|&(decidable, when)| {
            name.eq_ignore_ascii_case(decidable.as_bytes())
                && match when {
                    When::Always => true,
                    When::Limited => self.ctx.rate.is_some(),
                    When::Https => self.ctx.connection.scheme == Scheme::Https,
                }
        })
    }

    /// The gateway's own headers, in order.
    pub fn each(&self, mut f: impl FnMut(&HeaderName, Value<'_>)) {
        f(&REQUEST_ID_NAME, Value::Text(&self.ctx.request_id));
        f(&TRACEPARENT_NAME, Value::Text(&self.ctx.traceparent));
        if let Some(rate) = self.ctx.rate {
            f(&RATE_LIMIT, Value::Number(rate.limit));
            f(&RATE_REMAINING, Value::Number(rate.remaining));
            f(&RATE_RESET, Value::Number(rate.reset_secs));
        }
        if let Some((origin, credentials)) = &self.allow {
            f(&header::ACCESS_CONTROL_ALLOW_ORIGIN, Value::Header(origin));
            if *credentials {
                f(&header::ACCESS_CONTROL_ALLOW_CREDENTIALS, Value::Static("true"));
            }
            f(&header::ACCESS_CONTROL_EXPOSE_HEADERS, Value::Static(EXPOSED));
        }
        if self.vary {
            f(&header::VARY, Value::Static("origin"));
        }
        f(&header::X_CONTENT_TYPE_OPTIONS, Value::Static("nosniff"));
        f(&header::X_FRAME_OPTIONS, Value::Static("DENY"));
        f(&header::REFERRER_POLICY, Value::Static("no-referrer"));
        if self.ctx.connection.scheme == Scheme::Https {
            f(&header::STRICT_TRANSPORT_SECURITY, Value::Static("max-age=31536000; includeSubDomains"));
        }
    }
}

/// Applies [`Decided`] to a response's header map.
pub fn finish(h: &mut HeaderMap, ctx: &RequestContext, cors: &Cors) {
    let decided = Decided::new(ctx, cors);
    for (name, _) in DECIDABLE {
        if decided.overrides(name.as_bytes()) {
            h.remove(name);
        }
    }
    decided.each(|name, value| {
        let value = match value {
            Value::Static(text) => HeaderValue::from_static(text),
            Value::Text(text) => match HeaderValue::from_str(text) {
                Ok(value) => value,
                Err(_) => return,
            },
            Value::Number(n) => HeaderValue::from(n),
            Value::Header(value) => value.clone(),
        };
        h.append(name.clone(), value);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_star_with_credentials() {
        let cors = Cors::new(&["https://app.example".into(), "*".into()]);
        let (v, creds) = cors.allow(Some(&HeaderValue::from_static("https://app.example"))).unwrap();
        assert_eq!(v, "https://app.example");
        assert!(creds);
        let (v, creds) = cors.allow(Some(&HeaderValue::from_static("https://other.example"))).unwrap();
        assert_eq!(v, "*");
        assert!(!creds);
        assert!(Cors::new(&[]).allow(Some(&HeaderValue::from_static("https://x"))).is_none());
    }
}
