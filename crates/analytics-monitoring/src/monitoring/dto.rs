use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One service's health as the fan-out saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ServiceHealth {
    /// `foundation-service`, `order-workflow-service`, … (`gateway` for the gateway).
    pub name: String,
    /// `healthy` (its `/health` answered 200 in time) or `unhealthy`.
    pub status: String,
    /// Seconds since it started, as it reports.
    pub uptime: Option<u64>,
    pub version: Option<String>,
    pub response_time_ms: f64,
    pub last_check: DateTime<Utc>,
    /// Why it is unhealthy.
    pub error_message: Option<String>,
}

/// Seed 001's services health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ServicesHealth {
    pub services: Vec<ServiceHealth>,
    /// `healthy` (none unhealthy), `degraded` (fewer than half) or `down`.
    pub overall_status: String,
}

/// Seed 001's database health, with the server version and the pool's use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DatabaseHealth {
    /// `healthy` when a trivial query succeeds, else `unhealthy`.
    pub status: String,
    /// `postgres` or `sqlite`.
    pub backend: String,
    pub version: Option<String>,
    /// Connections the pool may open.
    pub connection_pool_size: u32,
    /// Connections open and in use.
    pub active_connections: u32,
    pub idle_connections: u32,
    pub response_time_ms: f64,
    pub last_check: DateTime<Utc>,
}

/// Seed 001's system metrics, with the absolute figures behind the percentages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SystemMetrics {
    pub cpu_percent: f64,
    pub memory_percent: f64,
    pub disk_percent: f64,
    pub memory_used_mb: u64,
    pub memory_total_mb: u64,
    pub disk_used_gb: f64,
    pub disk_total_gb: f64,
    pub timestamp: DateTime<Utc>,
}

/// Seed 001's database metrics. On PostgreSQL: the database's connections, its committed and
/// rolled-back transactions (`query_count`) and the statements running longer than a second
/// (`slow_query_count`); SQLite reports neither, so those are `null` there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DatabaseMetrics {
    pub connection_count: u64,
    pub query_count: Option<u64>,
    pub slow_query_count: Option<u64>,
    pub timestamp: DateTime<Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct HistoryParams {
    /// `cpu_percent`, `memory_percent`, `disk_percent`, `db_connections` or
    /// `error_rate:{service}`.
    pub metric: String,
    /// How far back, in minutes (default 60, at most 1440).
    pub minutes: Option<u32>,
}

/// One recorded value of a metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MetricPoint {
    pub timestamp: DateTime<Utc>,
    pub value: f64,
}

/// A metric's recent values, oldest first (the dashboard's charts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MetricHistory {
    pub metric: String,
    pub points: Vec<MetricPoint>,
}
