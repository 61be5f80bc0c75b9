//! service-management's settings: the common ones, audit capture and how to reach foundation.

use crm_common::config::{ConfigError, PeerSettings, ServiceConfig};
use crm_common::http::audit::AuditSettings;

pub const SERVICE: &str = "service-management";
pub const DEFAULT_PORT: u16 = 8082;

#[derive(Debug, Clone)]
pub struct Config {
    pub common: ServiceConfig,
    pub peers: PeerSettings,
    /// Audit capture of this service's requests, delivered to foundation.
    pub audit: AuditSettings,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let common = ServiceConfig::from_env(SERVICE, DEFAULT_PORT)?;
        Ok(Self {
            peers: PeerSettings::from_env()?,
            audit: AuditSettings::from_env(SERVICE, &common.data_dir)?,
            common,
        })
    }
}

pub const HELP: &str = "\
crm-service-management — the service catalogue and the customer side of BANTU CRM

USAGE:
  crm-service-management [serve]   migrate and serve (default)
  crm-service-management migrate   apply pending migrations and exit
  crm-service-management healthcheck  exit 0 when the local service answers /health (container health check)
  crm-service-management --help

ENVIRONMENT (also read from .env):
";
