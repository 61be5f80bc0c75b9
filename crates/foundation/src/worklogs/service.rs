//! Rules for work logs: they belong to the author's acting organization; the author sees and
//! edits their own; managers of the organization and holders of `worklog.rate` see all of the
//! organization's and rate them, never their own.

use super::dto::WorkLogView;
use super::model as work_log;
use crate::organizations::model::employee;
use crate::perm::WORKLOG_RATE;
use crate::users::model::user;
use crm_common::auth::Principal;
use crm_common::{ApiError, ApiResult};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Select};
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;

pub async fn is_manager(db: &impl ConnectionTrait, user_id: Uuid, org: Uuid) -> ApiResult<bool> {
    let n = employee::Entity::find()
        .filter(employee::Column::UserId.eq(user_id))
        .filter(employee::Column::OrganizationId.eq(org))
        .filter(employee::Column::IsActive.eq(true))
        .filter(employee::Column::IsManager.eq(true))
        .count(db)
        .await?;
    Ok(n > 0)
}

/// Whether the caller may see (and rate) every work log of their acting organization.
pub async fn supervises(db: &impl ConnectionTrait, caller: &Principal) -> ApiResult<bool> {
    Ok(caller.has(WORKLOG_RATE) || is_manager(db, caller.user_id, caller.organization_id).await?)
}

/// Which work logs a list or an export covers.
pub struct Filter {
    pub employee_id: Option<Uuid>,
    pub start_date: Option<chrono::NaiveDate>,
    pub end_date: Option<chrono::NaiveDate>,
    pub completion_status: Option<String>,
}

impl Filter {
    /// Checks the values; an empty date range is refused rather than answered with nothing.
    pub fn validate(&self) -> ApiResult<()> {
        let mut v = crm_common::api::validate::Validator::new();
        v.one_of("completion_status", self.completion_status.as_deref(), super::dto::STATUSES);
        if let (Some(from), Some(to)) = (self.start_date, self.end_date) {
            v.check(from <= to, "end_date", "must not be before start_date");
        }
        v.finish()
    }

    /// The matching logs the caller may see: their own, or the organization's when they supervise.
    pub async fn query(&self, db: &impl ConnectionTrait, caller: &Principal) -> ApiResult<Select<work_log::Entity>> {
        let mut query = work_log::Entity::find().filter(work_log::Column::OrganizationId.eq(caller.organization_id));
        if !supervises(db, caller).await? {
            query = query.filter(work_log::Column::UserId.eq(caller.user_id));
        }
        if let Some(author) = self.employee_id {
            query = query.filter(work_log::Column::UserId.eq(author));
        }
        if let Some(from) = self.start_date {
            query = query.filter(work_log::Column::WorkDate.gte(from));
        }
        if let Some(to) = self.end_date {
            query = query.filter(work_log::Column::WorkDate.lte(to));
        }
        if let Some(s) = self.completion_status.as_deref() {
            query = query.filter(work_log::Column::CompletionStatus.eq(s));
        }
        Ok(query)
    }
}

/// The log if it is in the caller's organization and the caller wrote it or supervises.
pub async fn find_visible(db: &impl ConnectionTrait, caller: &Principal, id: Uuid) -> ApiResult<work_log::Model> {
    let not_found = || ApiError::not_found("work log");
    let log = work_log::Entity::find_by_id(id)
        .filter(work_log::Column::OrganizationId.eq(caller.organization_id))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    if log.user_id == caller.user_id || supervises(db, caller).await? { Ok(log) } else { Err(not_found()) }
}

pub async fn views(db: &impl ConnectionTrait, rows: Vec<work_log::Model>) -> ApiResult<Vec<WorkLogView>> {
    let names: HashMap<Uuid, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(rows.iter().map(|w| w.user_id).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name.unwrap_or(u.username)))
        .collect();
    Ok(rows
        .into_iter()
        .map(|w| {
            let name = names.get(&w.user_id).cloned();
            WorkLogView::new(w, name)
        })
        .collect())
}

pub async fn view(db: &impl ConnectionTrait, row: work_log::Model) -> ApiResult<WorkLogView> {
    views(db, vec![row]).await?.pop().ok_or_else(|| ApiError::internal("view of one work log was empty"))
}

/// What a user's (and an employee's) detail shows about their work logs.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Stats {
    pub work_logs_count: u64,
    pub avg_self_rating: Option<f64>,
    pub avg_supervisor_rating: Option<f64>,
}

fn average(sum: Option<i64>, n: i64) -> Option<f64> {
    let sum = sum?;
    (n > 0).then(|| (sum as f64 / n as f64 * 100.0).round() / 100.0)
}

/// `(logs, self-rating sum, self ratings, supervisor-rating sum, supervisor ratings)`.
type Sums = (i64, Option<i64>, i64, Option<i64>, i64);

/// Sums and counts rather than `AVG`, which PostgreSQL answers as NUMERIC.
pub async fn stats(db: &impl ConnectionTrait, user_id: Uuid) -> ApiResult<Stats> {
    let count = |c: work_log::Column| Expr::from(Func::count(Expr::col(c)));
    let sum = |c: work_log::Column| Expr::from(Func::sum(Expr::col(c)));
    let row: Option<Sums> = work_log::Entity::find()
        .select_only()
        .column_as(count(work_log::Column::Id), "n")
        .column_as(sum(work_log::Column::SelfRating), "self_sum")
        .column_as(count(work_log::Column::SelfRating), "self_n")
        .column_as(sum(work_log::Column::SupervisorRating), "sup_sum")
        .column_as(count(work_log::Column::SupervisorRating), "sup_n")
        .filter(work_log::Column::UserId.eq(user_id))
        .into_tuple()
        .one(db)
        .await?;
    let (n, self_sum, self_n, sup_sum, sup_n) = row.unwrap_or((0, None, 0, None, 0));
    Ok(Stats {
        work_logs_count: n.max(0) as u64,
        avg_self_rating: average(self_sum, self_n),
        avg_supervisor_rating: average(sup_sum, sup_n),
    })
}
