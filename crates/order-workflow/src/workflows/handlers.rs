use super::dto::{
    CreateDefinition, DefinitionView, InstanceView, ListDefinitions, ListInstances, StartInstance, TransitionView,
    UpdateDefinition, WorkflowLang,
};
use super::service::{self, Control};
use crate::AppState;
use crate::orders::service::lang_of;
use crate::perm::{WorkflowManage, WorkflowView};
use crate::tasks::TaskView;
use crate::tasks::service::Worker;
use axum::extract::State;
use axum::response::Response;
use crm_common::ApiResult;
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound};
use crm_common::api::{Envelope, Json, Page, PageParams, Path, Query, ok};
use crm_common::auth::Authorized;
use crm_common::http::audit::with_before;
use crm_common::http::peer::Forward;
use uuid::Uuid;

/// The organization's workflow definitions
///
/// By code; the original's `order_approval` is always among them (seeded, switched off until
/// `auto_start` is turned on).
#[utoipa::path(get, path = "/api/order-workflow/workflows/definitions", tag = "workflows", params(ListDefinitions),
    responses((status = 200, description = "The definitions", body = Envelope<Vec<DefinitionView>>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn list_definitions(
    State(state): State<AppState>,
    caller: Authorized<WorkflowView>,
    Query(q): Query<ListDefinitions>,
) -> ApiResult<Response> {
    let indonesian = lang_of(q.lang.as_deref())?;
    let rows = service::list_definitions(&state, &Worker::of(&caller), q.workflow_type, q.is_active).await?;
    Ok(ok(rows.into_iter().map(|d| DefinitionView::of(d, indonesian)).collect::<Vec<_>>()))
}

/// A workflow definition
#[utoipa::path(get, path = "/api/order-workflow/workflows/definitions/{id}", tag = "workflows",
    params(("id" = Uuid, Path), WorkflowLang),
    responses((status = 200, description = "The definition", body = Envelope<DefinitionView>), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn get_definition(
    State(state): State<AppState>,
    caller: Authorized<WorkflowView>,
    Path(id): Path<Uuid>,
    Query(lang): Query<WorkflowLang>,
) -> ApiResult<Response> {
    let indonesian = lang_of(lang.lang.as_deref())?;
    Ok(ok(DefinitionView::of(service::find_definition(&state, &Worker::of(&caller), id).await?, indonesian)))
}

/// Create a workflow definition
///
/// Validated before it is saved: stage codes unique, every task for a role or a person,
/// transitions between existing stages with conditions that parse, every stage reachable from the
/// first and an end reachable from every stage. A bad definition is a 400 whose `errors` name
/// each place (`definition_json.transitions[2].to`).
#[utoipa::path(post, path = "/api/order-workflow/workflows/definitions", tag = "workflows", request_body = CreateDefinition,
    responses((status = 200, description = "The new definition", body = Envelope<DefinitionView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn create_definition(
    State(state): State<AppState>,
    caller: Authorized<WorkflowManage>,
    Json(body): Json<CreateDefinition>,
) -> ApiResult<Response> {
    Ok(ok(DefinitionView::of(service::create_definition(&state, &Worker::of(&caller), body).await?, false)))
}

/// Update a workflow definition
///
/// A new `definition_json` is validated as on create and raises `version`; running instances keep
/// the definition they started with. `auto_start` switches workflow-driven orders on or off for
/// the organization.
#[utoipa::path(put, path = "/api/order-workflow/workflows/definitions/{id}", tag = "workflows",
    params(("id" = Uuid, Path)), request_body = UpdateDefinition,
    responses((status = 200, description = "The definition as updated", body = Envelope<DefinitionView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn update_definition(
    State(state): State<AppState>,
    caller: Authorized<WorkflowManage>,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateDefinition>,
) -> ApiResult<Response> {
    let (before, after) = service::update_definition(&state, &Worker::of(&caller), id, body).await?;
    Ok(with_before(ok(DefinitionView::of(after, false)), &DefinitionView::of(before, false)))
}

/// Delete a workflow definition
///
/// Its instances keep running on the definition they started with. The seeded `order_approval`
/// is switched off instead (409).
#[utoipa::path(delete, path = "/api/order-workflow/workflows/definitions/{id}", tag = "workflows",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "Deleted", body = Envelope<NoData>), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn delete_definition(
    State(state): State<AppState>,
    caller: Authorized<WorkflowManage>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let before = service::delete_definition(&state, &Worker::of(&caller), id).await?;
    Ok(with_before(ok(true), &DefinitionView::of(before, false)))
}

/// Start a workflow instance
///
/// For an order the caller sees, or a service record; the first stage's task is created (its
/// assignee notified). A record has one workflow in progress at a time (409).
#[utoipa::path(post, path = "/api/order-workflow/workflows/instances", tag = "workflows", request_body = StartInstance,
    responses((status = 200, description = "The new instance", body = Envelope<InstanceView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn start(
    State(state): State<AppState>,
    caller: Authorized<WorkflowManage>,
    forward: Forward,
    Json(body): Json<StartInstance>,
) -> ApiResult<Response> {
    let w = Worker::of(&caller);
    let inst = service::start(&state, &forward, &w, body).await?;
    detail(&state, inst, false).await
}

async fn detail(state: &AppState, inst: super::model::instance::Model, indonesian: bool) -> ApiResult<Response> {
    let (tasks, transitions) = service::history(state, inst.id).await?;
    let mut view = InstanceView::of(inst, indonesian);
    view.tasks = Some(tasks.into_iter().map(|t| TaskView::of(t, indonesian)).collect());
    view.transitions = Some(transitions.into_iter().map(TransitionView::from).collect());
    Ok(ok(view))
}

/// Workflow instances
///
/// Managers see the organization's; others the ones they started, or those of an order they see
/// (`business_type=order&business_id=…`). Newest first, `{items, total, page, size}`.
#[utoipa::path(get, path = "/api/order-workflow/workflows/instances", tag = "workflows", params(ListInstances),
    responses((status = 200, description = "A page of instances", body = Envelope<Page<InstanceView>>),
        (status = 400, response = BadRequest)),
    security(("bearer" = [])))]
pub async fn list_instances(
    State(state): State<AppState>,
    caller: Authorized<WorkflowView>,
    Query(q): Query<ListInstances>,
) -> ApiResult<Response> {
    let indonesian = lang_of(q.lang.as_deref())?;
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(20, 100)?;
    let (rows, total) = service::list_instances(&state, &Worker::of(&caller), &q, page, size).await?;
    Ok(ok(Page::new(rows.into_iter().map(|i| InstanceView::of(i, indonesian)).collect(), total, page, size)))
}

/// A workflow instance with its tasks and transitions
#[utoipa::path(get, path = "/api/order-workflow/workflows/instances/{id}", tag = "workflows",
    params(("id" = Uuid, Path), WorkflowLang),
    responses((status = 200, description = "The instance", body = Envelope<InstanceView>), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn get_instance(
    State(state): State<AppState>,
    caller: Authorized<WorkflowView>,
    Path(id): Path<Uuid>,
    Query(lang): Query<WorkflowLang>,
) -> ApiResult<Response> {
    let indonesian = lang_of(lang.lang.as_deref())?;
    let inst = service::find_instance(&state, &Worker::of(&caller), id).await?;
    detail(&state, inst, indonesian).await
}

async fn control(state: AppState, caller: Authorized<WorkflowManage>, id: Uuid, what: Control) -> ApiResult<Response> {
    let (before, after) = service::control(&state, &Worker::of(&caller), id, what).await?;
    Ok(with_before(ok(InstanceView::of(after, false)), &InstanceView::of(before, false)))
}

/// Complete a workflow instance by hand
///
/// Its open tasks are cancelled; the record is left as it is. 409 once it has ended.
#[utoipa::path(post, path = "/api/order-workflow/workflows/instances/{id}/complete", tag = "workflows",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The instance", body = Envelope<InstanceView>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn complete_instance(
    State(state): State<AppState>,
    caller: Authorized<WorkflowManage>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    control(state, caller, id, Control::Complete).await
}

/// Cancel a workflow instance
///
/// Its open tasks are cancelled; an order it drove is moved by hand again.
#[utoipa::path(post, path = "/api/order-workflow/workflows/instances/{id}/cancel", tag = "workflows",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The instance", body = Envelope<InstanceView>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn cancel_instance(
    State(state): State<AppState>,
    caller: Authorized<WorkflowManage>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    control(state, caller, id, Control::Cancel).await
}

/// Suspend a workflow instance
///
/// Its tasks cannot be completed until it is resumed.
#[utoipa::path(post, path = "/api/order-workflow/workflows/instances/{id}/suspend", tag = "workflows",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The instance", body = Envelope<InstanceView>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn suspend_instance(
    State(state): State<AppState>,
    caller: Authorized<WorkflowManage>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    control(state, caller, id, Control::Suspend).await
}

/// Resume a suspended workflow instance
#[utoipa::path(post, path = "/api/order-workflow/workflows/instances/{id}/resume", tag = "workflows",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The instance", body = Envelope<InstanceView>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn resume_instance(
    State(state): State<AppState>,
    caller: Authorized<WorkflowManage>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    control(state, caller, id, Control::Resume).await
}
