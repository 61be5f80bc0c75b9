//! Header rewriting between client and upstream: hop-by-hop headers stay on their hop, the
//! `X-Forwarded-*` family (and `X-Real-IP`) tells the upstream who asked, `Host` becomes the
//! upstream's own, and whatever two parsers could read differently — header names with
//! underscores, zero-padded lengths, framing the gateway has already decoded — is dropped or
//! rewritten in one normal form. Both paths use these rules, so they answer alike.

use crate::context::RequestContext;
use crm_common::net::Proxies;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, header};

const HOP_COUNT: usize = 8;
static HOP_BY_HOP: [HeaderName; HOP_COUNT] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");

/// Other headers that name the client's address, which services or their frameworks may believe:
/// passed on only from a trusted proxy, like `X-Forwarded-*`.
const CLIENT_ADDRESS: [&str; 3] = ["forwarded", "true-client-ip", "x-client-ip"];

/// Headers the gateway sets on every request it forwards: a client's `Connection` cannot remove
/// them (names it lists are otherwise dropped as hop-by-hop).
const SET_BY_GATEWAY: [&str; 2] = ["x-request-id", "traceparent"];

/// Whether a header name has an underscore: CGI and WSGI servers map `-` and `_` to the same
/// variable, so `Content_Length` could stand in for the real framing header behind the gateway.
/// Such headers are dropped (as nginx does by default).
pub fn underscored(name: &[u8]) -> bool {
    name.contains(&b'_')
}

/// Whether `request` is a WebSocket handshake the gateway passes through: `GET`, `Connection:
/// upgrade`, exactly `Upgrade: websocket`, and a path under one of `allowed`. Any other upgrade
/// (`h2c`, a WebSocket elsewhere) loses its `Upgrade` as a hop-by-hop header and goes as a plain
/// request, so no protocol switch can take bytes past routing and authentication.
pub fn websocket_upgrade<B>(request: &Request<B>, allowed: &[String]) -> bool {
    let headers = request.headers();
    websocket_handshake(
        request.method() == Method::GET,
        request.uri().path(),
        headers.get_all(header::UPGRADE).iter().map(HeaderValue::as_bytes),
        headers.get_all(header::CONNECTION).iter().map(HeaderValue::as_bytes),
        allowed,
    )
}

/// [`websocket_upgrade`] on a request's parts as they were read: whether it is `GET`, its path
/// (without the query), its `Upgrade` and its `Connection` values. Shared with the reader that
/// follows the general path's requests ([`crate::h1::strict`]), which stops where a tunnel
/// would begin.
pub fn websocket_handshake<'a>(
    get: bool,
    path: &str,
    mut upgrade: impl Iterator<Item = &'a [u8]>,
    connection: impl Iterator<Item = &'a [u8]>,
    allowed: &[String],
) -> bool {
    let websocket = match (upgrade.next(), upgrade.next()) {
        (Some(value), None) => value.trim_ascii().eq_ignore_ascii_case(b"websocket"),
        _ => false,
    };
    let mut tokens = connection.flat_map(|v| v.split(|b| *b == b',')).map(<[u8]>::trim_ascii);
    websocket
        && get
        && tokens.any(|t| t.eq_ignore_ascii_case(b"upgrade"))
        && allowed.iter().any(|prefix| crate::phases::route::under(path, prefix))
}

/// Whether a header called `name` (any case) never crosses a hop by itself: the fixed list, and
/// `Upgrade` outside an upgrade. (Names that `Connection` lists come on top.)
pub fn hop_by_hop(name: &[u8]) -> bool {
    const NAMES: [&str; HOP_COUNT + 1] = [
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ];
    NAMES.iter().any(|h| name.eq_ignore_ascii_case(h.as_bytes()))
}

fn connection_tokens(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Drops the hop-by-hop headers (the fixed list and whatever `Connection` names). For an upgrade,
/// `Connection: upgrade` and `Upgrade` are kept: they must reach the next hop.
pub fn strip_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    // One pass over the names: most messages carry none of them, or only `Connection`.
    let mut present = [false; HOP_COUNT];
    let mut upgrade = false;
    for name in headers.keys() {
        if let Some(i) = HOP_BY_HOP.iter().position(|h| h == name) {
            present[i] = true;
        }
        upgrade |= name == header::UPGRADE;
    }
    if !upgrade && !present.contains(&true) {
        return;
    }
    // Names `Connection` lists beyond the fixed ones (usually none, so nothing is allocated).
    let named: Vec<HeaderName> = connection_tokens(headers)
        .filter(|t| !(t.eq_ignore_ascii_case("keep-alive") || t.eq_ignore_ascii_case("close")))
        .filter(|t| !(keep_upgrade && t.eq_ignore_ascii_case("upgrade")))
        .filter_map(|t| HeaderName::from_bytes(t.as_bytes()).ok())
        .collect();
    for name in named {
        if !SET_BY_GATEWAY.contains(&name.as_str()) {
            headers.remove(name);
        }
    }
    for (name, _) in HOP_BY_HOP.iter().zip(present).filter(|(_, p)| *p) {
        headers.remove(name);
    }
    if keep_upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    } else if upgrade {
        headers.remove(header::UPGRADE);
    }
}

/// What the upstream is told about the client (`X-Forwarded-*`), decided from the client's
/// headers: a chain from a trusted proxy is extended and its proto and host kept; anything else a
/// client claims is replaced.
pub struct Forwarded {
    pub chain: HeaderValue,
    /// `X-Real-IP`: the client address the gateway settled on.
    pub real_ip: HeaderValue,
    /// Whether the peer is a trusted proxy, whose other client-address headers are kept.
    pub from_trusted: bool,
    /// `X-Forwarded-Proto` to set; `None` keeps the trusted proxy's.
    pub proto: Option<HeaderValue>,
    /// Whether `X-Forwarded-Host` is the gateway's to set (from `Host`, or dropped without one).
    pub set_host: bool,
}

impl Forwarded {
    pub fn new(headers: &HeaderMap, ctx: &RequestContext, trusted: &Proxies) -> Self {
        let from_trusted = trusted.contains(&ctx.connection.peer.ip());
        let chain = match headers.get(&X_FORWARDED_FOR).and_then(|v| v.to_str().ok()) {
            Some(chain) if from_trusted => HeaderValue::from_str(&format!("{chain}, {}", ctx.connection.peer.ip()))
                .unwrap_or_else(|_| ctx.connection.peer_header()),
            _ => ctx.connection.peer_header(),
        };
        let proto = (!(from_trusted && headers.contains_key(&X_FORWARDED_PROTO)))
            .then(|| HeaderValue::from_static(ctx.connection.scheme.as_str()));
        // The peer's address is rendered once per connection; another is rendered here.
        let real_ip = if ctx.client_ip == ctx.connection.peer.ip() {
            ctx.connection.peer_header()
        } else {
            HeaderValue::from_str(&ctx.client_ip.to_string()).unwrap_or_else(|_| ctx.connection.peer_header())
        };
        Self {
            chain,
            real_ip,
            from_trusted,
            proto,
            set_host: !(from_trusted && headers.contains_key(&X_FORWARDED_HOST)),
        }
    }

    /// Whether a client header called `name` (any case) gives way to what this sets, or is
    /// dropped because only a trusted proxy may say it.
    pub fn replaces(&self, name: &[u8]) -> bool {
        name.eq_ignore_ascii_case(X_FORWARDED_FOR.as_str().as_bytes())
            || name.eq_ignore_ascii_case(X_REAL_IP.as_str().as_bytes())
            || (self.proto.is_some() && name.eq_ignore_ascii_case(X_FORWARDED_PROTO.as_str().as_bytes()))
            || (self.set_host && name.eq_ignore_ascii_case(X_FORWARDED_HOST.as_str().as_bytes()))
            || (!self.from_trusted && CLIENT_ADDRESS.iter().any(|h| name.eq_ignore_ascii_case(h.as_bytes())))
    }

    /// The headers this sets, given the client's `Host`.
    pub fn each(&self, host: Option<&HeaderValue>, mut f: impl FnMut(&HeaderName, &HeaderValue)) {
        f(&X_FORWARDED_FOR, &self.chain);
        f(&X_REAL_IP, &self.real_ip);
        if let Some(proto) = &self.proto {
            f(&X_FORWARDED_PROTO, proto);
        }
        if let (true, Some(host)) = (self.set_host, host) {
            f(&X_FORWARDED_HOST, host);
        }
    }
}

/// Whether a client header called `name` (any case) stays on the client's hop besides the
/// hop-by-hop ones: its `Host` (the upstream gets its own) and `Expect` (answered by this hop
/// when the body was read).
pub fn client_only(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"host") || name.eq_ignore_ascii_case(b"expect")
}

/// Prepares client headers for the upstream.
pub fn to_upstream(headers: &mut HeaderMap, ctx: &RequestContext, trusted: &Proxies, upgrade: bool) {
    let forwarded = Forwarded::new(headers, ctx, trusted);
    strip_hop_by_hop(headers, upgrade);
    headers.remove(header::EXPECT);
    let host = headers.remove(header::HOST);
    // Rare: only names that need removing are collected.
    let dropped: Vec<HeaderName> = headers
        .keys()
        .filter(|name| underscored(name.as_str().as_bytes()) || forwarded.replaces(name.as_str().as_bytes()))
        .cloned()
        .collect();
    for name in dropped {
        headers.remove(name);
    }
    forwarded.each(host.as_ref(), |name, value| {
        headers.append(name.clone(), value.clone());
    });
}

/// Rewrites a request's `Content-Length` as the plain number of bytes that will be sent
/// (`exact`, the body's length as the gateway read the header), so a zero-padded or otherwise
/// unusual spelling never reaches the service; without a known length (a chunked body) it goes.
pub fn normalise_length(headers: &mut HeaderMap, exact: Option<u64>) {
    if !headers.contains_key(header::CONTENT_LENGTH) {
        return;
    }
    match exact {
        Some(n) => {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(n));
        }
        None => {
            headers.remove(header::CONTENT_LENGTH);
        }
    }
}

/// Refuses a response the gateway does not relay (502): a `101` to a request that did not ask
/// for an upgrade, or that switches to anything but WebSocket; a transfer coding other than plain
/// `chunked` (it could only be relayed by decoding it, or by passing on a coding the client was
/// not told about).
pub fn check_response<B>(response: &Response<B>, upgrade_requested: bool) -> Result<(), &'static str> {
    let headers = response.headers();
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        let websocket =
            headers.get(header::UPGRADE).is_some_and(|v| v.as_bytes().trim_ascii().eq_ignore_ascii_case(b"websocket"));
        if !upgrade_requested || !websocket {
            return Err("unrequested protocol switch");
        }
    }
    let mut codings = headers.get_all(header::TRANSFER_ENCODING).iter();
    match (codings.next(), codings.next()) {
        (None, _) => Ok(()),
        (Some(value), None) if value.as_bytes().trim_ascii().eq_ignore_ascii_case(b"chunked") => Ok(()),
        _ => Err("unsupported transfer-encoding"),
    }
}

/// Prepares a service's response headers for the client: hop-by-hop headers go, a
/// `Content-Length` that chunked framing overrode goes (the body is relayed as decoded, and
/// framed anew), none is sent with a 204 or 1xx, and any other is rewritten as a plain number.
pub fn from_upstream(headers: &mut HeaderMap, status: StatusCode) {
    let chunked = headers.contains_key(header::TRANSFER_ENCODING);
    strip_hop_by_hop(headers, false);
    if chunked || status == StatusCode::NO_CONTENT || status.is_informational() {
        headers.remove(header::CONTENT_LENGTH);
    } else if let Some(value) = headers.get(header::CONTENT_LENGTH) {
        match crate::h1::wire::content_length(value.as_bytes()) {
            Some(n) => {
                headers.insert(header::CONTENT_LENGTH, HeaderValue::from(n));
            }
            None => {
                headers.remove(header::CONTENT_LENGTH);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_goes() {
        let mut h = HeaderMap::new();
        h.insert(header::CONNECTION, HeaderValue::from_static("keep-alive, x-secret"));
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert(header::TE, HeaderValue::from_static("trailers"));
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        h.insert("x-kept", HeaderValue::from_static("1"));
        strip_hop_by_hop(&mut h, false);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("x-kept"));
    }

    #[test]
    fn upgrade_survives() {
        let mut h = HeaderMap::new();
        h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        strip_hop_by_hop(&mut h, true);
        assert_eq!(h.get(header::UPGRADE).unwrap(), "websocket");
        assert_eq!(h.get(header::CONNECTION).unwrap(), "upgrade");
    }

    #[test]
    fn only_websocket_with_get_under_an_allowed_path_upgrades() {
        let allowed = vec!["/api/a/ws".to_owned()];
        let request = |method: &str, path: &str, upgrade: &str| {
            Request::builder()
                .method(method)
                .uri(path)
                .header(header::CONNECTION, "keep-alive, Upgrade")
                .header(header::UPGRADE, upgrade)
                .body(())
                .unwrap()
        };
        assert!(websocket_upgrade(&request("GET", "/api/a/ws/feed", "WebSocket"), &allowed));
        assert!(!websocket_upgrade(&request("GET", "/api/a/other", "websocket"), &allowed));
        assert!(!websocket_upgrade(&request("GET", "/api/a/ws", "h2c"), &allowed));
        assert!(!websocket_upgrade(&request("GET", "/api/a/ws", "websocket, h2c"), &allowed));
        assert!(!websocket_upgrade(&request("POST", "/api/a/ws", "websocket"), &allowed));
        assert!(!websocket_upgrade(&request("GET", "/api/a/ws", "websocket"), &[]));
    }

    #[test]
    fn the_gateways_own_headers_survive_connection() {
        let mut h = HeaderMap::new();
        h.insert(header::CONNECTION, HeaderValue::from_static("X-Request-ID, traceparent, x-other"));
        h.insert("x-request-id", HeaderValue::from_static("abc"));
        h.insert("traceparent", HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        h.insert("x-other", HeaderValue::from_static("1"));
        strip_hop_by_hop(&mut h, false);
        assert!(h.contains_key("x-request-id") && h.contains_key("traceparent"));
        assert!(!h.contains_key("x-other"));
    }

    #[test]
    fn response_framing_headers_are_normalised() {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("007"));
        from_upstream(&mut h, StatusCode::OK);
        assert_eq!(h[header::CONTENT_LENGTH], "7");
        from_upstream(&mut h, StatusCode::NO_CONTENT);
        assert!(!h.contains_key(header::CONTENT_LENGTH));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("3"));
        h.insert(header::TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        from_upstream(&mut h, StatusCode::OK);
        assert!(h.is_empty(), "{h:?}");

        let response = |status: u16, headers: &[(&str, &str)]| {
            let mut builder = Response::builder().status(status);
            for (k, v) in headers {
                builder = builder.header(*k, *v);
            }
            builder.body(()).unwrap()
        };
        assert!(check_response(&response(200, &[("transfer-encoding", "chunked")]), false).is_ok());
        assert!(check_response(&response(200, &[("transfer-encoding", "gzip, chunked")]), false).is_err());
        assert!(check_response(&response(101, &[("upgrade", "websocket")]), false).is_err());
        assert!(check_response(&response(101, &[("upgrade", "h2c")]), true).is_err());
        assert!(check_response(&response(101, &[("upgrade", "websocket")]), true).is_ok());
    }
}
