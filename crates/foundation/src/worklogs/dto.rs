//! Request and response shapes of the work-logs API.

use super::model as work_log;
use chrono::{DateTime, NaiveDate, Utc};
use crm_common::api::validate::Validator;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub const STATUSES: &[&str] = &["completed", "in_progress", "not_started"];

/// A log of the caller's own work, in the organization the request acts in.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateWorkLog {
    pub work_date: NaiveDate,
    pub content: String,
    /// `completed` (default), `in_progress` or `not_started`.
    pub completion_status: Option<String>,
    /// 1–5.
    pub self_rating: Option<i16>,
}

/// Every field optional.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateWorkLog {
    pub work_date: Option<NaiveDate>,
    pub content: Option<String>,
    pub completion_status: Option<String>,
    /// 1–5; `null` clears it.
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    #[schema(value_type = Option<i16>)]
    pub self_rating: Option<Option<i16>>,
    /// Optimistic locking: when given and stale, the update is refused with 409.
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RateWorkLog {
    /// 1–5.
    pub supervisor_rating: i16,
    pub supervisor_comment: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListWorkLogs {
    /// From 1.
    pub page: Option<u64>,
    /// 1–100, default 20.
    pub size: Option<u64>,
    /// Alias of `size`.
    pub page_size: Option<u64>,
    /// The author's user id.
    pub employee_id: Option<Uuid>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub completion_status: Option<String>,
}

pub fn rating_ok(r: i16) -> bool {
    (1..=5).contains(&r)
}

pub fn validate(content: Option<&str>, status: Option<&str>, self_rating: Option<i16>) -> crm_common::ApiResult<()> {
    let mut v = Validator::new();
    if let Some(c) = content {
        v.length("content", c, 1, 10_000);
    }
    v.one_of("completion_status", status, STATUSES)
        .check(self_rating.is_none_or(rating_ok), "self_rating", "must be between 1 and 5")
        .finish()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkLogView {
    pub id: Uuid,
    pub organization_id: Uuid,
    /// The author (seed 002 calls them the employee).
    pub employee_id: Uuid,
    pub employee_name: Option<String>,
    pub work_date: NaiveDate,
    pub content: String,
    pub completion_status: String,
    pub self_rating: Option<i16>,
    pub supervisor_rating: Option<i16>,
    pub supervisor_comment: Option<String>,
    pub rated_by: Option<Uuid>,
    pub rated_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl WorkLogView {
    pub fn new(w: work_log::Model, employee_name: Option<String>) -> Self {
        Self {
            id: w.id,
            organization_id: w.organization_id,
            employee_id: w.user_id,
            employee_name,
            work_date: w.work_date,
            content: w.content,
            completion_status: w.completion_status,
            self_rating: w.self_rating,
            supervisor_rating: w.supervisor_rating,
            supervisor_comment: w.supervisor_comment,
            rated_by: w.rated_by,
            rated_at: w.rated_at,
            created_at: w.created_at,
            updated_at: w.updated_at,
            version: w.version,
        }
    }
}
