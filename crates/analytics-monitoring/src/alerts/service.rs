//! The alert lifecycle in the database: raise, repeat (counted, not raised again), escalate,
//! resolve, acknowledge; and the metric samples the rules were given.

use super::model::{alert, sample};
use super::rules::{self, Reading};
use crate::config::AlertSettings;
use crate::monitoring::dto::MetricPoint;
use chrono::{DateTime, Duration, Utc};
use crm_common::{ApiError, ApiResult};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};
use uuid::Uuid;

/// Alerts that are not resolved.
pub const OPEN: [&str; 2] = ["active", "acknowledged"];

/// How long metric samples are kept.
pub const SAMPLE_RETENTION_HOURS: i64 = 24;

/// What one evaluation did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub raised: usize,
    /// Fired again while open: counted on the open alert, not raised anew.
    pub repeated: usize,
    /// Fired again soon after an alert of the same rule and subject: not raised (repeat window).
    pub suppressed: usize,
    pub resolved: usize,
}

/// Applies the rules to `readings`: each over a threshold raises an alert unless one is open for
/// the same rule and subject (then it is counted on it, and escalated to a higher severity) or one
/// was raised within the repeat window; each back under its thresholds resolves the open one.
pub async fn apply(
    db: &impl ConnectionTrait,
    settings: &AlertSettings,
    readings: &[Reading],
    now: DateTime<Utc>,
) -> ApiResult<Outcome> {
    let mut out = Outcome::default();
    for r in readings {
        let open = alert::Entity::find()
            .filter(alert::Column::AlertType.eq(r.alert_type))
            .filter(alert::Column::Subject.eq(r.subject.as_str()))
            .filter(alert::Column::Status.is_in(OPEN))
            .order_by_desc(alert::Column::CreatedAt)
            .one(db)
            .await?;
        match (rules::evaluate(settings, r), open) {
            (Some(firing), Some(open)) => {
                let escalate = rules::rank(firing.severity) > rules::rank(&open.severity);
                let occurrences = open.occurrences.saturating_add(1);
                let mut a = open.into_active_model();
                a.occurrences = Set(occurrences);
                a.last_seen_at = Set(now);
                a.value = Set(r.value);
                if escalate {
                    a.severity = Set(firing.severity.into());
                    a.threshold = Set(firing.threshold);
                    a.message = Set(firing.message);
                }
                a.update(db).await?;
                out.repeated += 1;
            }
            (Some(firing), None) => {
                let window = Duration::from_std(settings.repeat_window).unwrap_or_else(|_| Duration::minutes(30));
                let recent = alert::Entity::find()
                    .filter(alert::Column::AlertType.eq(r.alert_type))
                    .filter(alert::Column::Subject.eq(r.subject.as_str()))
                    .filter(alert::Column::CreatedAt.gt(now - window))
                    .one(db)
                    .await?;
                if recent.is_some() {
                    out.suppressed += 1;
                    continue;
                }
                alert::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    alert_type: Set(r.alert_type.into()),
                    subject: Set(r.subject.clone()),
                    severity: Set(firing.severity.into()),
                    title: Set(firing.title.clone()),
                    message: Set(firing.message.clone()),
                    value: Set(r.value),
                    threshold: Set(firing.threshold),
                    status: Set("active".into()),
                    occurrences: Set(1),
                    created_at: Set(now),
                    last_seen_at: Set(now),
                    acknowledged_at: Set(None),
                    acknowledged_by: Set(None),
                    resolved_at: Set(None),
                }
                .insert(db)
                .await?;
                // The notification: the log every service's logs are searched in.
                tracing::warn!(
                    alert_type = r.alert_type,
                    subject = %r.subject,
                    severity = firing.severity,
                    value = r.value,
                    "alert raised: {}",
                    firing.message
                );
                out.raised += 1;
            }
            (None, Some(_)) => {
                let resolved = alert::Entity::update_many()
                    .col_expr(alert::Column::Status, Expr::value("resolved"))
                    .col_expr(alert::Column::ResolvedAt, Expr::value(now))
                    .filter(alert::Column::AlertType.eq(r.alert_type))
                    .filter(alert::Column::Subject.eq(r.subject.as_str()))
                    .filter(alert::Column::Status.is_in(OPEN))
                    .exec(db)
                    .await?;
                out.resolved += resolved.rows_affected as usize;
            }
            (None, None) => {}
        }
    }
    Ok(out)
}

/// Keeps each reading as a sample (the dashboard's charts) and forgets old ones.
pub async fn record(db: &impl ConnectionTrait, samples: &[(String, f64)], now: DateTime<Utc>) -> ApiResult<()> {
    if !samples.is_empty() {
        let rows = samples.iter().map(|(metric, value)| sample::ActiveModel {
            id: Set(Uuid::now_v7()),
            metric: Set(metric.clone()),
            value: Set(*value),
            recorded_at: Set(now),
        });
        sample::Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    sample::Entity::delete_many()
        .filter(sample::Column::RecordedAt.lt(now - Duration::hours(SAMPLE_RETENTION_HOURS)))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn history(db: &impl ConnectionTrait, metric: &str, since: DateTime<Utc>) -> ApiResult<Vec<MetricPoint>> {
    let rows = sample::Entity::find()
        .filter(sample::Column::Metric.eq(metric))
        .filter(sample::Column::RecordedAt.gte(since))
        .order_by_asc(sample::Column::RecordedAt)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|s| MetricPoint { timestamp: s.recorded_at, value: s.value }).collect())
}

/// Open alerts, newest first.
pub async fn open(db: &impl ConnectionTrait) -> ApiResult<Vec<alert::Model>> {
    Ok(alert::Entity::find()
        .filter(alert::Column::Status.is_in(OPEN))
        .order_by_desc(alert::Column::CreatedAt)
        .order_by_desc(alert::Column::Id)
        .all(db)
        .await?)
}

/// `active → acknowledged`; acknowledging again is a no-op; a resolved alert cannot be.
pub async fn acknowledge(db: &impl ConnectionTrait, id: Uuid, by: Uuid, now: DateTime<Utc>) -> ApiResult<alert::Model> {
    let found = alert::Entity::find_by_id(id).one(db).await?.ok_or_else(|| ApiError::not_found("alert"))?;
    match found.status.as_str() {
        "acknowledged" => Ok(found),
        "resolved" => Err(ApiError::conflict("the alert is already resolved")),
        _ => {
            let mut a = found.into_active_model();
            a.status = Set("acknowledged".into());
            a.acknowledged_at = Set(Some(now));
            a.acknowledged_by = Set(Some(by));
            Ok(a.update(db).await?)
        }
    }
}
