//! order-workflow's settings: the common ones, audit capture, how to reach foundation (identity,
//! names) and service-management (customer levels, customers, products and their dependencies).

use crm_common::config::{ConfigError, PeerSettings, ServiceConfig, env, parse_env};
use crm_common::http::audit::AuditSettings;
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
";
