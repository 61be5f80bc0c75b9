//! The gateway's settings, all from environment variables (a `.env` file is read too). The names
//! shared with the services (`CRM_BIND_ADDR`, `REDIS_URL`, `CRM_JWKS_URL`, …) come from
//! [`ServiceConfig`]; the rest are the gateway's own.

use crm_common::config::{ConfigError, ServiceConfig, bool_env, env, parse_env};
use crm_common::telemetry::otlp::Tracer;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Where `/api/<service>/*` goes unless an override says otherwise.
pub const DEFAULT_SERVICES: &str = "foundation=http://127.0.0.1:8081,service-management=http://127.0.0.1:8082,\
order-workflow=http://127.0.0.1:8083,analytics-monitoring=http://127.0.0.1:8084";

/// Paths under one service's prefix that another service owns, and paths outside `/api` that a
/// service serves (analytics-monitoring's monitoring dashboard page at `/dashboard`).
pub const DEFAULT_OVERRIDES: &str = "/api/order-workflow/product-dependencies=service-management,\
/api/order-workflow/customer-levels=service-management,/api/order-workflow/follow-up-statuses=service-management,\
/dashboard=analytics-monitoring";

/// Reachable without a token. A trailing `*` matches the prefix. Order files' signed links
/// (`/api/order-workflow/files/signed/…`) carry their own short-lived signature, which
/// order-workflow checks: a browser opens them without a bearer header. Temporary links
/// (`/api/order-workflow/temporary-links/{token}`) are opened by whoever holds the token; the
/// other routes under that prefix still need a token, which order-workflow checks. The
/// notification socket's browser cannot send `Authorization`: its token travels in
/// `Sec-WebSocket-Protocol`, which order-workflow checks before upgrading. The monitoring
/// dashboard's page and assets (`/dashboard…`) hold no data: the page logs in and calls the API
/// with a token.
pub const DEFAULT_PUBLIC: &str = "/api/foundation/auth/login,/api/foundation/auth/refresh,\
/api/foundation/auth/register,/api/foundation/auth/jwks.json,/health,/health/services,/docs,/docs/*,/openapi.json,\
/metrics,/api/order-workflow/files/signed/*,/api/order-workflow/temporary-links/*,\
/api/order-workflow/ws/notifications,/dashboard,/dashboard/*";

/// Where WebSocket upgrades pass by default: order-workflow's live notifications.
pub const DEFAULT_WEBSOCKET_PATHS: &str = "/api/order-workflow/ws/notifications";

/// `N` requests per `window` (shared with analytics-monitoring's export limit).
pub use crm_common::config::RateSpec;

#[derive(Debug, Clone)]
pub struct RateLimits {
    pub enabled: bool,
    pub login: RateSpec,
    pub general: RateSpec,
    pub upload: RateSpec,
    pub export: RateSpec,
}

#[derive(Debug, Clone)]
pub struct Upstreams {
    pub connect_timeout: Duration,
    /// Until the response head arrives, and between two chunks of its body.
    pub timeout: Duration,
    /// Per path prefix, longest first.
    pub route_timeouts: Vec<(String, Duration)>,
    pub max_concurrency: usize,
    pub retries: u32,
    /// Retries allowed per request sent, e.g. 0.2 = one retry for every five requests.
    pub retry_budget_ratio: f64,
    pub circuit_failures: u32,
    pub circuit_open: Duration,
    pub probe_interval: Duration,
    /// An upgraded (WebSocket) connection with no bytes either way for this long is closed.
    pub tunnel_idle: Duration,
    /// Upgraded connections open at once per service; the next upgrade is refused with 503.
    pub max_tunnels: usize,
    /// How long one endpoint (replica) of a service that refused a connection is passed over by
    /// the round robin.
    pub endpoint_skip: Duration,
    /// Requests one client address may have in flight at one service (a share of
    /// `max_concurrency`), so that a single client cannot take every slot.
    pub max_per_client: usize,
}

/// How long the gateway waits on a client: for a streamed request body, and for a client that
/// does not read its response.
#[derive(Debug, Clone)]
pub struct ClientLimits {
    /// The longest a streamed request body may take from the first to the last byte.
    pub body_timeout: Duration,
    /// The least average rate (bytes per second) of a streamed request body once
    /// `body_grace` has passed; a body below it is cut off.
    pub body_min_rate: u64,
    /// How long a streamed request body may take before its rate is checked.
    pub body_grace: Duration,
    /// The longest a write to the client may make no progress; the connection is then closed
    /// and the service's slot given back.
    pub send_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub common: ServiceConfig,
    pub tls_bind_addr: SocketAddr,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Plain listener redirects to HTTPS (`true`) or serves (`false`, behind an Ingress).
    pub http_redirect: bool,
    /// Start the HTTPS listener at all (`false` when TLS ends at an Ingress).
    pub tls_enabled: bool,
    pub services: Vec<(String, String)>,
    pub overrides: Vec<(String, String)>,
    pub public_paths: Vec<String>,
    pub verify_jwt: bool,
    /// Whether simple requests take the direct path ([`crate::h1`]) rather than hyper's.
    pub direct_path: bool,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub jwks_min_refresh: Duration,
    pub cors_origins: Vec<String>,
    pub health_deadline: Duration,
    pub rate: RateLimits,
    pub upstream: Upstreams,
    pub client: ClientLimits,
    /// Path prefixes under which a WebSocket upgrade is passed through; an upgrade anywhere else
    /// (and any other protocol anywhere) is forwarded as a plain request without it.
    pub websocket_paths: Vec<String>,
    /// Where the gateway's server spans and request metrics go. `None` = the process-wide
    /// exporter that `OTEL_EXPORTER_OTLP_ENDPOINT` starts (see `crm_common::telemetry`), if any.
    pub traces: Option<Tracer>,
    /// Worker threads, each serving its own connections on its own event loop.
    pub workers: usize,
}

/// One worker per core the process may use.
fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn err(name: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError { name: name.into(), reason: reason.into() }
}

fn list(raw: &str) -> impl Iterator<Item = &str> {
    raw.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// `a=b,c=d` into pairs; every entry needs an `=`.
pub fn pairs(name: &str, raw: &str) -> Result<Vec<(String, String)>, ConfigError> {
    list(raw)
        .map(|entry| {
            let (k, v) = entry.split_once('=').ok_or_else(|| err(name, format!("{entry:?} is not name=value")))?;
            Ok((k.trim().to_owned(), v.trim().trim_end_matches('/').to_owned()))
        })
        .collect()
}

/// One service's base URL, or its replicas' separated by `|`: each `http://`, all with one path.
fn check_endpoints(name: &str, urls: &str) -> Result<(), ConfigError> {
    let mut path = None;
    for url in urls.split(crate::upstream::ENDPOINT_SEPARATOR).map(str::trim) {
        let Some(rest) = url.strip_prefix("http://") else {
            return Err(err("CRM_SERVICE_URLS", format!("{name}: only http:// upstreams are supported")));
        };
        let (authority, this_path) = rest.split_once('/').unwrap_or((rest, ""));
        if authority.is_empty() {
            return Err(err("CRM_SERVICE_URLS", format!("{name}: {url:?} has no host")));
        }
        let this_path = this_path.trim_end_matches('/');
        if *path.get_or_insert(this_path) != this_path {
            return Err(err("CRM_SERVICE_URLS", format!("{name}: every replica needs the same path")));
        }
    }
    Ok(())
}

fn millis(name: &str, default_ms: u64) -> Result<Duration, ConfigError> {
    parse_env(name, default_ms).map(Duration::from_millis)
}

fn rate(name: &str, default: &str) -> Result<RateSpec, ConfigError> {
    env(name).as_deref().unwrap_or(default).parse().map_err(|e: String| err(name, e))
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let common = ServiceConfig::from_env("gateway", 8080)?;
        let services = pairs("CRM_SERVICE_URLS", &env("CRM_SERVICE_URLS").unwrap_or_else(|| DEFAULT_SERVICES.into()))?;
        for (name, urls) in &services {
            check_endpoints(name, urls)?;
        }
        let configured = env("CRM_ROUTE_OVERRIDES");
        let mut overrides = pairs("CRM_ROUTE_OVERRIDES", configured.as_deref().unwrap_or(DEFAULT_OVERRIDES))?;
        let known = |service: &String| services.iter().any(|(n, _)| n == service);
        if configured.is_some() {
            if let Some((prefix, service)) = overrides.iter().find(|(_, s)| !known(s)) {
                return Err(err("CRM_ROUTE_OVERRIDES", format!("{prefix} names unknown service {service}")));
            }
        } else {
            // The defaults only apply where their owner is in the route table.
            overrides.retain(|(_, s)| known(s));
        }
        let route_timeouts = pairs("CRM_ROUTE_TIMEOUTS", &env("CRM_ROUTE_TIMEOUTS").unwrap_or_default())?
            .into_iter()
            .map(|(prefix, ms)| {
                let ms: u64 = ms.parse().map_err(|_| err("CRM_ROUTE_TIMEOUTS", format!("{prefix}: bad ms {ms:?}")))?;
                Ok((prefix, Duration::from_millis(ms)))
            })
            .collect::<Result<Vec<_>, ConfigError>>()?;
        let cors_origins: Vec<String> =
            list(&env("CRM_CORS_ORIGINS").unwrap_or_default()).map(|o| o.trim_end_matches('/').to_owned()).collect();
        let public_paths =
            list(&env("CRM_PUBLIC_PATHS").unwrap_or_else(|| DEFAULT_PUBLIC.into())).map(Into::into).collect();
        Ok(Self {
            tls_bind_addr: parse_env("CRM_TLS_BIND_ADDR", SocketAddr::from(([127, 0, 0, 1], 8443)))?,
            tls_cert: env("CRM_TLS_CERT").map(PathBuf::from),
            tls_key: env("CRM_TLS_KEY").map(PathBuf::from),
            http_redirect: bool_env("CRM_HTTP_REDIRECT", true)?,
            tls_enabled: bool_env("CRM_TLS_ENABLED", true)?,
            services,
            overrides,
            public_paths,
            verify_jwt: bool_env("CRM_GATEWAY_VERIFY_JWT", true)?,
            direct_path: bool_env("CRM_GATEWAY_DIRECT_PATH", true)?,
            jwt_issuer: env("CRM_JWT_ISSUER").unwrap_or_else(|| "bantu-crm".into()),
            jwt_audience: env("CRM_JWT_AUDIENCE").unwrap_or_else(|| "bantu-crm".into()),
            jwks_min_refresh: Duration::from_secs(parse_env("CRM_JWKS_MIN_REFRESH_SECS", 10)?),
            cors_origins,
            health_deadline: millis("CRM_HEALTH_DEADLINE_MS", 2000)?,
            rate: RateLimits {
                enabled: bool_env("CRM_RATELIMIT_ENABLED", true)?,
                login: rate("CRM_RATELIMIT_LOGIN", "5/min")?,
                general: rate("CRM_RATELIMIT_GENERAL", "100/min")?,
                upload: rate("CRM_RATELIMIT_UPLOAD", "10/min")?,
                export: rate("CRM_RATELIMIT_EXPORT", "5/hour")?,
            },
            upstream: Upstreams {
                connect_timeout: millis("CRM_UPSTREAM_CONNECT_TIMEOUT_MS", 2000)?,
                timeout: millis("CRM_UPSTREAM_TIMEOUT_MS", 30_000)?,
                route_timeouts,
                max_concurrency: parse_env("CRM_UPSTREAM_MAX_CONCURRENCY", 256)?,
                retries: parse_env("CRM_UPSTREAM_RETRIES", 1)?,
                retry_budget_ratio: parse_env("CRM_UPSTREAM_RETRY_BUDGET", 0.2)?,
                circuit_failures: parse_env("CRM_CIRCUIT_FAILURES", 5)?,
                circuit_open: millis("CRM_CIRCUIT_OPEN_MS", 30_000)?,
                probe_interval: millis("CRM_HEALTH_PROBE_INTERVAL_MS", 5000)?,
                tunnel_idle: millis("CRM_TUNNEL_IDLE_MS", 300_000)?,
                max_tunnels: parse_env("CRM_UPSTREAM_MAX_TUNNELS", 1024)?,
                max_per_client: parse_env("CRM_UPSTREAM_MAX_PER_CLIENT", 64)?,
                endpoint_skip: millis("CRM_UPSTREAM_ENDPOINT_SKIP_MS", 5000)?,
            },
            client: ClientLimits {
                body_timeout: millis("CRM_CLIENT_BODY_TIMEOUT_MS", 300_000)?,
                body_min_rate: parse_env("CRM_CLIENT_BODY_MIN_RATE", 1024)?,
                body_grace: millis("CRM_CLIENT_BODY_GRACE_MS", 10_000)?,
                send_timeout: millis("CRM_CLIENT_SEND_TIMEOUT_MS", 60_000)?,
            },
            websocket_paths: list(&env("CRM_WEBSOCKET_PATHS").unwrap_or_else(|| DEFAULT_WEBSOCKET_PATHS.into()))
                .map(Into::into)
                .collect(),
            traces: None,
            workers: parse_env("CRM_GATEWAY_WORKERS", default_workers())?.max(1),
            common,
        })
    }

    /// Settings for a gateway on loopback with ephemeral ports: what tests and embedding start from.
    pub fn local(services: Vec<(String, String)>, jwks_url: String, data_dir: PathBuf) -> Self {
        Self {
            common: ServiceConfig {
                service: "gateway",
                bind_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
                database_url: String::new(),
                redis_url: None,
                cache_prefix: format!("gateway-{}:", uuid::Uuid::now_v7().simple()),
                data_dir,
                jwks_url,
                body_limit_bytes: 10 * 1024 * 1024,
                trusted_proxies: [IpAddr::from([127, 0, 0, 1])].into_iter().collect(),
            },
            tls_bind_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls_cert: None,
            tls_key: None,
            http_redirect: false,
            tls_enabled: false,
            services,
            overrides: Vec::new(),
            public_paths: list(DEFAULT_PUBLIC).map(Into::into).collect(),
            verify_jwt: true,
            direct_path: true,
            jwt_issuer: "bantu-crm".into(),
            jwt_audience: "bantu-crm".into(),
            jwks_min_refresh: Duration::from_secs(1),
            cors_origins: Vec::new(),
            health_deadline: Duration::from_secs(2),
            rate: RateLimits {
                enabled: true,
                login: RateSpec { limit: 5, window: Duration::from_secs(60) },
                general: RateSpec { limit: 100, window: Duration::from_secs(60) },
                upload: RateSpec { limit: 10, window: Duration::from_secs(60) },
                export: RateSpec { limit: 5, window: Duration::from_secs(3600) },
            },
            upstream: Upstreams {
                connect_timeout: Duration::from_secs(2),
                timeout: Duration::from_secs(30),
                route_timeouts: Vec::new(),
                max_concurrency: 256,
                retries: 1,
                retry_budget_ratio: 0.2,
                circuit_failures: 5,
                circuit_open: Duration::from_secs(30),
                probe_interval: Duration::from_secs(5),
                tunnel_idle: Duration::from_secs(300),
                max_tunnels: 1024,
                max_per_client: 64,
                endpoint_skip: Duration::from_secs(5),
            },
            client: ClientLimits {
                body_timeout: Duration::from_secs(300),
                body_min_rate: 1024,
                body_grace: Duration::from_secs(10),
                send_timeout: Duration::from_secs(60),
            },
            websocket_paths: Vec::new(),
            traces: None,
            // More than one, so that tests exercise connections spread over workers.
            workers: 2,
        }
    }
}

pub const HELP: &str = "\
crm-gateway — the edge of BANTU CRM: routes /api/<service>/* to the services, verifies tokens,
limits rates, terminates TLS and reports the health of everything behind it.

USAGE:
  crm-gateway            serve (HTTPS on CRM_TLS_BIND_ADDR, plain HTTP on CRM_BIND_ADDR)
  crm-gateway --help

ENVIRONMENT (a .env file in the working directory is read too):
  CRM_BIND_ADDR            plain-HTTP listener (default 127.0.0.1:8080)
  CRM_TLS_BIND_ADDR        HTTPS listener (default 127.0.0.1:8443)
  CRM_TLS_ENABLED          start the HTTPS listener (default true)
  CRM_TLS_CERT, CRM_TLS_KEY  PEM certificate chain and private key; unset = a development
                           certificate for localhost/127.0.0.1, generated once into CRM_DATA_DIR
  CRM_HTTP_REDIRECT        true = plain listener answers 308 to HTTPS (except /health);
                           false = serves plainly, e.g. behind an Ingress (default true)
  CRM_DATA_DIR             where the development certificate is kept (default ./data)
  CRM_SERVICE_URLS         route table name=http://host:port,... (default the four local services
                           foundation=:8081, service-management=:8082, order-workflow=:8083,
                           analytics-monitoring=:8084). Several replicas of one service:
                           name=http://a:8083|http://b:8083 (same path for each) — requests take
                           turns; a replica that refuses a connection is passed over for
                           CRM_UPSTREAM_ENDPOINT_SKIP_MS, and a request that could not be
                           connected (so nothing of it was sent) goes to the next one
  CRM_UPSTREAM_ENDPOINT_SKIP_MS  how long a replica that refused a connection is passed over
                           (default 5000)
  CRM_ROUTE_OVERRIDES      path prefixes owned by another service, prefix=service,... (default
                           /api/order-workflow/{product-dependencies,customer-levels,follow-up-statuses}
                           =service-management, /dashboard=analytics-monitoring)
  CRM_PUBLIC_PATHS         paths reachable without a token, comma-separated, trailing * = prefix
                           (default login, refresh, register, jwks.json, /health, /health/services,
                           /docs, /openapi.json, /metrics, order files' signed links
                           /api/order-workflow/files/signed/*, temporary links
                           /api/order-workflow/temporary-links/*, the notification socket
                           /api/order-workflow/ws/notifications, which checks its own token,
                           the monitoring dashboard /dashboard*)
  CRM_JWKS_URL             foundation's JWKS (default http://127.0.0.1:8081/api/foundation/auth/jwks.json)
  CRM_JWKS_MIN_REFRESH_SECS  least time between two JWKS fetches for unknown key ids (default 10)
  CRM_JWT_ISSUER, CRM_JWT_AUDIENCE  expected iss/aud (default bantu-crm)
  CRM_GATEWAY_VERIFY_JWT   false disables token verification — for benchmarks only (default true)
  CRM_GATEWAY_DIRECT_PATH  false serves every request through the general (hyper) path instead of
                           the direct one for small proxied requests (default true)
  CRM_GATEWAY_WORKERS      worker threads, each with its own event loop and upstream connections
                           (default: the number of cores available)
  CRM_TRUSTED_PROXIES      addresses and networks (10.0.0.0/8) whose X-Forwarded-For is believed
                           (default 127.0.0.1,::1)
  CRM_CORS_ORIGINS         allowed browser origins, comma-separated; * = any origin without
                           credentials (default none)
  CRM_BODY_LIMIT_BYTES     largest request body (default 10485760)
  REDIS_URL                shared rate-limit counters; unset = in-process counters
  CRM_CACHE_PREFIX         namespace of the counters in Redis (default gateway:)
  CRM_RATELIMIT_ENABLED    (default true)
  CRM_RATELIMIT_LOGIN      per client address and per account on /api/foundation/auth/login
                           (default 5/min each)
  CRM_RATELIMIT_GENERAL    per user, or per address when anonymous (default 100/min)
  CRM_RATELIMIT_UPLOAD     POST to paths containing /upload or /files (default 10/min)
  CRM_RATELIMIT_EXPORT     paths ending in /export (default 5/hour)
                           rates are N/sec, N/min, N/hour or N/<secs>s
  CRM_UPSTREAM_CONNECT_TIMEOUT_MS  (default 2000)
  CRM_UPSTREAM_TIMEOUT_MS  until the response head, and between body chunks (default 30000)
  CRM_ROUTE_TIMEOUTS       per path prefix, prefix=ms,... (default none)
  CRM_UPSTREAM_MAX_CONCURRENCY  requests in flight per service before 503 (default 256)
  CRM_UPSTREAM_RETRIES     retries of GET/HEAD/OPTIONS without a body on connect errors (default 1)
  CRM_UPSTREAM_RETRY_BUDGET  retries per request sent (default 0.2)
  CRM_CIRCUIT_FAILURES     consecutive failures that open a service's circuit (default 5)
  CRM_CIRCUIT_OPEN_MS      how long it stays open unless a health probe closes it (default 30000)
  CRM_HEALTH_PROBE_INTERVAL_MS  probing of open circuits (default 5000)
  CRM_HEALTH_DEADLINE_MS   deadline of GET /health/services (default 2000)
  CRM_TUNNEL_IDLE_MS       an upgraded (WebSocket) connection idle both ways this long is
                           closed (default 300000)
  CRM_UPSTREAM_MAX_TUNNELS  upgraded connections open per service before 503 (default 1024)
  CRM_UPSTREAM_MAX_PER_CLIENT  requests one client address may have in flight at one service
                           before 503; addresses in CRM_TRUSTED_PROXIES are not bounded (default 64)
  CRM_WEBSOCKET_PATHS      path prefixes where a WebSocket upgrade is passed through, comma-
                           separated; elsewhere (and for any other protocol) the Upgrade header is
                           dropped and the request forwarded plainly (default
                           /api/order-workflow/ws/notifications)
  CRM_CLIENT_BODY_TIMEOUT_MS  longest a streamed request body may take, first byte to last
                           (default 300000)
  CRM_CLIENT_BODY_MIN_RATE  least average rate of a streamed request body in bytes/s, checked
                           after CRM_CLIENT_BODY_GRACE_MS (default 1024; 0 = no minimum)
  CRM_CLIENT_BODY_GRACE_MS  how long a streamed body may take before its rate counts (default 10000)
  CRM_CLIENT_SEND_TIMEOUT_MS  longest a write to a client may make no progress before the
                           connection is closed and its service slot given back (default 60000)
  OTEL_EXPORTER_OTLP_ENDPOINT  export traces and request metrics over OTLP/HTTP (protobuf) to this
                           http:// base URL; unset = no export (other OTEL_* variables: docs/LOGGING.md)
  OTEL_SERVICE_NAME        service.name reported with traces and metrics (default gateway)
  RUST_LOG                 log filter (default info)
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_specs() {
        assert_eq!("5/min".parse::<RateSpec>().unwrap(), RateSpec { limit: 5, window: Duration::from_secs(60) });
        assert_eq!("5/hour".parse::<RateSpec>().unwrap().window, Duration::from_secs(3600));
        assert_eq!("3/30s".parse::<RateSpec>().unwrap().window, Duration::from_secs(30));
        assert!("5".parse::<RateSpec>().is_err());
        assert!("x/min".parse::<RateSpec>().is_err());
        assert!("5/0s".parse::<RateSpec>().is_err());
    }

    #[test]
    fn pair_lists() {
        let p = pairs("X", "a=http://h:1/, b = http://h:2").unwrap();
        assert_eq!(p, vec![("a".into(), "http://h:1".into()), ("b".into(), "http://h:2".into())]);
        assert!(pairs("X", "a").is_err());
        assert_eq!(pairs("X", DEFAULT_SERVICES).unwrap().len(), 4);
        assert_eq!(pairs("X", DEFAULT_OVERRIDES).unwrap().len(), 4);
    }

    #[test]
    fn replica_lists() {
        assert!(check_endpoints("a", "http://h:1").is_ok());
        assert!(check_endpoints("a", "http://h:1/p|http://g:2/p/").is_ok());
        assert!(check_endpoints("a", "http://h:1|https://g:2").is_err(), "only http://");
        assert!(check_endpoints("a", "http://h:1|").is_err(), "an empty replica");
        assert!(check_endpoints("a", "http://h:1/p|http://g:2/q").is_err(), "two paths");
        let p = pairs("X", "ow=http://h:1|http://h:2,f=http://h:3").unwrap();
        assert_eq!(p[0], ("ow".into(), "http://h:1|http://h:2".into()));
    }
}
