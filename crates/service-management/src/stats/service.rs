//! The counts, grouped in SQL on indexed columns: a handful of rows come back whatever the number
//! of customers.

use crate::customers::model::customer;
use crate::service_records::model as record;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use crm_common::ApiResult;
use crm_common::stats::{CustomersSummary, DailyCounts, ServiceRecordStatistics};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Every customer type, source, service-record status and priority is counted, zero when none
/// (the same lists the resources validate against).
const CUSTOMER_TYPES: &[&str] = &["individual", "organization"];
const SOURCE_TYPES: &[&str] = &["own", "agent"];
const STATUSES: &[&str] = &["pending", "in_progress", "completed", "cancelled", "on_hold"];
const PRIORITIES: &[&str] = &["urgent", "high", "normal", "low"];

/// Active customer: a service record created within this many days (spec §3).
pub const ACTIVE_DAYS: i64 = 30;

fn count_of(c: impl sea_orm::sea_query::IntoColumnRef) -> Expr {
    Expr::from(Func::count(Expr::col(c)))
}

fn zeros(keys: &[&str]) -> BTreeMap<String, u64> {
    keys.iter().map(|k| ((*k).to_owned(), 0)).collect()
}

pub async fn customers_summary(
    db: &impl ConnectionTrait,
    org: Option<Uuid>,
    now: DateTime<Utc>,
) -> ApiResult<CustomersSummary> {
    let mut q = customer::Entity::find()
        .select_only()
        .column(customer::Column::CustomerType)
        .column(customer::Column::CustomerSourceType)
        .column_as(count_of(customer::Column::Id), "n")
        .group_by(customer::Column::CustomerType)
        .group_by(customer::Column::CustomerSourceType);
    if let Some(org) = org {
        q = q.filter(customer::Column::OrganizationId.eq(org));
    }
    let rows: Vec<(String, String, i64)> = q.into_tuple().all(db).await?;
    let mut out =
        CustomersSummary { by_type: zeros(CUSTOMER_TYPES), by_source: zeros(SOURCE_TYPES), ..Default::default() };
    for (kind, source, n) in rows {
        let n = n.max(0) as u64;
        out.total += n;
        *out.by_type.entry(kind).or_default() += n;
        *out.by_source.entry(source).or_default() += n;
    }
    let mut active = record::Entity::find()
        .select_only()
        .column_as(Expr::cust("COUNT(DISTINCT customer_id)"), "n")
        .filter(record::Column::CreatedAt.gte(now - Duration::days(ACTIVE_DAYS)));
    if let Some(org) = org {
        active = active.filter(record::Column::OrganizationId.eq(org));
    }
    let n: Option<i64> = active.into_tuple().one(db).await?;
    out.active_count = n.unwrap_or(0).max(0) as u64;
    Ok(out)
}

pub async fn customers_created(
    db: &impl ConnectionTrait,
    org: Option<Uuid>,
    since: NaiveDate,
) -> ApiResult<DailyCounts> {
    let start = since.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let backend = db.get_database_backend();
    let mut before = customer::Entity::find()
        .select_only()
        .column_as(count_of(customer::Column::Id), "n")
        .filter(customer::Column::CreatedAt.lt(start));
    let day = crm_common::db::utc_day(backend, "\"customers\".\"created_at\"");
    let mut per_day = customer::Entity::find()
        .select_only()
        .column_as(day.clone(), "day")
        .column_as(count_of(customer::Column::Id), "n")
        .filter(customer::Column::CreatedAt.gte(start))
        .group_by(day);
    if let Some(org) = org {
        before = before.filter(customer::Column::OrganizationId.eq(org));
        per_day = per_day.filter(customer::Column::OrganizationId.eq(org));
    }
    let before: Option<i64> = before.into_tuple().one(db).await?;
    let rows: Vec<(String, i64)> = per_day.into_tuple().all(db).await?;
    let days =
        rows.into_iter().filter_map(|(d, n)| d.parse::<NaiveDate>().ok().map(|d| (d, n.max(0) as u64))).collect();
    Ok(DailyCounts { before: before.unwrap_or(0).max(0) as u64, days })
}

pub async fn service_records(db: &impl ConnectionTrait, org: Option<Uuid>) -> ApiResult<ServiceRecordStatistics> {
    let mut q = record::Entity::find()
        .select_only()
        .column(record::Column::Status)
        .column(record::Column::Priority)
        .column_as(count_of(record::Column::Id), "n")
        .group_by(record::Column::Status)
        .group_by(record::Column::Priority);
    if let Some(org) = org {
        q = q.filter(record::Column::OrganizationId.eq(org));
    }
    let rows: Vec<(String, String, i64)> = q.into_tuple().all(db).await?;
    let mut out =
        ServiceRecordStatistics { by_status: zeros(STATUSES), by_priority: zeros(PRIORITIES), ..Default::default() };
    for (status, priority, n) in rows {
        let n = n.max(0) as u64;
        out.total += n;
        *out.by_status.entry(status).or_default() += n;
        *out.by_priority.entry(priority).or_default() += n;
    }
    Ok(out)
}
