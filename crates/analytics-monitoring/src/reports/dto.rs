use super::model;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// `POST /reports/export`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExportRequest {
    /// `orders`, `leads` or `customers`.
    pub report_type: String,
    /// The first day (YYYY-MM-DD, UTC) of the records' creation dates.
    pub start_date: String,
    /// The last day, included; at most 366 days after `start_date`.
    pub end_date: String,
}

/// One export job (seed 002's task shape: id, status, progress, file URL).
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    pub id: Uuid,
    pub report_type: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// `running`, `completed` or `failed`.
    pub status: String,
    /// 0–100.
    pub progress: i32,
    /// Rows in the finished file.
    pub row_count: Option<i64>,
    pub file_name: Option<String>,
    /// Where the finished file is downloaded (with the same token), once `completed`.
    pub file_url: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<model::Model> for JobView {
    fn from(j: model::Model) -> Self {
        let file_url = (j.status == super::service::COMPLETED)
            .then(|| format!("/api/analytics-monitoring/reports/jobs/{}/download", j.id));
        Self {
            id: j.id,
            report_type: j.report_type,
            start_date: j.start_date,
            end_date: j.end_date,
            status: j.status,
            progress: j.progress,
            row_count: j.row_count,
            file_name: j.file_name,
            file_url,
            error: j.error,
            created_at: j.created_at,
            finished_at: j.finished_at,
        }
    }
}

/// `GET /reports/jobs`: the caller's jobs, newest first (`{items, total, page, size, pages}`).
#[derive(Debug, Serialize, ToSchema)]
pub struct JobPage {
    pub items: Vec<JobView>,
    pub total: u64,
    pub page: u64,
    pub size: u64,
    pub pages: u64,
}

/// `GET /reports/jobs`'s query.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListJobs {
    pub page: Option<u64>,
    /// 1–100, default 20.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
}
