use super::service::{self, COMPLETED, TaskView};
use crate::AppState;
use crate::perm::WorklogView;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NotFound};
use crm_common::api::{Envelope, Path, ok};
use crm_common::auth::Authorized;
use crm_common::{ApiError, ApiResult};
use uuid::Uuid;

/// Get an export task
///
/// Only the task's requester sees it.
#[utoipa::path(
    get,
    path = "/api/foundation/tasks/{task_id}",
    operation_id = "get_task",
    tag = "worklogs",
    params(("task_id" = Uuid, Path, description = "The task's id")),
    responses(
        (status = 200, description = "The task", body = Envelope<TaskView>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Authorized<WorklogView>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    Ok(ok(TaskView::new(service::find_own(&state.db, &caller, id).await?)))
}

/// Download an export
///
/// The finished file, as an attachment; 409 while the task is still running or if it failed.
#[utoipa::path(
    get,
    path = "/api/foundation/tasks/{task_id}/file",
    operation_id = "download_task_file",
    tag = "worklogs",
    params(("task_id" = Uuid, Path, description = "The task's id")),
    responses(
        (status = 200, description = "The file", content_type = "text/csv", body = String),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn file(
    State(state): State<AppState>,
    caller: Authorized<WorklogView>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let found = service::find_own(&state.db, &caller, id).await?;
    let (Some(content), Some(name), Some(mime), true) =
        (found.content, found.file_name, found.mime_type, found.status == COMPLETED)
    else {
        return Err(ApiError::conflict(format!("the export is {}, not completed", found.status)));
    };
    let disposition = format!("attachment; filename=\"{name}\"");
    Ok(([(header::CONTENT_TYPE, mime), (header::CONTENT_DISPOSITION, disposition)], content).into_response())
}
