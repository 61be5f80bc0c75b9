use super::dto::{CreateWorkLog, ListWorkLogs, RateWorkLog, UpdateWorkLog, WorkLogView, rating_ok, validate};
use super::model as work_log;
use super::service;
use crate::AppState;
use crate::perm::{WorklogCreate, WorklogUpdate, WorklogView};
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NotFound};
use crm_common::api::{Envelope, Json, Page, PageParams, Path, Query, ok};
use crm_common::auth::{Authorized, CurrentUser};
use crm_common::http::audit::with_before;
use crm_common::{ApiError, ApiResult};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel, PaginatorTrait, QueryOrder};
use uuid::Uuid;

/// Log a day's work
#[utoipa::path(
    post,
    path = "/api/foundation/worklogs",
    tag = "worklogs",
    request_body = CreateWorkLog,
    responses(
        (status = 200, description = "The new work log", body = Envelope<WorkLogView>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<WorklogCreate>,
    Json(body): Json<CreateWorkLog>,
) -> ApiResult<Response> {
    validate(Some(&body.content), body.completion_status.as_deref(), body.self_rating)?;
    let now = Utc::now();
    let saved = work_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(caller.organization_id),
        user_id: Set(caller.user_id),
        work_date: Set(body.work_date),
        content: Set(body.content.trim().to_owned()),
        completion_status: Set(body.completion_status.unwrap_or_else(|| "completed".into())),
        self_rating: Set(body.self_rating),
        supervisor_rating: Set(None),
        supervisor_comment: Set(None),
        rated_by: Set(None),
        rated_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&state.db)
    .await?;
    Ok(ok(service::view(&state.db, saved).await?))
}

/// List work logs
///
/// The caller's own logs, or the whole organization's for those who supervise it.
#[utoipa::path(
    get,
    path = "/api/foundation/worklogs",
    tag = "worklogs",
    params(ListWorkLogs),
    responses(
        (status = 200, description = "A page of work logs, newest work date first", body = Envelope<Page<WorkLogView>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Authorized<WorklogView>,
    Query(q): Query<ListWorkLogs>,
) -> ApiResult<Response> {
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(20, 100)?;
    let filter = service::Filter {
        employee_id: q.employee_id,
        start_date: q.start_date,
        end_date: q.end_date,
        completion_status: q.completion_status,
    };
    filter.validate()?;
    let query = filter.query(&state.db, &caller).await?;
    let paginator = query
        .order_by_desc(work_log::Column::WorkDate)
        .order_by_desc(work_log::Column::CreatedAt)
        .order_by_desc(work_log::Column::Id)
        .paginate(&state.db, size);
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(page - 1).await?;
    Ok(ok(Page::new(service::views(&state.db, rows).await?, total, page, size)))
}

/// Get a work log
#[utoipa::path(
    get,
    path = "/api/foundation/worklogs/{worklog_id}",
    tag = "worklogs",
    params(("worklog_id" = Uuid, Path, description = "The work log's id")),
    responses(
        (status = 200, description = "The work log", body = Envelope<WorkLogView>),
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
    let log = service::find_visible(&state.db, &caller, id).await?;
    Ok(ok(service::view(&state.db, log).await?))
}

/// Update a work log
///
/// Only the author changes a log's content.
#[utoipa::path(
    put,
    path = "/api/foundation/worklogs/{worklog_id}",
    tag = "worklogs",
    params(("worklog_id" = Uuid, Path, description = "The work log's id")),
    request_body = UpdateWorkLog,
    responses(
        (status = 200, description = "The updated work log", body = Envelope<WorkLogView>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Authorized<WorklogUpdate>,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateWorkLog>,
) -> ApiResult<Response> {
    validate(body.content.as_deref(), body.completion_status.as_deref(), body.self_rating.flatten())?;
    let log = service::find_visible(&state.db, &caller, id).await?;
    if log.user_id != caller.user_id {
        return Err(ApiError::forbidden("only the author may change a work log"));
    }
    if body.version.is_some_and(|v| v != log.version) {
        let current = serde_json::to_value(service::view(&state.db, log).await?).ok();
        return Err(ApiError::Conflict { message: "the work log was changed meanwhile".into(), current });
    }
    let version = log.version;
    let before = service::view(&state.db, log.clone()).await?;
    let mut m = log.into_active_model();
    if let Some(d) = body.work_date {
        m.work_date = Set(d);
    }
    if let Some(c) = body.content {
        m.content = Set(c.trim().to_owned());
    }
    if let Some(s) = body.completion_status {
        m.completion_status = Set(s);
    }
    if let Some(r) = body.self_rating {
        m.self_rating = Set(r);
    }
    m.version = Set(version + 1);
    m.updated_at = Set(Utc::now());
    let saved = m.update(&state.db).await?;
    Ok(with_before(ok(service::view(&state.db, saved).await?), &before))
}

/// Rate a work log as its supervisor
///
/// A supervisor's rating: by a manager of the log's organization or a holder of `worklog.rate`,
/// never by the author.
#[utoipa::path(
    post,
    path = "/api/foundation/worklogs/{worklog_id}/rate",
    tag = "worklogs",
    params(("worklog_id" = Uuid, Path, description = "The work log's id")),
    request_body = RateWorkLog,
    responses(
        (status = 200, description = "The rated work log", body = Envelope<WorkLogView>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn rate(
    State(state): State<AppState>,
    caller: CurrentUser,
    Path(id): Path<Uuid>,
    Json(body): Json<RateWorkLog>,
) -> ApiResult<Response> {
    let mut v = crm_common::api::validate::Validator::new();
    v.check(rating_ok(body.supervisor_rating), "supervisor_rating", "must be between 1 and 5")
        .optional_length("supervisor_comment", body.supervisor_comment.as_deref(), 5000)
        .finish()?;
    let log = service::find_visible(&state.db, &caller, id).await?;
    if log.user_id == caller.user_id {
        return Err(ApiError::forbidden("you cannot rate your own work log"));
    }
    if !service::supervises(&state.db, &caller).await? {
        return Err(ApiError::forbidden("only a manager of the organization may rate work logs"));
    }
    let version = log.version;
    let now = Utc::now();
    let mut m = log.into_active_model();
    m.supervisor_rating = Set(Some(body.supervisor_rating));
    m.supervisor_comment = Set(body.supervisor_comment.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()));
    m.rated_by = Set(Some(caller.user_id));
    m.rated_at = Set(Some(now));
    m.version = Set(version + 1);
    m.updated_at = Set(now);
    let saved = m.update(&state.db).await?;
    Ok(ok(service::view(&state.db, saved).await?))
}
