use super::dto::{DatabaseHealth, DatabaseMetrics, HistoryParams, MetricHistory, ServicesHealth, SystemMetrics};
use super::service;
use crate::AppState;
use crate::perm::{MonitoringView, require_platform};
use axum::extract::State;
use axum::response::Response;
use crm_common::api::openapi::{BadRequest, Forbidden};
use crm_common::api::{Envelope, Query, ok};
use crm_common::auth::Authorized;
use crm_common::{ApiError, ApiResult};

/// Every service's health
///
/// Asks each service's `/health` at once (5 s each by default): 200 is `healthy`, anything else
/// `unhealthy`; `overall_status` is `healthy`, `degraded` (fewer than half unhealthy) or `down`.
#[utoipa::path(get, path = "/api/analytics-monitoring/monitoring/health/services", tag = "monitoring",
    responses((status = 200, description = "Each service's health", body = Envelope<ServicesHealth>),
        (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn services_health(State(state): State<AppState>, caller: Authorized<MonitoringView>) -> ApiResult<Response> {
    require_platform(&caller, "monitoring")?;
    let c = &state.config;
    Ok(ok(service::services_health(&state.health_http, &c.monitored, c.health_timeout).await))
}

/// Database health
///
/// This service's database: reachable, its server version, the pool's size and use, and how long
/// a trivial query took.
#[utoipa::path(get, path = "/api/analytics-monitoring/monitoring/health/database", tag = "monitoring",
    responses((status = 200, description = "The database's health", body = Envelope<DatabaseHealth>),
        (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn database_health(State(state): State<AppState>, caller: Authorized<MonitoringView>) -> ApiResult<Response> {
    require_platform(&caller, "monitoring")?;
    Ok(ok(service::database_health(&state.db).await))
}

/// System metrics
///
/// CPU (since the previous reading), memory (the container's limit when there is one) and the
/// disk holding the service's data, in percent and absolute figures.
#[utoipa::path(get, path = "/api/analytics-monitoring/monitoring/metrics/system", tag = "monitoring",
    responses((status = 200, description = "A reading", body = Envelope<SystemMetrics>),
        (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn system_metrics(State(state): State<AppState>, caller: Authorized<MonitoringView>) -> ApiResult<Response> {
    require_platform(&caller, "monitoring")?;
    let probe = state.system.clone();
    let s = tokio::task::spawn_blocking(move || probe.sample()).await.map_err(ApiError::internal)?;
    Ok(ok(SystemMetrics {
        cpu_percent: s.cpu_percent,
        memory_percent: s.memory_percent,
        disk_percent: s.disk_percent,
        memory_used_mb: s.memory_used_mb,
        memory_total_mb: s.memory_total_mb,
        disk_used_gb: s.disk_used_gb,
        disk_total_gb: s.disk_total_gb,
        timestamp: s.timestamp,
    }))
}

/// Database metrics
///
/// Connections, queries and slow queries where PostgreSQL reports them (`null` on SQLite).
#[utoipa::path(get, path = "/api/analytics-monitoring/monitoring/metrics/database", tag = "monitoring",
    responses((status = 200, description = "A reading", body = Envelope<DatabaseMetrics>),
        (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn database_metrics(
    State(state): State<AppState>,
    caller: Authorized<MonitoringView>,
) -> ApiResult<Response> {
    require_platform(&caller, "monitoring")?;
    Ok(ok(service::database_metrics(&state.db).await?))
}

/// A metric's recent history
///
/// The values the alert evaluator recorded (one per run), oldest first: what the dashboard's
/// charts draw.
#[utoipa::path(get, path = "/api/analytics-monitoring/monitoring/metrics/history", tag = "monitoring",
    params(HistoryParams),
    responses((status = 200, description = "The values", body = Envelope<MetricHistory>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn history(
    State(state): State<AppState>,
    caller: Authorized<MonitoringView>,
    Query(q): Query<HistoryParams>,
) -> ApiResult<Response> {
    require_platform(&caller, "monitoring")?;
    let metric = q.metric.trim();
    if metric.is_empty() || metric.len() > 150 {
        return Err(ApiError::field("metric", "is required (at most 150 characters)"));
    }
    let minutes = q.minutes.unwrap_or(60);
    if !(1..=1440).contains(&minutes) {
        return Err(ApiError::field("minutes", "must be between 1 and 1440"));
    }
    let since = chrono::Utc::now() - chrono::Duration::minutes(i64::from(minutes));
    let points = crate::alerts::service::history(&state.db, metric, since).await?;
    Ok(ok(MetricHistory { metric: metric.to_owned(), points }))
}
