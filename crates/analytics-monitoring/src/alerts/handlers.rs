use super::model::alert;
use super::service;
use crate::AppState;
use crate::perm::{AlertManage, MonitoringView, require_platform};
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use crm_common::ApiResult;
use crm_common::api::openapi::{Conflict, Forbidden, NotFound};
use crm_common::api::{Envelope, Path, ok};
use crm_common::auth::Authorized;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// An alert in seed 001's shape, with the rest of its record.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertView {
    pub id: Uuid,
    /// `cpu_high`, `memory_high`, `disk_high`, `error_rate_high`.
    #[serde(rename = "type")]
    pub alert_type: String,
    /// `warning` or `critical`.
    pub severity: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub acknowledged: bool,
    pub title: String,
    /// `active` or `acknowledged`.
    pub status: String,
    /// `host`, or the service whose error rate it is.
    pub subject: String,
    pub value: f64,
    pub threshold: f64,
    /// How many evaluations found it firing.
    pub occurrences: i32,
    pub last_seen_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

impl From<alert::Model> for AlertView {
    fn from(a: alert::Model) -> Self {
        Self {
            id: a.id,
            acknowledged: a.status == "acknowledged",
            alert_type: a.alert_type,
            severity: a.severity,
            message: a.message,
            created_at: a.created_at,
            title: a.title,
            status: a.status,
            subject: a.subject,
            value: a.value,
            threshold: a.threshold,
            occurrences: a.occurrences,
            last_seen_at: a.last_seen_at,
            acknowledged_at: a.acknowledged_at,
        }
    }
}

/// Seed 001's active alerts.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActiveAlerts {
    pub alerts: Vec<AlertView>,
    pub total: usize,
    /// Open alerts per severity.
    pub by_level: BTreeMap<String, usize>,
}

/// Active alerts
///
/// Alerts not yet resolved (acknowledged ones included, with `acknowledged: true`), newest first.
#[utoipa::path(get, path = "/api/analytics-monitoring/monitoring/alerts/active", tag = "alerts",
    responses((status = 200, description = "The open alerts", body = Envelope<ActiveAlerts>),
        (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn active(State(state): State<AppState>, caller: Authorized<MonitoringView>) -> ApiResult<Response> {
    require_platform(&caller, "monitoring")?;
    let alerts: Vec<AlertView> = service::open(&state.db).await?.into_iter().map(AlertView::from).collect();
    let mut by_level = BTreeMap::new();
    for a in &alerts {
        *by_level.entry(a.severity.clone()).or_default() += 1;
    }
    Ok(ok(ActiveAlerts { total: alerts.len(), alerts, by_level }))
}

/// Acknowledge an alert
///
/// `active → acknowledged` (again: no change); it stays listed until its rule stops firing. A
/// resolved alert answers 409, an unknown id 404.
#[utoipa::path(post, path = "/api/analytics-monitoring/monitoring/alerts/{alert_id}/acknowledge", tag = "alerts",
    params(("alert_id" = Uuid, Path, description = "The alert")),
    responses((status = 200, description = "Acknowledged", body = Envelope<bool>),
        (status = 400, description = "Not an id"), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn acknowledge(
    State(state): State<AppState>,
    caller: Authorized<AlertManage>,
    Path(alert_id): Path<Uuid>,
) -> ApiResult<Response> {
    require_platform(&caller, "acknowledging alerts")?;
    service::acknowledge(&state.db, alert_id, caller.user_id, Utc::now()).await?;
    Ok(ok(true))
}
