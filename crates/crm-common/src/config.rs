//! Typed settings from environment variables (a `.env` file is read when present). The names are
//! part of the operational interface and fixed; every default suits a laptop.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
#[error("invalid value for {name}: {reason}")]
pub struct ConfigError {
    pub name: String,
    pub reason: String,
}

/// `N` requests per `window`: a rate limit as operators write it (`5/hour`). The gateway's limits
/// and analytics-monitoring's export limit read the same syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateSpec {
    pub limit: u64,
    pub window: std::time::Duration,
}

impl std::str::FromStr for RateSpec {
    type Err = String;

    /// `5/min`, `100/minute`, `5/hour`, `10/30s` (per 30 seconds).
    fn from_str(s: &str) -> Result<Self, String> {
        let (n, per) = s.split_once('/').ok_or("expected N/sec|min|hour")?;
        let limit: u64 = n.trim().parse().map_err(|_| format!("bad count {n:?}"))?;
        let per = per.trim();
        let secs = match per {
            "s" | "sec" | "second" => 1,
            "m" | "min" | "minute" => 60,
            "h" | "hour" => 3600,
            other => other
                .strip_suffix('s')
                .and_then(|n| n.parse::<u64>().ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("bad window {other:?}"))?,
        };
        Ok(Self { limit, window: std::time::Duration::from_secs(secs) })
    }
}

/// Writes `--help` text to standard output. A reader that stops early (`--help | head`) ends the
/// output quietly instead of failing the command.
pub fn print_help(parts: &[&str]) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for part in parts.iter().chain(&["\n"]) {
        if out.write_all(part.as_bytes()).is_err() {
            return;
        }
    }
    let _ = out.flush();
}

/// The subcommands every service binary answers the same way, before its own: `healthcheck` (the
/// container's health check: this process's own `/health` on its configured port, or
/// `default_port`) and `-h`/`--help`/`help` (prints `help`). `Some(code)` means `command` was one
/// of them and the process should exit with `code`; `None` leaves `command` to the binary.
pub fn answer_common_command(command: &str, default_port: u16, help: &[&str]) -> Option<std::process::ExitCode> {
    use std::process::ExitCode;
    match command {
        "healthcheck" => {
            let port = env("CRM_BIND_ADDR").and_then(|a| a.rsplit_once(':').and_then(|(_, p)| p.parse().ok()));
            let healthy = crate::http::probe_local(port.unwrap_or(default_port));
            Some(if healthy { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        "-h" | "--help" | "help" => {
            print_help(help);
            Some(ExitCode::SUCCESS)
        }
        _ => None,
    }
}

/// The exit of a binary's subcommand: success, or the error logged and printed with exit code 1.
pub fn exit_code<E: std::fmt::Display>(service: &str, result: Result<(), E>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "{service} failed");
            eprintln!("error: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// An unknown subcommand: said on standard error, exit code 2.
pub fn unknown_command(command: &str) -> std::process::ExitCode {
    eprintln!("unknown command {command:?}; see --help");
    std::process::ExitCode::from(2)
}

/// Reads `.env` from the working directory if there is one. Real environment variables win.
pub fn load_dotenv() {
    let _ = dotenvy::dotenv();
}

/// A non-empty, trimmed variable.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

pub fn parse_env<T: FromStr>(name: &str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match env(name) {
        None => Ok(default),
        Some(raw) => raw.parse().map_err(|e: T::Err| ConfigError { name: name.into(), reason: e.to_string() }),
    }
}

pub fn bool_env(name: &str, default: bool) -> Result<bool, ConfigError> {
    match env(name).map(|v| v.to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "on") => Ok(true),
        Some(v) if matches!(v.as_str(), "0" | "false" | "no" | "off") => Ok(false),
        Some(v) => Err(ConfigError { name: name.into(), reason: format!("expected true or false, got {v}") }),
    }
}

/// What every service reads.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Short name, e.g. `foundation`; also the route prefix `/api/<name>`.
    pub service: &'static str,
    pub bind_addr: SocketAddr,
    pub database_url: String,
    pub redis_url: Option<String>,
    /// Namespace of this service's cache keys in a shared Redis.
    pub cache_prefix: String,
    pub data_dir: PathBuf,
    pub jwks_url: String,
    pub body_limit_bytes: usize,
    /// Peers whose `X-Forwarded-For` is believed (the gateway, an ingress).
    pub trusted_proxies: crate::net::Proxies,
}

impl ServiceConfig {
    pub fn from_env(service: &'static str, default_port: u16) -> Result<Self, ConfigError> {
        let data_dir = PathBuf::from(env("CRM_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let default_db = format!("sqlite://{}/{service}.db", data_dir.display());
        let trusted = env("CRM_TRUSTED_PROXIES").unwrap_or_else(|| "127.0.0.1,::1".into());
        let trusted_proxies = crate::net::Proxies::parse(&trusted)
            .map_err(|e| ConfigError { name: "CRM_TRUSTED_PROXIES".into(), reason: e.to_string() })?;
        Ok(Self {
            service,
            bind_addr: parse_env("CRM_BIND_ADDR", SocketAddr::from(([127, 0, 0, 1], default_port)))?,
            database_url: env("DATABASE_URL").unwrap_or(default_db),
            redis_url: env("REDIS_URL"),
            cache_prefix: env("CRM_CACHE_PREFIX").unwrap_or_else(|| format!("{service}:")),
            data_dir,
            jwks_url: env("CRM_JWKS_URL")
                .unwrap_or_else(|| "http://127.0.0.1:8081/api/foundation/auth/jwks.json".into()),
            body_limit_bytes: parse_env("CRM_BODY_LIMIT_BYTES", 10 * 1024 * 1024)?,
            trusted_proxies,
        })
    }

    pub fn prefix(&self) -> String {
        format!("/api/{}", self.service)
    }
}

/// The variables every service understands, for `--help`.
pub const COMMON_ENV_HELP: &str = "  CRM_BIND_ADDR            address:port to listen on
  DATABASE_URL             sqlite://path.db or postgres://user@host/db (default sqlite://$CRM_DATA_DIR/<service>.db)
  REDIS_URL                Redis for the cache; unset = in-process cache
  CRM_CACHE_PREFIX         namespace of cache keys in Redis (default <service>:)
  CRM_DATA_DIR             where embedded files live (default ./data)
  CRM_JWKS_URL             where to fetch foundation's public keys
  CRM_TRUSTED_PROXIES      comma-separated addresses and networks (10.0.0.0/8) whose X-Forwarded-For
                           is believed (default 127.0.0.1,::1)
  CRM_BODY_LIMIT_BYTES     largest accepted request body (default 10485760)
  OTEL_EXPORTER_OTLP_ENDPOINT  export traces and request metrics over OTLP/HTTP (protobuf) to this
                           http:// base URL; unset = no export (other OTEL_* variables: docs/LOGGING.md)
  OTEL_SERVICE_NAME        service.name reported with traces and metrics (default: the service's name)
  MONGODB_URL              application-log store; unset = SQLite file $CRM_DATA_DIR/logs.db
  CRM_LOG_SHIP_LEVEL       least severe level shipped to the log store (default info; off = none)
  RUST_LOG                 log filter (default info)
";

/// What a service other than foundation needs to verify tokens and to reach its peers.
#[derive(Debug, Clone)]
pub struct PeerSettings {
    /// foundation's root URL (`/api/foundation/…` is appended).
    pub foundation_url: String,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    /// Least time between two JWKS fetches caused by unknown key ids.
    pub jwks_min_refresh: std::time::Duration,
    /// How long foundation's answer about a caller is reused (`CRM_PRINCIPAL_CACHE_SECS`).
    pub principal_cache: std::time::Duration,
    /// How long batched id → name lookups are reused.
    pub lookup_cache: std::time::Duration,
    pub connect_timeout: std::time::Duration,
    pub timeout: std::time::Duration,
}

impl PeerSettings {
    pub fn from_env() -> Result<Self, ConfigError> {
        use std::time::Duration;
        Ok(Self {
            foundation_url: env("CRM_FOUNDATION_URL").unwrap_or_else(|| "http://127.0.0.1:8081".into()),
            jwt_issuer: env("CRM_JWT_ISSUER").unwrap_or_else(|| "bantu-crm".into()),
            jwt_audience: env("CRM_JWT_AUDIENCE").unwrap_or_else(|| "bantu-crm".into()),
            jwks_min_refresh: Duration::from_secs(parse_env("CRM_JWKS_MIN_REFRESH_SECS", 10)?),
            principal_cache: Duration::from_secs(parse_env("CRM_PRINCIPAL_CACHE_SECS", 30)?),
            lookup_cache: Duration::from_secs(parse_env("CRM_LOOKUP_CACHE_SECS", 60)?),
            connect_timeout: Duration::from_millis(parse_env("CRM_PEER_CONNECT_TIMEOUT_MS", 2000)?),
            timeout: Duration::from_millis(parse_env("CRM_PEER_TIMEOUT_MS", 10_000)?),
        })
    }
}

impl PeerSettings {
    /// Connect and total timeouts of calls to peers.
    pub fn timeouts(&self) -> crate::http::peer::PeerTimeouts {
        crate::http::peer::PeerTimeouts { connect: self.connect_timeout, total: self.timeout }
    }
}

/// The variables of [`PeerSettings`], for `--help`.
pub const PEER_ENV_HELP: &str = "  CRM_FOUNDATION_URL       foundation's root URL (default http://127.0.0.1:8081)
  CRM_JWT_ISSUER, CRM_JWT_AUDIENCE  expected token issuer and audience (default bantu-crm)
  CRM_JWKS_MIN_REFRESH_SECS  least time between key-set fetches for unknown key ids (default 10)
  CRM_PRINCIPAL_CACHE_SECS how long foundation's answer about a caller is reused (default 30); a user
                           locked in foundation is refused here within this time
  CRM_LOOKUP_CACHE_SECS    how long user and organization names from foundation are reused (default 60)
  CRM_PEER_CONNECT_TIMEOUT_MS  connect timeout of calls to other services (default 2000)
  CRM_PEER_TIMEOUT_MS      total timeout of calls to other services (default 10000)
";
