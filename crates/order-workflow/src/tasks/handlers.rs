use super::dto::{CompleteTask, Completion, CreateTask, ListTasks, TaskView, UpdateTask};
use super::service::{self, Worker};
use crate::AppState;
use crate::orders::service::lang_of;
use crate::perm::WorkflowView;
use crate::workflows::{InstanceView, TransitionView};
use axum::extract::State;
use axum::response::Response;
use crm_common::ApiResult;
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound};
use crm_common::api::{Envelope, Json, Page, PageParams, Path, Query, ok};
use crm_common::auth::Authorized;
use crm_common::http::audit::with_before;
use crm_common::http::peer::Forward;
use uuid::Uuid;

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskLang {
    /// `zh` (default) or `id`.
    pub lang: Option<String>,
}

/// The caller's tasks
///
/// Assigned to the caller, for a role they hold (and nobody in particular), or their own;
/// managers see the organization's with `scope=all`. Filters: status (`open` for pending and in
/// progress), due dates, assignee, role, record, instance. Newest first, `{items, total, page, size}`.
#[utoipa::path(get, path = "/api/order-workflow/tasks", tag = "tasks", params(ListTasks),
    responses((status = 200, description = "A page of tasks", body = Envelope<Page<TaskView>>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Authorized<WorkflowView>,
    Query(q): Query<ListTasks>,
) -> ApiResult<Response> {
    let indonesian = lang_of(q.lang.as_deref())?;
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(20, 100)?;
    let (rows, total) = service::list(&state, &Worker::of(&caller), &q, page, size).await?;
    Ok(ok(Page::new(rows.into_iter().map(|t| TaskView::of(t, indonesian)).collect(), total, page, size)))
}

/// A task
#[utoipa::path(get, path = "/api/order-workflow/tasks/{id}", tag = "tasks", params(("id" = Uuid, Path), TaskLang),
    responses((status = 200, description = "The task", body = Envelope<TaskView>), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Authorized<WorkflowView>,
    Path(id): Path<Uuid>,
    Query(lang): Query<TaskLang>,
) -> ApiResult<Response> {
    let indonesian = lang_of(lang.lang.as_deref())?;
    Ok(ok(TaskView::of(service::find(&state.db, &Worker::of(&caller), id).await?, indonesian)))
}

/// Complete a task
///
/// The task's workflow takes the first transition whose condition holds for the result (400
/// naming what the transitions wait for when none does), records it, moves to the next stage and
/// creates its task; an order follows under the order rules (403 when the caller may not make
/// that move). 409 once the task is completed — two completions at once make one transition.
#[utoipa::path(post, path = "/api/order-workflow/tasks/{id}/complete", tag = "tasks",
    params(("id" = Uuid, Path)), request_body = CompleteTask,
    responses((status = 200, description = "What the completion did", body = Envelope<Completion>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn complete(
    State(state): State<AppState>,
    caller: Authorized<WorkflowView>,
    forward: Forward,
    Path(id): Path<Uuid>,
    Json(body): Json<CompleteTask>,
) -> ApiResult<Response> {
    let done = service::complete(&state, &forward, &Worker::of(&caller), id, body.result, body.notes).await?;
    Ok(ok(Completion {
        task: TaskView::of(done.task, false),
        instance: done.instance.map(|i| InstanceView::of(i, false)),
        transition: done.transition.map(TransitionView::from),
        next_task: done.next.map(|t| TaskView::of(t, false)),
    }))
}

/// Create a task
///
/// A person's own task (seed 003's tasks on deals), attached to an order or an opportunity the
/// caller sees, or to nothing. For someone else: managers only; the assignee is notified.
#[utoipa::path(post, path = "/api/order-workflow/tasks", tag = "tasks", params(TaskLang), request_body = CreateTask,
    responses((status = 200, description = "The new task", body = Envelope<TaskView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<WorkflowView>,
    forward: Forward,
    Query(lang): Query<TaskLang>,
    Json(body): Json<CreateTask>,
) -> ApiResult<Response> {
    let saved = service::create(&state, &forward, &Worker::of(&caller), body, lang.lang.as_deref()).await?;
    Ok(ok(TaskView::of(saved, lang_of(lang.lang.as_deref())?)))
}

/// Update a task
///
/// Due date and progress (`in_progress`) by whoever takes it; names, description and
/// cancellation on own tasks only (409 on a workflow's); reassignment by managers.
#[utoipa::path(put, path = "/api/order-workflow/tasks/{id}", tag = "tasks",
    params(("id" = Uuid, Path)), request_body = UpdateTask,
    responses((status = 200, description = "The task as updated", body = Envelope<TaskView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: Authorized<WorkflowView>,
    forward: Forward,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateTask>,
) -> ApiResult<Response> {
    let (before, after) = service::update(&state, &forward, &Worker::of(&caller), id, body).await?;
    Ok(with_before(ok(TaskView::of(after, false)), &TaskView::of(before, false)))
}

/// Delete a task
///
/// Own tasks only, by their creator or a manager; a workflow's tasks stay as its history (409).
#[utoipa::path(delete, path = "/api/order-workflow/tasks/{id}", tag = "tasks", params(("id" = Uuid, Path)),
    responses((status = 200, description = "Deleted", body = Envelope<NoData>), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authorized<WorkflowView>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let before = service::delete(&state, &Worker::of(&caller), id).await?;
    Ok(with_before(ok(true), &TaskView::of(before, false)))
}
