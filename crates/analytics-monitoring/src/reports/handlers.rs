use super::ReportExport;
use super::dto::{ExportRequest, JobPage, JobView, ListJobs};
use super::rules::Export;
use super::service::{self, COMPLETED};
use super::xlsx::MIME;
use crate::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NotFound};
use crm_common::api::{Envelope, Json, PageParams, Path, Query, ok};
use crm_common::auth::Authorized;
use crm_common::http::peer::Forward;
use crm_common::{ApiError, ApiResult};
use uuid::Uuid;

/// Export a report
///
/// Starts a background job that writes the caller's organization's `orders`, `leads` or
/// `customers` created from `start_date` to `end_date` (inclusive) into an XLSX workbook, and
/// answers at once with the job (follow it in `GET /reports/jobs`). At most 5 exports per hour
/// per user (`CRM_RATELIMIT_EXPORT`); beyond it 429 with `Retry-After`.
#[utoipa::path(post, path = "/api/analytics-monitoring/reports/export", tag = "reports", request_body = ExportRequest,
    responses((status = 200, description = "The job, started", body = Envelope<JobView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden),
        (status = 429, description = "The export limit is used up")),
    security(("bearer" = [])))]
pub async fn export(
    State(state): State<AppState>,
    caller: Authorized<ReportExport>,
    forward: Forward,
    Json(body): Json<ExportRequest>,
) -> ApiResult<Response> {
    let export = Export::new(&body.report_type, &body.start_date, &body.end_date)?;
    let id = service::start(&state.db, &caller, &export, state.config.reports.limit).await?;
    tokio::spawn(service::run(state.clone(), id, export, caller.organization_id, forward));
    Ok(ok(JobView::from(service::find_own(&state.db, &caller, id).await?)))
}

/// List my report jobs
///
/// The caller's export jobs, newest first, with status and progress; finished ones carry their
/// `file_url`. Jobs are kept for 7 days.
#[utoipa::path(get, path = "/api/analytics-monitoring/reports/jobs", tag = "reports", params(ListJobs),
    responses((status = 200, description = "A page of jobs", body = Envelope<JobPage>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Authorized<ReportExport>,
    Query(q): Query<ListJobs>,
) -> ApiResult<Response> {
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(20, 100)?;
    let (rows, total) = service::list(&state.db, &caller, page, size).await?;
    let items = rows.into_iter().map(JobView::from).collect();
    Ok(ok(JobPage { items, total, page, size, pages: total.div_ceil(size) }))
}

/// Download a report
///
/// The finished XLSX workbook as an attachment; 409 while the job runs or if it failed. Only the
/// job's requester may download it (anyone else: 404).
#[utoipa::path(get, path = "/api/analytics-monitoring/reports/jobs/{id}/download", tag = "reports",
    params(("id" = Uuid, Path, description = "The job's id")),
    responses((status = 200, description = "The workbook",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = String),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn download(
    State(state): State<AppState>,
    caller: Authorized<ReportExport>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let found = service::find_own(&state.db, &caller, id).await?;
    let (Some(content), Some(name), true) = (found.content, found.file_name, found.status == COMPLETED) else {
        return Err(ApiError::conflict(format!("the export is {}, not completed", found.status)));
    };
    let disposition = format!("attachment; filename=\"{name}\"");
    Ok(([(header::CONTENT_TYPE, MIME.to_owned()), (header::CONTENT_DISPOSITION, disposition)], content).into_response())
}
