//! Phase 1 — identify: who is calling from where, under which request id and trace, and whether
//! the request target is one the gateway is willing to route at all.

use crate::context::{Connection, RequestContext};
use crm_common::ApiError;
use crm_common::http::{REQUEST_ID_HEADER, client_ip, valid_request_id};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, header};
use rand::RngCore;
use std::net::IpAddr;
use std::time::Instant;

pub const TRACEPARENT: &str = "traceparent";

pub fn begin(parts: &mut Parts, connection: Connection, trusted: &[IpAddr]) -> RequestContext {
    let started = Instant::now();
    let request_id = parts
        .headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| valid_request_id(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let traceparent = parts
        .headers
        .get(TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .filter(|v| valid_traceparent(v))
        .map(str::to_owned)
        .unwrap_or_else(new_traceparent);
    // Both go upstream exactly as they are reported back.
    set(&mut parts.headers, REQUEST_ID_HEADER, &request_id);
    set(&mut parts.headers, TRACEPARENT, &traceparent);
    let peer = axum::extract::ConnectInfo(connection.peer);
    let client_ip = client_ip(&parts.headers, Some(&peer), trusted).unwrap_or(connection.peer.ip());
    RequestContext {
        started,
        connection,
        method: parts.method.clone(),
        path: parts.uri.path().to_owned(),
        request_id,
        traceparent,
        client_ip,
        origin: parts.headers.get(header::ORIGIN).cloned(),
        user_id: None,
        rate: None,
        route: "unrouted".into(),
        upstream: None,
        failure: None,
    }
}

fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// W3C trace context, version 00 layout: `vv-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`,
/// lowercase, ids not all zero, version not `ff`.
pub fn valid_traceparent(v: &str) -> bool {
    let parts: Vec<&str> = v.split('-').collect();
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let nonzero = |s: &str| s.bytes().any(|b| b != b'0');
    match parts.as_slice() {
        [version, trace, parent, flags, rest @ ..] => {
            hex(version, 2)
                && *version != "ff"
                && (rest.is_empty() || *version != "00")
                && hex(trace, 32)
                && nonzero(trace)
                && hex(parent, 16)
                && nonzero(parent)
                && hex(flags, 2)
        }
        _ => false,
    }
}

pub fn new_traceparent() -> String {
    let mut rng = rand::thread_rng();
    let trace = rng.gen_nonzero_u128();
    let span = rng.gen_nonzero_u64();
    format!("00-{trace:032x}-{span:016x}-01")
}

trait NonZero {
    fn gen_nonzero_u128(&mut self) -> u128;
    fn gen_nonzero_u64(&mut self) -> u64;
}

impl<R: RngCore> NonZero for R {
    fn gen_nonzero_u128(&mut self) -> u128 {
        let v = (u128::from(self.next_u64()) << 64) | u128::from(self.next_u64());
        v.max(1)
    }
    fn gen_nonzero_u64(&mut self) -> u64 {
        self.next_u64().max(1)
    }
}

/// Refuses what could address something outside the route table or escape a service's prefix:
/// absolute-form and authority-form targets, `.`/`..` segments, and their encoded forms, encoded
/// slashes and backslashes, NUL and control characters.
pub fn check_target(parts: &Parts) -> Result<(), ApiError> {
    let uri = &parts.uri;
    if uri.scheme().is_some() || uri.authority().is_some() || parts.method == Method::CONNECT {
        return Err(ApiError::bad_request("absolute-form request targets are not accepted"));
    }
    let path = uri.path();
    if !path.starts_with('/') {
        return Err(ApiError::bad_request("invalid request path"));
    }
    let lower = path.to_ascii_lowercase();
    const ENCODED: [&str; 5] = ["%2e", "%2f", "%5c", "%00", "%25"];
    if ENCODED.iter().any(|e| lower.contains(e)) || path.contains('\\') || path.bytes().any(|b| b.is_ascii_control()) {
        return Err(ApiError::bad_request("invalid request path"));
    }
    if path.split('/').any(|segment| segment == "." || segment == "..") {
        return Err(ApiError::bad_request("invalid request path"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(target: &str) -> Parts {
        http::Request::builder().uri(target).body(()).unwrap().into_parts().0
    }

    #[test]
    fn targets() {
        assert!(check_target(&parts("/api/foundation/users?x=1")).is_ok());
        assert!(check_target(&parts("/api/foundation/users/a.b")).is_ok());
        for bad in [
            "/api/foundation/../order-workflow/x",
            "/api/foundation/./x",
            "/api/foundation/%2e%2e/x",
            "/api/foundation/%2E%2E/x",
            "/api/foundation%2f..%2fx",
            "/api/foundation/%5c..",
            "/api/foundation/%252e%252e/x",
            "http://evil.example/api/foundation/x",
        ] {
            assert!(check_target(&parts(bad)).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn traceparents() {
        assert!(valid_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        assert!(!valid_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
        assert!(!valid_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
        assert!(!valid_traceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        assert!(!valid_traceparent("garbage"));
        assert!(valid_traceparent(&new_traceparent()));
    }
}
