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

    fn decorate(&self, headers: &mut HeaderMap, origin: Option<&HeaderValue>) {
        // The gateway alone decides CORS: whatever an upstream said is replaced.
        static DECIDED: [HeaderName; 3] = [
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
        ];
        if headers.keys().any(|name| DECIDED.contains(name)) {
            for name in &DECIDED {
                headers.remove(name);
            }
        }
        if let Some((value, credentials)) = self.allow(origin) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
            if credentials {
                headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
            }
            headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED));
        }
        if !self.origins.is_empty() {
            headers.append(header::VARY, HeaderValue::from_static("origin"));
        }
    }
}

/// 413 before the body is read when the declared length is over the limit.
pub fn check_length(parts: &Parts, limit: usize) -> Result<(), ApiError> {
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
    match declared.map(|v| v.trim().parse::<u64>()) {
        Some(Ok(n)) if n > limit as u64 => Err(ApiError::PayloadTooLarge),
        Some(Err(_)) => Err(ApiError::bad_request("invalid content-length")),
        _ => Ok(()),
    }
}

/// The headers every response leaves with: request id, trace context, rate-limit state, CORS and
/// the security headers.
pub fn finish(h: &mut HeaderMap, ctx: &RequestContext, cors: &Cors) {
    if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
        h.insert(REQUEST_ID_NAME, v);
    }
    if let Ok(v) = HeaderValue::from_str(&ctx.traceparent) {
        h.insert(TRACEPARENT_NAME, v);
    }
    if let Some(rate) = ctx.rate {
        for (name, value) in [
            ("x-ratelimit-limit", rate.limit),
            ("x-ratelimit-remaining", rate.remaining),
            ("x-ratelimit-reset", rate.reset_secs),
        ] {
            h.insert(HeaderName::from_static(name), HeaderValue::from(value));
        }
    }
    cors.decorate(h, ctx.origin.as_ref());
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if ctx.connection.scheme == Scheme::Https {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
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
