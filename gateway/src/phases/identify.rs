//! Phase 1 — identify: who is calling from where, under which request id and trace, and whether
//! the request target is one the gateway is willing to route at all.

use crate::context::{Connection, RequestContext};
use crm_common::ApiError;
use crm_common::http::{REQUEST_ID_HEADER, client_ip, valid_request_id};
use crm_common::net::Proxies;
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use rand::RngCore;
use std::time::Instant;

pub const TRACEPARENT: &str = "traceparent";
pub const TRACEPARENT_NAME: HeaderName = HeaderName::from_static(TRACEPARENT);
pub const REQUEST_ID_NAME: HeaderName = HeaderName::from_static(REQUEST_ID_HEADER);

/// The request's context: its id and trace context (the client's when well-formed, else new
/// ones), client address, method and path.
pub fn begin(parts: &Parts, connection: Connection, trusted: &Proxies) -> RequestContext {
    let started = Instant::now();
    let request_id = parts
        .headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| valid_request_id(v))
        .map(str::to_owned)
        .unwrap_or_else(new_request_id);
    let traceparent = parts
        .headers
        .get(TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .filter(|v| valid_traceparent(v))
        .map(str::to_owned)
        .unwrap_or_else(new_traceparent);
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

/// Puts the request id and trace context into the headers that go upstream, exactly as they are
/// reported back.
pub fn stamp(headers: &mut HeaderMap, ctx: &RequestContext) {
    set(headers, REQUEST_ID_NAME, &ctx.request_id);
    set(headers, TRACEPARENT_NAME, &ctx.traceparent);
}

fn set(headers: &mut HeaderMap, name: HeaderName, value: &str) {
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

/// A UUIDv7 from the thread's generator: no system call per request, unlike `Uuid::now_v7`.
fn new_request_id() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let mut random = [0u8; 10];
    rand::thread_rng().fill_bytes(&mut random);
    let id = uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid();
    let mut buf = uuid::Uuid::encode_buffer();
    id.hyphenated().encode_lower(&mut buf).to_owned()
}

pub fn new_traceparent() -> String {
    let mut rng = rand::thread_rng();
    let trace = ((u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64())).max(1);
    let span = rng.next_u64().max(1);
    let mut out = String::with_capacity(55);
    out.push_str("00-");
    push_hex(&mut out, &trace.to_be_bytes());
    out.push('-');
    push_hex(&mut out, &span.to_be_bytes());
    out.push_str("-01");
    out
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
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
    if !plain_path(path.as_bytes()) {
        return Err(ApiError::bad_request("invalid request path"));
    }
    // A segment's `;parameters` are no part of its name for servlet-style servers (`..;/x` is
    // `../x` to them), so a dot segment with parameters is refused like a bare one.
    let dots = |segment: &str| {
        let name = segment.split(';').next().unwrap_or_default();
        name == "." || name == ".."
    };
    if path.split('/').any(dots) {
        return Err(ApiError::bad_request("invalid request path"));
    }
    Ok(())
}

/// Refuses what RFC 9112 §3.2 says a server must answer with 400: an HTTP/1.1 request without
/// `Host`, any request with more than one, or one whose value is not a valid `uri-host[:port]`.
/// The gateway routes by path alone, but the host goes on (`X-Forwarded-Host`, redirects), and
/// a server behind it that reads it must not see what the gateway would not have accepted.
pub fn check_host(parts: &Parts) -> Result<(), ApiError> {
    let mut hosts = parts.headers.get_all(header::HOST).iter();
    match (hosts.next(), hosts.next()) {
        (None, _) if parts.version == http::Version::HTTP_10 || parts.version == http::Version::HTTP_09 => Ok(()),
        (None, _) => Err(ApiError::bad_request("a Host header is required")),
        (Some(_), Some(_)) => Err(ApiError::bad_request("more than one Host header")),
        (Some(host), None) if valid_host(host.as_bytes()) => Ok(()),
        (Some(_), None) => Err(ApiError::bad_request("invalid Host header")),
    }
}

/// `uri-host [":" port]` (RFC 3986): a registered name (unreserved, sub-delims and
/// percent-encoded characters), an IPv4 address (a registered name's characters cover it) or a
/// bracketed IPv6 literal, and an optional port of at most five digits.
fn valid_host(value: &[u8]) -> bool {
    let (host, port) = match value.strip_prefix(b"[") {
        Some(literal) => match literal.iter().position(|b| *b == b']') {
            Some(end) => {
                let address = &literal[..end];
                if address.is_empty() || !address.iter().all(|b| b.is_ascii_hexdigit() || b":.".contains(b)) {
                    return false;
                }
                (&b"x"[..], &literal[end + 1..])
            }
            None => return false,
        },
        None => match value.iter().rposition(|b| *b == b':') {
            Some(colon) => (&value[..colon], &value[colon..]),
            None => (value, &b""[..]),
        },
    };
    let port_ok = match port.strip_prefix(b":") {
        Some(digits) => digits.len() <= 5 && digits.iter().all(u8::is_ascii_digit),
        None => port.is_empty(),
    };
    let name_ok = !host.is_empty()
        && host.iter().enumerate().all(|(i, b)| match b {
            b'%' => host.get(i + 1..i + 3).is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)),
            b => b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(b),
        });
    port_ok && name_ok
}

/// No backslash, no control character, and no percent-encoded dot, slash, backslash, NUL or
/// percent (which would hide one of those behind a second decoding).
fn plain_path(path: &[u8]) -> bool {
    let mut i = 0;
    while i < path.len() {
        match path[i] {
            b'\\' => return false,
            b if b.is_ascii_control() => return false,
            b'%' => {
                let pair = path.get(i + 1..i + 3).map(|p| [p[0].to_ascii_lowercase(), p[1].to_ascii_lowercase()]);
                if matches!(pair, Some([b'2', b'e' | b'f' | b'5']) | Some([b'5', b'c']) | Some([b'0', b'0'])) {
                    return false;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    true
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
            "/api/foundation/..;/x",
            "/api/foundation/.;a=b/x",
            "http://evil.example/api/foundation/x",
        ] {
            assert!(check_target(&parts(bad)).is_err(), "{bad} should be refused");
        }
        assert!(check_target(&parts("/api/foundation/a;b=c/x")).is_ok());
    }

    #[test]
    fn hosts() {
        for good in ["gw", "127.0.0.1:8443", "api.bantu.test", "[::1]:8080", "[fd00::1]", "xn--bcher-kva.example"] {
            assert!(valid_host(good.as_bytes()), "{good}");
        }
        for bad in ["", "evil.example/../x@y", "a b", "a:b", "[::1", "[zz]", "h:123456", "a@b", "x\\y", "h::1"] {
            assert!(!valid_host(bad.as_bytes()), "{bad}");
        }
        let with = |hosts: &[&str], version| {
            let mut builder = http::Request::builder().uri("/x").version(version);
            for h in hosts {
                builder = builder.header("host", *h);
            }
            check_host(&builder.body(()).unwrap().into_parts().0)
        };
        assert!(with(&["gw"], http::Version::HTTP_11).is_ok());
        assert!(with(&[], http::Version::HTTP_11).is_err());
        assert!(with(&[], http::Version::HTTP_10).is_ok());
        assert!(with(&["gw", "gw"], http::Version::HTTP_11).is_err());
        assert!(with(&["a b"], http::Version::HTTP_11).is_err());
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
