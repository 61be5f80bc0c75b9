//! Storing audit events (idempotent by event id) and the filters every read shares.

use super::model as audit_log;
use crate::organizations::model::employee;
use crate::users::model::user;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use crm_common::contracts::AuditEvent;
use crm_common::http::audit::{Deliver, DeliverFuture};
use crm_common::{ApiError, ApiResult};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TryInsertResult,
};
use std::collections::HashMap;
use uuid::Uuid;

/// Events accepted in one ingest call.
pub const MAX_BATCH: usize = 1000;

fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn cut_opt(s: &Option<String>, max: usize) -> Option<String> {
    s.as_deref().map(|s| cut(s, max))
}

fn row(e: &AuditEvent) -> audit_log::ActiveModel {
    audit_log::ActiveModel {
        id: Set(e.id),
        organization_id: Set(e.organization_id),
        user_id: Set(e.user_id),
        user_name: Set(cut_opt(&e.user_name, 255)),
        action: Set(cut(&e.action, 50)),
        resource_type: Set(cut_opt(&e.resource_type, 100)),
        resource_id: Set(cut_opt(&e.resource_id, 100)),
        resource_name: Set(None),
        category: Set(cut(&e.category, 100)),
        ip_address: Set(cut_opt(&e.ip_address, 64)),
        user_agent: Set(cut_opt(&e.user_agent, 1000)),
        request_method: Set(cut(&e.method, 10)),
        request_path: Set(cut(&e.path, 2000)),
        request_params: Set(e.request_params.clone()),
        old_values: Set(e.old_values.clone()),
        new_values: Set(e.new_values.clone()),
        status: Set(cut(&e.status, 20)),
        status_code: Set(i32::from(e.status_code)),
        error_message: Set(cut_opt(&e.error_message, 2000)),
        duration_ms: Set(Some(i64::try_from(e.duration_ms).unwrap_or(i64::MAX))),
        request_id: Set(cut_opt(&e.request_id, 128)),
        service: Set(cut(&e.service, 50)),
        created_at: Set(e.occurred_at),
    }
}

/// Fills in what the capturing service could not know: the account a failed login named, and
/// the acting user's primary organization when the event carries none.
async fn enrich(db: &impl ConnectionTrait, events: &[AuditEvent]) -> ApiResult<Vec<AuditEvent>> {
    let mut out = events.to_vec();
    let named: Vec<String> = out
        .iter()
        .filter(|e| e.user_id.is_none() && e.category == "authentication")
        .filter_map(|e| e.user_name.as_deref().map(|n| n.trim().to_lowercase()))
        .filter(|n| n.contains('@'))
        .collect();
    if !named.is_empty() {
        let ids: HashMap<String, Uuid> = user::Entity::find()
            .filter(user::Column::Email.is_in(named))
            .all(db)
            .await?
            .into_iter()
            .map(|u| (u.email, u.id))
            .collect();
        for e in out.iter_mut().filter(|e| e.user_id.is_none()) {
            e.user_id = e.user_name.as_deref().and_then(|n| ids.get(&n.trim().to_lowercase()).copied());
        }
    }
    let orphans: Vec<Uuid> = out.iter().filter(|e| e.organization_id.is_none()).filter_map(|e| e.user_id).collect();
    if !orphans.is_empty() {
        let primary: HashMap<Uuid, Uuid> = employee::Entity::find()
            .filter(employee::Column::UserId.is_in(orphans))
            .filter(employee::Column::IsPrimary.eq(true))
            .filter(employee::Column::IsActive.eq(true))
            .all(db)
            .await?
            .into_iter()
            .map(|m| (m.user_id, m.organization_id))
            .collect();
        for e in out.iter_mut().filter(|e| e.organization_id.is_none()) {
            e.organization_id = e.user_id.and_then(|u| primary.get(&u).copied());
        }
    }
    Ok(out)
}

/// Stores events; one already stored (same id) is skipped. Returns how many rows were new.
pub async fn store(db: &impl ConnectionTrait, events: &[AuditEvent]) -> ApiResult<u64> {
    let events = enrich(db, events).await?;
    let mut inserted = 0;
    for chunk in events.chunks(200) {
        let result = audit_log::Entity::insert_many(chunk.iter().map(row))
            .on_conflict_do_nothing()
            .exec_without_returning(db)
            .await?;
        if let TryInsertResult::Inserted(n) = result {
            inserted += n;
        }
    }
    Ok(inserted)
}

/// foundation's own outbox delivers straight into its database.
pub struct DbDeliver(pub DatabaseConnection);

impl Deliver for DbDeliver {
    fn deliver<'a>(&'a self, events: &'a [AuditEvent]) -> DeliverFuture<'a> {
        Box::pin(async move { store(&self.0, events).await.map(|_| ()).map_err(|e| e.to_string()) })
    }
}

/// What a read is narrowed to. `organization: None` means every organization (platform admins).
#[derive(Debug, Default, Clone)]
pub struct Filters {
    pub organization: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub action: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub category: Option<String>,
    pub status: Option<String>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

impl Filters {
    pub fn condition(&self) -> Condition {
        let mut c = Condition::all();
        if let Some(org) = self.organization {
            c = c.add(audit_log::Column::OrganizationId.eq(org));
        }
        if let Some(u) = self.user_id {
            c = c.add(audit_log::Column::UserId.eq(u));
        }
        for (col, value) in [
            (audit_log::Column::Action, &self.action),
            (audit_log::Column::ResourceType, &self.resource_type),
            (audit_log::Column::ResourceId, &self.resource_id),
            (audit_log::Column::Category, &self.category),
            (audit_log::Column::Status, &self.status),
        ] {
            if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                c = c.add(col.eq(v));
            }
        }
        if let Some(t) = self.start {
            c = c.add(audit_log::Column::CreatedAt.gte(t));
        }
        if let Some(t) = self.end {
            c = c.add(audit_log::Column::CreatedAt.lte(t));
        }
        c
    }
}

/// ISO-8601: with an offset, or without one (read as UTC), or a bare date (its first instant, or
/// its last for an end bound).
pub fn parse_time(field: &str, raw: Option<&str>, end: bool) -> ApiResult<Option<DateTime<Utc>>> {
    let Some(s) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Ok(Some(t.and_utc()));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let time = if end { NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999) } else { Some(NaiveTime::MIN) };
        if let Some(time) = time {
            return Ok(Some(d.and_time(time).and_utc()));
        }
    }
    Err(ApiError::field(field, "must be an ISO-8601 date or time"))
}

/// A sortable column by its API name.
pub fn order_column(name: Option<&str>) -> ApiResult<audit_log::Column> {
    use audit_log::Column as C;
    Ok(match name.map(str::trim).unwrap_or("created_at") {
        "" | "created_at" => C::CreatedAt,
        "action" => C::Action,
        "category" => C::Category,
        "status" => C::Status,
        "status_code" => C::StatusCode,
        "user_id" => C::UserId,
        "resource_type" => C::ResourceType,
        "resource_id" => C::ResourceId,
        "duration_ms" => C::DurationMs,
        "request_method" => C::RequestMethod,
        "service" => C::Service,
        _ => {
            return Err(ApiError::field(
                "order_by",
                "must be one of created_at, action, category, status, status_code, user_id, resource_type, \
                 resource_id, duration_ms, request_method, service",
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let t = |s: &str, end| parse_time("t", Some(s), end).unwrap().unwrap().to_rfc3339();
        assert_eq!(t("2026-01-02T03:04:05+07:00", false), "2026-01-01T20:04:05+00:00");
        assert_eq!(t("2026-01-02T03:04:05", false), "2026-01-02T03:04:05+00:00");
        assert_eq!(t("2026-01-02", false), "2026-01-02T00:00:00+00:00");
        assert!(t("2026-01-02", true).starts_with("2026-01-02T23:59:59.999999"));
        assert!(parse_time("t", Some("yesterday"), false).is_err());
        assert!(parse_time("t", None, false).unwrap().is_none());
    }
}
