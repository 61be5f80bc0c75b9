use super::dto::{CreateTask, ListTasks, TaskView, UpdateTask};
use super::service::{self, Collector};
use crate::AppState;
use crate::orders::service::Viewer;
use crate::perm::{OrderView as OrderViewPerm, PaymentManage};
use axum::extract::State;
use axum::response::Response;
use crm_common::ApiResult;
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NotFound};
use crm_common::api::{Envelope, Json, Page, PageParams, Path, Query, ok};
use crm_common::auth::{Authorized, Permission, Principal};
use crm_common::http::audit::with_before;
use crm_common::http::peer::Forward;
use uuid::Uuid;

fn collector(p: &Principal) -> Collector {
    Collector { viewer: Viewer::of(p), manager: p.has(PaymentManage::CODE) }
}

/// The caller's collection tasks
///
/// Assigned to the caller, newest first: `{items, total, page, size}`; `status` filters.
#[utoipa::path(get, path = "/api/order-workflow/collection-tasks", tag = "collection", params(ListTasks),
    responses((status = 200, description = "A page of tasks", body = Envelope<Page<TaskView>>), (status = 400, response = BadRequest)),
    security(("bearer" = [])))]
pub async fn mine(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    Query(q): Query<ListTasks>,
) -> ApiResult<Response> {
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(20, 100)?;
    let (rows, total) = service::mine(&state, &Viewer::of(&caller), q.status, page, size).await?;
    Ok(ok(Page::new(rows.into_iter().map(TaskView::from).collect(), total, page, size)))
}

/// A collection task
///
/// The caller's own, or one of an order the caller sees.
#[utoipa::path(get, path = "/api/order-workflow/collection-tasks/{task_id}", tag = "collection",
    params(("task_id" = Uuid, Path)),
    responses((status = 200, description = "The task", body = Envelope<TaskView>), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    Path(task_id): Path<Uuid>,
) -> ApiResult<Response> {
    let (t, _) = service::find(&state, &Viewer::of(&caller), task_id).await?;
    Ok(ok(TaskView::from(t)))
}

/// Collection tasks of an order
#[utoipa::path(get, path = "/api/order-workflow/collection-tasks/orders/{order_id}", tag = "collection",
    params(("order_id" = Uuid, Path)),
    responses((status = 200, description = "The order's tasks, newest first", body = Envelope<Vec<TaskView>>),
        (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn of_order(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    Path(order_id): Path<Uuid>,
) -> ApiResult<Response> {
    let rows = service::of_order(&state, &Viewer::of(&caller), order_id).await?;
    Ok(ok(rows.into_iter().map(TaskView::from).collect::<Vec<_>>()))
}

/// Add a collection task to an order
///
/// Finance, managers or the order's seller. Assigned to the order's seller unless someone else
/// is named; the assignee is notified.
#[utoipa::path(post, path = "/api/order-workflow/collection-tasks/orders/{order_id}", tag = "collection",
    params(("order_id" = Uuid, Path)), request_body = CreateTask,
    responses((status = 200, description = "The new task", body = Envelope<TaskView>), (status = 400, response = BadRequest),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    forward: Forward,
    Path(order_id): Path<Uuid>,
    Json(body): Json<CreateTask>,
) -> ApiResult<Response> {
    let saved = service::create(&state, &forward, &collector(&caller), order_id, body).await?;
    Ok(ok(TaskView::from(saved)))
}

/// Update a collection task
///
/// Finance, managers, the order's seller and the assignee. Status moves forward only (409 names
/// the allowed moves); a new assignee is notified.
#[utoipa::path(put, path = "/api/order-workflow/collection-tasks/{task_id}", tag = "collection",
    params(("task_id" = Uuid, Path)), request_body = UpdateTask,
    responses((status = 200, description = "The task as updated", body = Envelope<TaskView>), (status = 400, response = BadRequest),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    forward: Forward,
    Path(task_id): Path<Uuid>,
    Json(body): Json<UpdateTask>,
) -> ApiResult<Response> {
    let (before, after) = service::update(&state, &forward, &collector(&caller), task_id, body).await?;
    Ok(with_before(ok(TaskView::from(after)), &TaskView::from(before)))
}

/// Complete a collection task
///
/// Only its assignee (403 otherwise); 409 once completed or cancelled.
#[utoipa::path(post, path = "/api/order-workflow/collection-tasks/{task_id}/complete", tag = "collection",
    params(("task_id" = Uuid, Path)),
    responses((status = 200, description = "The task, completed", body = Envelope<TaskView>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn complete(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    Path(task_id): Path<Uuid>,
) -> ApiResult<Response> {
    let (before, after) = service::complete(&state, &Viewer::of(&caller), task_id).await?;
    Ok(with_before(ok(TaskView::from(after)), &TaskView::from(before)))
}
