//! order-workflow's settings: the common ones, audit capture, how to reach foundation (identity,
//! names) and service-management (customer levels, customers, products and their dependencies).

use crm_common::config::{ConfigError, PeerSettings, ServiceConfig, env, parse_env};
use crm_common::http::audit::AuditSettings;
use std::path::PathBuf;
use std::time::Duration;

pub const SERVICE: &str = "order-workflow";
pub const DEFAULT_PORT: u16 = 8083;

#[derive(Debug, Clone)]
pub struct Config {
    pub common: ServiceConfig,
    pub peers: PeerSettings,
    /// service-management's root URL: customer levels (a lead's `level`), customers, products and
    /// their dependencies are its data.
    pub service_management_url: String,
    /// How long the customer-level codes fetched from service-management are reused; levels
    /// change rarely and every lead write checks one.
    pub levels_cache: Duration,
    /// Audit capture of this service's requests, delivered to foundation.
    pub audit: AuditSettings,
    /// How often the automatic collection job runs (zero: never). Every replica may run it; one
    /// task per due payment stage is guaranteed by the database.
    pub collection_interval: Duration,
    /// Where order files are kept (`order_{order_id}/{file_id}.{ext}` under it). Replicas must
    /// share it.
    pub files_dir: PathBuf,
    /// The secret that signs order files' links (`file_url`), so a browser opens them without a
    /// token. `None`: read from (or generated once into) `files_url_key_file`; replicas must share
    /// one.
    pub file_url_key: Option<String>,
    pub file_url_key_file: PathBuf,
    /// How long the `file_url` of every file answer stays valid.
    pub file_url_ttl: Duration,
    /// The limits of the notification sockets (`/ws/notifications`).
    pub live: crate::live::socket::Limits,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let common = ServiceConfig::from_env(SERVICE, DEFAULT_PORT)?;
        Ok(Self {
            peers: PeerSettings::from_env()?,
            service_management_url: env("CRM_SERVICE_MANAGEMENT_URL").unwrap_or_else(|| "http://127.0.0.1:8082".into()),
            levels_cache: Duration::from_secs(parse_env("CRM_LEVELS_CACHE_SECS", 60)?),
            audit: AuditSettings::from_env(SERVICE, &common.data_dir)?,
            collection_interval: Duration::from_secs(parse_env("CRM_COLLECTION_INTERVAL_SECS", 3600)?),
            files_dir: env("CRM_ORDER_FILES_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| common.data_dir.join("order-files")),
            file_url_key: env("CRM_FILE_URL_KEY"),
            file_url_key_file: common.data_dir.join("order-file-url.key"),
            file_url_ttl: Duration::from_secs(parse_env("CRM_FILE_URL_TTL_SECS", 900)?),
            live: crate::live::socket::Limits {
                ping: Duration::from_secs(parse_env("CRM_WS_PING_SECS", 25)?.max(1)),
                idle: Duration::from_secs(parse_env("CRM_WS_IDLE_SECS", 60)?.max(1)),
                write_timeout: Duration::from_secs(parse_env("CRM_WS_WRITE_TIMEOUT_SECS", 10)?.max(1)),
                queue: parse_env("CRM_WS_QUEUE", 32)?,
                max_per_user: parse_env("CRM_WS_MAX_PER_USER", 16)?,
            },
            common,
        })
    }
}

pub const HELP: &str = "\
crm-order-workflow — leads and opportunities (and later orders and their workflow) of BANTU CRM

USAGE:
  crm-order-workflow [serve]   migrate and serve (default)
  crm-order-workflow migrate   apply pending migrations and exit
  crm-order-workflow healthcheck  exit 0 when the local service answers /health (container health check)
  crm-order-workflow --help

ENVIRONMENT (also read from .env):
  CRM_SERVICE_MANAGEMENT_URL  service-management's root URL: customer levels, customers, products (default http://127.0.0.1:8082)
  CRM_LEVELS_CACHE_SECS    how long customer-level codes from service-management are reused (default 60)
  CRM_COLLECTION_INTERVAL_SECS  how often overdue payment stages get collection tasks (default 3600; 0 = off)
  CRM_ORDER_FILES_DIR      where order files are kept (default $CRM_DATA_DIR/order-files)
  CRM_FILE_URL_KEY         secret signing order files' links; unset = generated once into
                           $CRM_DATA_DIR/order-file-url.key (replicas must share one)
  CRM_FILE_URL_TTL_SECS    how long a file answer's file_url stays valid (default 900)
  CRM_WS_PING_SECS         how often notification sockets are pinged (default 25)
  CRM_WS_IDLE_SECS         a socket silent this long (no pong either) is closed (default 60)
  CRM_WS_WRITE_TIMEOUT_SECS  a write to a socket not done in this long closes it (default 10)
  CRM_WS_QUEUE             notifications waiting for one socket before it is cut off (default 32)
  CRM_WS_MAX_PER_USER      notification sockets one user may hold per replica (default 16)
";
