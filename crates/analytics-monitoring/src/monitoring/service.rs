//! The health fan-out and the database's health and metrics.

use super::dto::{DatabaseHealth, DatabaseMetrics, ServiceHealth, ServicesHealth};
use chrono::Utc;
use crm_common::ApiResult;
use futures_util::future::join_all;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use std::time::{Duration, Instant};

/// Asks every service's `/health` at once, each within `timeout`: 200 is healthy, anything else
/// (another status, a timeout, no answer) unhealthy (spec §3).
pub async fn services_health(
    http: &reqwest::Client,
    services: &[(String, String)],
    timeout: Duration,
) -> ServicesHealth {
    let checks = services.iter().map(|(name, url)| check(http, name, url, timeout));
    let services: Vec<ServiceHealth> = join_all(checks).await;
    let overall_status = overall(&services).into();
    ServicesHealth { services, overall_status }
}

/// Spec §3: none unhealthy → healthy; fewer than half → degraded; otherwise down.
pub fn overall(services: &[ServiceHealth]) -> &'static str {
    let unhealthy = services.iter().filter(|s| s.status != "healthy").count();
    if unhealthy == 0 {
        "healthy"
    } else if unhealthy * 2 < services.len() {
        "degraded"
    } else {
        "down"
    }
}

fn display_name(name: &str) -> String {
    if name == "gateway" || name.ends_with("-service") { name.to_owned() } else { format!("{name}-service") }
}

async fn check(http: &reqwest::Client, name: &str, url: &str, timeout: Duration) -> ServiceHealth {
    let started = Instant::now();
    let result = tokio::time::timeout(timeout, async {
        let response = http.get(format!("{url}/health")).send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or(serde_json::Value::Null);
        Ok::<_, String>((status, body))
    })
    .await;
    let response_time_ms = (started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0;
    let mut health = ServiceHealth {
        name: display_name(name),
        status: "unhealthy".into(),
        uptime: None,
        version: None,
        response_time_ms,
        last_check: Utc::now(),
        error_message: None,
    };
    match result {
        Err(_) => health.error_message = Some(format!("no answer within {} ms", timeout.as_millis())),
        Ok(Err(e)) => health.error_message = Some(format!("unreachable: {e}")),
        Ok(Ok((status, body))) => {
            health.uptime = body.get("uptime_seconds").and_then(|v| v.as_u64());
            health.version = body.get("version").and_then(|v| v.as_str()).map(str::to_owned);
            if status.is_success() {
                health.status = "healthy".into();
            } else {
                health.error_message = Some(format!("/health answered {}", status.as_u16()));
            }
        }
    }
    health
}

/// `(size, idle, max)` of the connection pool.
fn pool_usage(db: &DatabaseConnection) -> (u32, u32, u32) {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), u32::try_from(pool.num_idle()).unwrap_or(u32::MAX), pool.options().get_max_connections())
        }
        _ => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), u32::try_from(pool.num_idle()).unwrap_or(u32::MAX), pool.options().get_max_connections())
        }
    }
}

async fn scalar_text(db: &DatabaseConnection, sql: &str) -> Result<Option<String>, sea_orm::DbErr> {
    let stmt = Statement::from_string(db.get_database_backend(), sql.to_owned());
    match db.query_one_raw(stmt).await? {
        Some(row) => Ok(row.try_get_by_index::<Option<String>>(0)?),
        None => Ok(None),
    }
}

async fn scalar_count(db: &DatabaseConnection, sql: &str) -> Result<Option<u64>, sea_orm::DbErr> {
    let stmt = Statement::from_string(db.get_database_backend(), sql.to_owned());
    match db.query_one_raw(stmt).await? {
        Some(row) => Ok(row.try_get_by_index::<Option<i64>>(0)?.map(|n| n.max(0) as u64)),
        None => Ok(None),
    }
}

pub async fn database_health(db: &DatabaseConnection) -> DatabaseHealth {
    let backend = db.get_database_backend();
    let version_sql = match backend {
        DbBackend::Postgres => "SELECT current_setting('server_version')",
        _ => "SELECT sqlite_version()",
    };
    let started = Instant::now();
    let version = scalar_text(db, version_sql).await;
    let response_time_ms = (started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0;
    let (size, idle, max) = pool_usage(db);
    DatabaseHealth {
        status: if version.is_ok() { "healthy" } else { "unhealthy" }.into(),
        backend: crm_common::db::backend_name(db).into(),
        version: version.ok().flatten(),
        connection_pool_size: max,
        active_connections: size.saturating_sub(idle),
        idle_connections: idle,
        response_time_ms,
        last_check: Utc::now(),
    }
}

pub async fn database_metrics(db: &DatabaseConnection) -> ApiResult<DatabaseMetrics> {
    let (size, _, _) = pool_usage(db);
    let metrics = match db.get_database_backend() {
        DbBackend::Postgres => DatabaseMetrics {
            connection_count: scalar_count(
                db,
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()",
            )
            .await?
            .unwrap_or(0),
            query_count: scalar_count(
                db,
                "SELECT (xact_commit + xact_rollback)::bigint FROM pg_stat_database WHERE datname = current_database()",
            )
            .await?,
            slow_query_count: scalar_count(
                db,
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' \
                 AND now() - query_start > interval '1 second'",
            )
            .await?,
            timestamp: Utc::now(),
        },
        _ => DatabaseMetrics {
            connection_count: u64::from(size),
            query_count: None,
            slow_query_count: None,
            timestamp: Utc::now(),
        },
    };
    Ok(metrics)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(status: &str) -> ServiceHealth {
        ServiceHealth {
            name: "x".into(),
            status: status.into(),
            uptime: None,
            version: None,
            response_time_ms: 0.0,
            last_check: Utc::now(),
            error_message: None,
        }
    }

    #[test]
    fn overall_status() {
        assert_eq!(overall(&[s("healthy"), s("healthy")]), "healthy");
        assert_eq!(overall(&[s("healthy"), s("healthy"), s("unhealthy")]), "degraded");
        assert_eq!(overall(&[s("healthy"), s("unhealthy")]), "down");
        assert_eq!(overall(&[s("unhealthy")]), "down");
    }
}
