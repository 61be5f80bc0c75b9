//! Header rewriting between client and upstream: hop-by-hop headers stay on their hop, the
//! `X-Forwarded-*` family tells the upstream who asked, and `Host` becomes the upstream's own.

use crate::context::RequestContext;
use crm_common::net::Proxies;
use http::{HeaderMap, HeaderName, HeaderValue, header};

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

/// `Connection: upgrade` with an `Upgrade` header: a WebSocket (or other protocol) handshake.
pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(header::UPGRADE) && connection_tokens(headers).any(|t| t.eq_ignore_ascii_case("upgrade"))
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
        headers.remove(name);
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
        Self { chain, proto, set_host: !(from_trusted && headers.contains_key(&X_FORWARDED_HOST)) }
    }

    /// Whether a client header called `name` (any case) gives way to what this sets.
    pub fn replaces(&self, name: &[u8]) -> bool {
        name.eq_ignore_ascii_case(X_FORWARDED_FOR.as_str().as_bytes())
            || (self.proto.is_some() && name.eq_ignore_ascii_case(X_FORWARDED_PROTO.as_str().as_bytes()))
            || (self.set_host && name.eq_ignore_ascii_case(X_FORWARDED_HOST.as_str().as_bytes()))
    }

    /// The headers this sets, given the client's `Host`.
    pub fn each(&self, host: Option<&HeaderValue>, mut f: impl FnMut(&HeaderName, &HeaderValue)) {
        f(&X_FORWARDED_FOR, &self.chain);
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
    headers.remove(&X_FORWARDED_FOR);
    if forwarded.proto.is_some() {
        headers.remove(&X_FORWARDED_PROTO);
    }
    if forwarded.set_host {
        headers.remove(&X_FORWARDED_HOST);
    }
    forwarded.each(host.as_ref(), |name, value| {
        headers.append(name.clone(), value.clone());
    });
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
        assert!(is_upgrade(&h));
        strip_hop_by_hop(&mut h, true);
        assert_eq!(h.get(header::UPGRADE).unwrap(), "websocket");
        assert_eq!(h.get(header::CONNECTION).unwrap(), "upgrade");
    }
}
