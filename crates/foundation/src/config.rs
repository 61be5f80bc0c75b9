//! foundation's settings: the common ones plus identity-specific knobs.

use crm_common::config::{ConfigError, ServiceConfig, bool_env, env, parse_env};
use crm_common::http::audit::AuditSettings;
use std::path::PathBuf;

/// 12 hours: a working day, with room for a late one.
pub const ACCESS_TTL_SECS: i64 = 12 * 3600;
/// 4 hours: outlasts a lunch break or a long meeting, ends what was left open overnight.
pub const SESSION_IDLE_SECS: i64 = 4 * 3600;

#[derive(Debug, Clone)]
pub struct Config {
    pub common: ServiceConfig,
    pub admin_email: String,
    pub admin_username: String,
    /// When unset, a password is generated and printed once at first start.
    pub admin_password: Option<String>,
    pub jwt_key_file: PathBuf,
    /// Public keys of retired signing keys, kept in the JWKS until their tokens have expired.
    pub jwt_retired_key_files: Vec<PathBuf>,
    pub issuer: String,
    pub audience: String,
    /// Access-token lifetime. A working day by default: the admin frontend never refreshes, and
    /// a token stops working as soon as its session ends (see `auth::sessions`), so its length
    /// no longer decides how long a revoked or stolen token stays usable.
    pub access_ttl_secs: i64,
    pub refresh_ttl_secs: i64,
    /// A session unused this long ends (`CRM_SESSION_IDLE_SECS`).
    pub session_idle_secs: i64,
    pub allow_registration: bool,
    /// Organization code that self-registered users join (with no role until an admin grants one).
    pub registration_org_code: String,
    /// Failed logins per account within the window before the account is temporarily refused.
    pub login_max_failures: u64,
    /// Failed logins per client address within the window before the address is refused.
    pub login_max_failures_per_ip: u64,
    pub login_failure_window_secs: u64,
    /// Largest file a work-log export may make; a larger one fails with a message to narrow it.
    pub export_max_bytes: usize,
    /// Bytes of uploaded files an organization may keep; an upload past it is refused.
    pub upload_quota_bytes: u64,
    /// Audit capture of foundation's own requests, and the secret other services' ingest calls
    /// must present (`CRM_AUDIT_INGEST_TOKEN`; ingest is refused while it is unset).
    pub audit: AuditSettings,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let common = ServiceConfig::from_env("foundation", 8081)?;
        let jwt_key_file =
            env("CRM_JWT_KEY_FILE").map(PathBuf::from).unwrap_or_else(|| common.data_dir.join("jwt-ed25519.pem"));
        let retired = env("CRM_JWT_RETIRED_KEY_FILES").unwrap_or_default();
        Ok(Self {
            admin_email: env("CRM_ADMIN_EMAIL").unwrap_or_else(|| "admin@bantu.local".into()),
            admin_username: env("CRM_ADMIN_USERNAME").unwrap_or_else(|| "admin".into()),
            admin_password: env("CRM_ADMIN_PASSWORD"),
            jwt_key_file,
            jwt_retired_key_files: retired
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|s| PathBuf::from(s.trim()))
                .collect(),
            issuer: env("CRM_JWT_ISSUER").unwrap_or_else(|| "bantu-crm".into()),
            audience: env("CRM_JWT_AUDIENCE").unwrap_or_else(|| "bantu-crm".into()),
            access_ttl_secs: parse_env("CRM_ACCESS_TOKEN_TTL_SECS", ACCESS_TTL_SECS)?,
            refresh_ttl_secs: parse_env("CRM_REFRESH_TOKEN_TTL_SECS", 7 * 24 * 3600)?,
            session_idle_secs: parse_env("CRM_SESSION_IDLE_SECS", SESSION_IDLE_SECS)?,
            allow_registration: bool_env("CRM_ALLOW_REGISTRATION", false)?,
            registration_org_code: env("CRM_REGISTRATION_ORG_CODE").unwrap_or_else(|| "BANTU".into()),
            login_max_failures: parse_env("CRM_LOGIN_MAX_FAILURES", 5)?,
            login_max_failures_per_ip: parse_env("CRM_LOGIN_MAX_FAILURES_PER_IP", 50)?,
            login_failure_window_secs: parse_env("CRM_LOGIN_FAILURE_WINDOW_SECS", 900)?,
            export_max_bytes: parse_env("CRM_EXPORT_MAX_BYTES", 64 * 1024 * 1024)?,
            upload_quota_bytes: parse_env("CRM_UPLOAD_QUOTA_BYTES", 1024 * 1024 * 1024)?,
            audit: AuditSettings::from_env("foundation", &common.data_dir)?,
            common,
        })
    }
}

impl Config {
    /// A foundation on `database_url` keeping its files in `data_dir`, listening on a free
    /// loopback port, with the documented defaults otherwise: what other crates' tests start
    /// next to the service they test.
    pub fn local(database_url: &str, data_dir: &std::path::Path, admin_email: &str, admin_password: &str) -> Self {
        let common = ServiceConfig {
            service: "foundation",
            bind_addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: database_url.to_owned(),
            redis_url: None,
            cache_prefix: format!("foundation-{}:", uuid::Uuid::now_v7().simple()),
            data_dir: data_dir.to_path_buf(),
            jwks_url: String::new(),
            body_limit_bytes: 10 * 1024 * 1024,
            trusted_proxies: crm_common::net::Proxies::default(),
        };
        Self {
            admin_email: admin_email.to_owned(),
            admin_username: "admin".into(),
            admin_password: Some(admin_password.to_owned()),
            jwt_key_file: data_dir.join("jwt-ed25519.pem"),
            jwt_retired_key_files: Vec::new(),
            issuer: "bantu-crm".into(),
            audience: "bantu-crm".into(),
            access_ttl_secs: ACCESS_TTL_SECS,
            session_idle_secs: SESSION_IDLE_SECS,
            refresh_ttl_secs: 3600,
            allow_registration: false,
            registration_org_code: "BANTU".into(),
            login_max_failures: 5,
            login_max_failures_per_ip: 1000,
            login_failure_window_secs: 900,
            export_max_bytes: 64 * 1024 * 1024,
            upload_quota_bytes: 1024 * 1024 * 1024,
            audit: AuditSettings {
                record_reads: false,
                ingest_url: String::new(),
                ingest_token: None,
                token_file: data_dir.join("audit-ingest.token"),
                outbox_dir: data_dir.join("audit-outbox"),
                max_params_bytes: 16 * 1024,
                retry_max: std::time::Duration::from_millis(200),
            },
            common,
        }
    }
}

pub const HELP: &str = "\
crm-foundation — identity and administration service of BANTU CRM

USAGE:
  crm-foundation [serve]       migrate, seed, and serve (default)
  crm-foundation migrate       apply pending migrations and exit
  crm-foundation healthcheck   exit 0 when this host's foundation answers /health (container health check)
  crm-foundation create-admin  create an administrator of the BANTU organization from
                               CRM_ADMIN_EMAIL / CRM_ADMIN_USERNAME / CRM_ADMIN_PASSWORD and exit
  crm-foundation --help

ENVIRONMENT (a .env file in the working directory is read too):
";

pub const ENV_HELP: &str = "  CRM_ADMIN_EMAIL          first administrator's e-mail (default admin@bantu.local)
  CRM_ADMIN_USERNAME       first administrator's username (default admin)
  CRM_ADMIN_PASSWORD       first administrator's password (default: generated and printed once)
  CRM_JWT_KEY_FILE         Ed25519 signing key, PKCS#8 PEM (default: generated into $CRM_DATA_DIR)
  CRM_JWT_RETIRED_KEY_FILES  comma-separated PEM keys whose public halves stay in the JWKS
  CRM_JWT_ISSUER, CRM_JWT_AUDIENCE  token iss/aud (default bantu-crm)
  CRM_ACCESS_TOKEN_TTL_SECS   access-token lifetime (default 43200, 12 h; its session can end sooner)
  CRM_REFRESH_TOKEN_TTL_SECS  refresh-token lifetime (default 604800)
  CRM_SESSION_IDLE_SECS    a session unused this long ends (default 14400, 4 h)
  CRM_ALLOW_REGISTRATION   enable POST /auth/register (default false)
  CRM_REGISTRATION_ORG_CODE  organization self-registered users join (default BANTU)
  CRM_LOGIN_MAX_FAILURES   failed logins per account per window before refusal (default 5)
  CRM_LOGIN_MAX_FAILURES_PER_IP  failed logins per address per window (default 50)
  CRM_LOGIN_FAILURE_WINDOW_SECS  the window (default 900)
  CRM_EXPORT_MAX_BYTES     largest work-log export file (default 67108864, 64 MiB)
  CRM_UPLOAD_QUOTA_BYTES   uploaded files an organization may keep (default 1073741824, 1 GiB)
";
