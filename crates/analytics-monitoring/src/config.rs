//! analytics-monitoring's settings: the common ones, audit capture, where the services whose
//! aggregates it composes live (foundation, service-management, order-workflow), which services the
//! health fan-out asks, the analytics cache, and the alert rules' schedule and thresholds.

use crm_common::config::{ConfigError, PeerSettings, ServiceConfig, env, parse_env};
use crm_common::http::audit::AuditSettings;
use crm_common::logstore::LogStoreConfig;
use std::time::Duration;

pub const SERVICE: &str = "analytics-monitoring";
pub const DEFAULT_PORT: u16 = 8084;

/// Every component the health fan-out asks by default: the gateway and the four services.
pub const DEFAULT_MONITORED: &str = "gateway=http://127.0.0.1:8080,foundation=http://127.0.0.1:8081,\
service-management=http://127.0.0.1:8082,order-workflow=http://127.0.0.1:8083,analytics-monitoring=http://127.0.0.1:8084";

#[derive(Debug, Clone)]
pub struct Config {
    pub common: ServiceConfig,
    pub peers: PeerSettings,
    /// service-management's root URL: customers and service records are its data.
    pub service_management_url: String,
    /// order-workflow's root URL: orders, payment stages and opportunities are its data.
    pub order_workflow_url: String,
    /// Audit capture of this service's requests, delivered to foundation.
    pub audit: AuditSettings,
    /// `(name, root URL)` of every component whose `/health` the fan-out asks.
    pub monitored: Vec<(String, String)>,
    /// How long one service's `/health` may take before it counts as unhealthy.
    pub health_timeout: Duration,
    /// How long an analytics result is reused (seed 001: five minutes).
    pub analytics_ttl: Duration,
    /// How long the last good result is kept to answer, marked stale, while its owner is down.
    pub stale_ttl: Duration,
    /// Where the services' application logs are searched.
    pub logs: LogStoreConfig,
    pub alerts: AlertSettings,
    /// Report exports: the per-user limit (the gateway's export limit).
    pub reports: crate::reports::ReportSettings,
}

/// The alert rules' schedule and thresholds (spec §3's configured set by default).
#[derive(Debug, Clone)]
pub struct AlertSettings {
    /// How often the rules run (zero: never). One replica evaluates at a time.
    pub interval: Duration,
    /// The same alert (type and subject) is not raised again within this window while one is open.
    pub repeat_window: Duration,
    /// The stretch of logs a service's error rate is computed over.
    pub error_rate_window: Duration,
    /// Fewer log records than this in the window make no error rate (one error in two lines is
    /// not 50 % of anything).
    pub error_rate_min_records: u64,
    pub cpu: Thresholds,
    pub memory: Thresholds,
    pub disk: Thresholds,
    pub error_rate: Thresholds,
}

/// Percentages at which a metric raises a warning and a critical alert.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub warning: f64,
    pub critical: f64,
}

impl Thresholds {
    fn from_env(name: &str, warning: f64, critical: f64) -> Result<Self, ConfigError> {
        let t = Self {
            warning: parse_env(&format!("CRM_ALERT_{name}_WARNING"), warning)?,
            critical: parse_env(&format!("CRM_ALERT_{name}_CRITICAL"), critical)?,
        };
        if !(t.warning.is_finite() && t.critical.is_finite() && t.warning <= t.critical) {
            return Err(ConfigError {
                name: format!("CRM_ALERT_{name}_WARNING"),
                reason: "the warning threshold must be a number not above the critical one".into(),
            });
        }
        Ok(t)
    }
}

impl AlertSettings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            interval: Duration::from_secs(parse_env("CRM_ALERT_INTERVAL_SECS", 60)?),
            repeat_window: Duration::from_secs(parse_env("CRM_ALERT_REPEAT_WINDOW_SECS", 1800)?),
            error_rate_window: Duration::from_secs(parse_env("CRM_ALERT_ERROR_RATE_WINDOW_SECS", 300)?),
            error_rate_min_records: parse_env("CRM_ALERT_ERROR_RATE_MIN_RECORDS", 20)?,
            cpu: Thresholds::from_env("CPU", 70.0, 85.0)?,
            memory: Thresholds::from_env("MEMORY", 75.0, 90.0)?,
            disk: Thresholds::from_env("DISK", 85.0, 95.0)?,
            error_rate: Thresholds::from_env("ERROR_RATE", 3.0, 5.0)?,
        })
    }
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(60),
            repeat_window: Duration::from_secs(1800),
            error_rate_window: Duration::from_secs(300),
            error_rate_min_records: 20,
            cpu: Thresholds { warning: 70.0, critical: 85.0 },
            memory: Thresholds { warning: 75.0, critical: 90.0 },
            disk: Thresholds { warning: 85.0, critical: 95.0 },
            error_rate: Thresholds { warning: 3.0, critical: 5.0 },
        }
    }
}

/// `name=http://host:port,...`
pub fn parse_monitored(name: &str, raw: &str) -> Result<Vec<(String, String)>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|entry| {
            let (k, v) = entry
                .split_once('=')
                .ok_or_else(|| ConfigError { name: name.into(), reason: format!("{entry:?} is not name=url") })?;
            let url = v.trim().trim_end_matches('/');
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ConfigError { name: name.into(), reason: format!("{k}: {url:?} is not an http(s) URL") });
            }
            Ok((k.trim().to_owned(), url.to_owned()))
        })
        .collect()
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let common = ServiceConfig::from_env(SERVICE, DEFAULT_PORT)?;
        let monitored = env("CRM_MONITORED_SERVICES").unwrap_or_else(|| DEFAULT_MONITORED.into());
        Ok(Self {
            peers: PeerSettings::from_env()?,
            service_management_url: env("CRM_SERVICE_MANAGEMENT_URL").unwrap_or_else(|| "http://127.0.0.1:8082".into()),
            order_workflow_url: env("CRM_ORDER_WORKFLOW_URL").unwrap_or_else(|| "http://127.0.0.1:8083".into()),
            audit: AuditSettings::from_env(SERVICE, &common.data_dir)?,
            monitored: parse_monitored("CRM_MONITORED_SERVICES", &monitored)?,
            health_timeout: Duration::from_millis(parse_env("CRM_HEALTH_TIMEOUT_MS", 5000)?),
            analytics_ttl: Duration::from_secs(parse_env("CRM_ANALYTICS_CACHE_SECS", 300)?),
            stale_ttl: Duration::from_secs(parse_env("CRM_ANALYTICS_STALE_SECS", 86_400)?),
            logs: LogStoreConfig::from_env(),
            alerts: AlertSettings::from_env()?,
            reports: crate::reports::ReportSettings::from_env()?,
            common,
        })
    }
}

pub const HELP: &str = "\
crm-analytics-monitoring — business analytics, system monitoring with alerts, log search of BANTU CRM

USAGE:
  crm-analytics-monitoring [serve]   migrate and serve (default)
  crm-analytics-monitoring migrate   apply pending migrations and exit
  crm-analytics-monitoring healthcheck  exit 0 when the local service answers /health (container health check)
  crm-analytics-monitoring --help

ENVIRONMENT (also read from .env):
  CRM_SERVICE_MANAGEMENT_URL  service-management's root URL: customers, service records (default http://127.0.0.1:8082)
  CRM_ORDER_WORKFLOW_URL   order-workflow's root URL: orders, revenue, opportunities (default http://127.0.0.1:8083)
  CRM_MONITORED_SERVICES   name=url,... whose /health the fan-out asks (default the gateway on :8080 and
                           the four services on :8081-:8084)
  CRM_HEALTH_TIMEOUT_MS    how long one /health may take (default 5000)
  CRM_ANALYTICS_CACHE_SECS how long an analytics result is reused (default 300; 0 = not cached)
  CRM_ANALYTICS_STALE_SECS how long the last result answers, marked stale, while its owner is down (default 86400)
  MONGODB_URL              search logs in MongoDB; unset = the SQLite log store $CRM_DATA_DIR/logs.db
  CRM_ALERT_INTERVAL_SECS  how often the alert rules run (default 60; 0 = never)
  CRM_ALERT_REPEAT_WINDOW_SECS  an open alert is not raised again within this window (default 1800)
  CRM_ALERT_ERROR_RATE_WINDOW_SECS  the logs a service's error rate is computed over (default 300)
  CRM_ALERT_ERROR_RATE_MIN_RECORDS  fewer records in the window make no error rate (default 20)
  CRM_ALERT_{CPU,MEMORY,DISK,ERROR_RATE}_{WARNING,CRITICAL}  thresholds in percent
                           (defaults CPU 70/85, memory 75/90, disk 85/95, error rate 3/5)
";
