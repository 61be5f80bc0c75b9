//! The one per-request context the phases pass along: each phase reads what earlier ones found
//! and adds what it learns, and the log phase reports all of it when the response is done.

use http::{HeaderValue, Method};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;
use uuid::Uuid;

/// Which listener the request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }
}

/// What the listener knows about the connection.
#[derive(Debug, Clone)]
pub struct Connection {
    pub peer: SocketAddr,
    pub scheme: Scheme,
    /// The peer's address as a header value, rendered once per connection, not per request.
    peer_value: HeaderValue,
}

impl Connection {
    pub fn new(peer: SocketAddr, scheme: Scheme) -> Self {
        let peer_value = HeaderValue::from_str(&peer.ip().to_string()).unwrap_or(HeaderValue::from_static("unknown"));
        Self { peer, scheme, peer_value }
    }

    pub fn peer_header(&self) -> HeaderValue {
        self.peer_value.clone()
    }
}

/// Low-cardinality name of what served a request, for logs and metrics: one of the gateway's own
/// routes, or a service (its name shared with the upstream, so labelling a request allocates
/// nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Gateway(&'static str),
    Service(&'static str),
}

impl Route {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Gateway(name) => name,
            Self::Service(name) => name,
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&'static str> for Route {
    fn from(name: &'static str) -> Self {
        Self::Gateway(name)
    }
}

/// The state of one rate-limit class for this request, reported in `X-RateLimit-*`.
#[derive(Debug, Clone, Copy)]
pub struct RateState {
    pub limit: u64,
    pub remaining: u64,
    pub reset_secs: u64,
}

#[derive(Debug)]
pub struct RequestContext {
    pub started: Instant,
    pub connection: Connection,
    pub method: Method,
    pub path: String,
    pub request_id: String,
    pub traceparent: String,
    /// The client as far as the trusted proxies tell (the peer otherwise).
    pub client_ip: IpAddr,
    pub origin: Option<HeaderValue>,
    /// Set by the authenticate phase when a token was verified.
    pub user_id: Option<Uuid>,
    pub rate: Option<RateState>,
    /// Low-cardinality name for logs and metrics: the service, or the gateway's own route.
    pub route: Route,
    pub upstream: Option<&'static str>,
    /// Why the request failed at the gateway, when it did (`connect`, `timeout`, `rate_limited`…).
    pub failure: Option<&'static str>,
}

impl RequestContext {
    pub fn fail(&mut self, kind: &'static str) {
        self.failure = Some(kind);
    }
}
