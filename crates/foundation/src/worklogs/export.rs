//! `POST /worklogs/export`: the matching work logs as a CSV file, made in the background as an
//! export task (`GET /tasks/{task_id}`), a page of rows at a time so the task shows progress.

use super::model as work_log;
use super::service::{self, Filter};
use crate::AppState;
use crate::audit::export::csv_field;
use crate::perm::WorklogView;
use crate::tasks::service::{self as tasks, Finished};
use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use crm_common::api::openapi::{BadRequest, Forbidden};
use crm_common::api::{Envelope, Json, ok};
use crm_common::auth::Authorized;
use crm_common::{ApiError, ApiResult};
use sea_orm::{DatabaseConnection, PaginatorTrait, QueryOrder, Select};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Most rows one export may hold; a larger one is refused up front with the count.
pub const MAX_ROWS: u64 = 50_000;
const PAGE: u64 = 1_000;
const COLUMNS: &str = "id,work_date,employee_id,employee_name,completion_status,self_rating,supervisor_rating,\
supervisor_comment,rated_at,content,created_at\r\n";

/// Every filter optional, as for `GET /worklogs`.
#[derive(Debug, Deserialize, Default, ToSchema)]
pub struct ExportWorkLogs {
    /// The author's user id.
    pub employee_id: Option<Uuid>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub completion_status: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportStarted {
    pub task_id: Uuid,
}

/// Export work logs
///
/// The logs the caller may list that match, as CSV, oldest work date first. Answers at once
/// with the task to follow; the file is downloaded from the task's `file_url`.
#[utoipa::path(
    post,
    path = "/api/foundation/worklogs/export",
    tag = "worklogs",
    request_body = ExportWorkLogs,
    responses(
        (status = 200, description = "The export task, started", body = Envelope<ExportStarted>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn export(
    State(state): State<AppState>,
    caller: Authorized<WorklogView>,
    Json(body): Json<ExportWorkLogs>,
) -> ApiResult<Response> {
    let filter = Filter {
        employee_id: body.employee_id,
        start_date: body.start_date,
        end_date: body.end_date,
        completion_status: body.completion_status,
    };
    filter.validate()?;
    let query = filter.query(&state.db, &caller).await?;
    let total = query.clone().count(&state.db).await?;
    if total > MAX_ROWS {
        return Err(ApiError::bad_request(format!(
            "{total} work logs match; an export holds at most {MAX_ROWS}: narrow the dates or the employee"
        )));
    }
    let task_id = tasks::start(&state.db, &caller, "work_logs").await?;
    tokio::spawn(run(state.db.clone(), task_id, query, total, state.config.export_max_bytes));
    Ok(ok(ExportStarted { task_id }))
}

/// The background half: writes the file and records how the task ended.
async fn run(db: DatabaseConnection, task_id: Uuid, query: Select<work_log::Entity>, total: u64, max_bytes: usize) {
    let outcome = match write(&db, task_id, query, total, max_bytes).await {
        Ok(file) => tasks::complete(&db, task_id, file).await,
        // Said to the requester as it is: a file too large for one export.
        Err(ApiError::BadRequest(why)) => tasks::fail(&db, task_id, &why).await,
        Err(err) => {
            tracing::warn!(%task_id, error = %err, "work-log export failed");
            tasks::fail(&db, task_id, "the export failed; try again").await
        }
    };
    if let Err(err) = outcome {
        tracing::error!(%task_id, error = %err, "could not record the end of an export task");
    }
}

/// The CSV, a page at a time, with the task's progress after each page; refused once it grows
/// past `max_bytes` (a log's content may be long).
async fn write(
    db: &DatabaseConnection,
    task_id: Uuid,
    query: Select<work_log::Entity>,
    total: u64,
    max_bytes: usize,
) -> ApiResult<Finished> {
    let mut out = String::from(COLUMNS);
    let mut pages = query
        .order_by_asc(work_log::Column::WorkDate)
        .order_by_asc(work_log::Column::CreatedAt)
        .order_by_asc(work_log::Column::Id)
        .paginate(db, PAGE);
    let mut done = 0u64;
    while let Some(rows) = pages.fetch_and_next().await? {
        done += rows.len() as u64;
        for log in service::views(db, rows).await? {
            row(&mut out, &log);
        }
        if out.len() > max_bytes {
            return Err(ApiError::bad_request(format!(
                "the export would exceed {max_bytes} bytes; narrow the dates or the employee"
            )));
        }
        // Below 100 until the file is stored.
        let progress = i16::try_from(done * 99 / total.max(1)).unwrap_or(99).min(99);
        tasks::progress(db, task_id, progress).await?;
    }
    let rows = i64::try_from(done).unwrap_or(i64::MAX);
    Ok(Finished {
        file_name: format!("work-logs-{task_id}.csv"),
        mime_type: "text/csv",
        content: out.into_bytes(),
        rows,
    })
}

fn row(out: &mut String, log: &super::dto::WorkLogView) {
    let rating = |r: Option<i16>| r.map(|v| v.to_string()).unwrap_or_default();
    let fields = [
        log.id.to_string(),
        log.work_date.to_string(),
        log.employee_id.to_string(),
        log.employee_name.clone().unwrap_or_default(),
        log.completion_status.clone(),
        rating(log.self_rating),
        rating(log.supervisor_rating),
        log.supervisor_comment.clone().unwrap_or_default(),
        log.rated_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        log.content.clone(),
        log.created_at.to_rfc3339(),
    ];
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(out, field);
    }
    out.push_str("\r\n");
}
