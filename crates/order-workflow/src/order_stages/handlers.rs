use super::dto::{CreateStage, StageView, UpdateStage};
use super::service;
use crate::AppState;
use crate::orders::service::Viewer;
use crate::perm::{OrderUpdate, OrderView as OrderViewPerm};
use axum::extract::State;
use axum::response::Response;
use crm_common::ApiResult;
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound};
use crm_common::api::{Envelope, Json, Path, ok};
use crm_common::auth::Authorized;
use crm_common::http::audit::with_before;
use crm_common::http::peer::Forward;
use uuid::Uuid;

/// Stages of an order
///
/// In stage order.
#[utoipa::path(get, path = "/api/order-workflow/orders/{id}/stages", tag = "order-stages", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The stages", body = Envelope<Vec<StageView>>), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let rows = service::list(&state, &Viewer::of(&caller), id).await?;
    Ok(ok(rows.into_iter().map(StageView::from).collect::<Vec<_>>()))
}

/// Add a stage to an order
///
/// Managers and the operator the order is assigned to; 409 once the order is completed or
/// cancelled. Numbered after the last unless `stage_order` is given.
#[utoipa::path(post, path = "/api/order-workflow/orders/{id}/stages", tag = "order-stages", params(("id" = Uuid, Path)),
    request_body = CreateStage,
    responses((status = 200, description = "The new stage", body = Envelope<StageView>), (status = 400, response = BadRequest),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    forward: Forward,
    Path(id): Path<Uuid>,
    Json(body): Json<CreateStage>,
) -> ApiResult<Response> {
    let saved = service::create(&state, &forward, &Viewer::of(&caller), id, body).await?;
    Ok(ok(StageView::from(saved)))
}

/// A stage of an order
#[utoipa::path(get, path = "/api/order-workflow/orders/{id}/stages/{stage_id}", tag = "order-stages",
    params(("id" = Uuid, Path), ("stage_id" = Uuid, Path)),
    responses((status = 200, description = "The stage", body = Envelope<StageView>), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    Path((id, stage_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    let (_, s) = service::find(&state, &Viewer::of(&caller), id, stage_id).await?;
    Ok(ok(StageView::from(s)))
}

/// Update a stage, its status or progress
///
/// Absent fields are kept. Status moves forward only (`pending → in_progress →
/// completed|cancelled`; 409 names the allowed moves); completing sets progress to 100, and
/// progress on a pending stage starts it. Managers, the order's operator and the stage's assignee.
#[utoipa::path(put, path = "/api/order-workflow/orders/{id}/stages/{stage_id}", tag = "order-stages",
    params(("id" = Uuid, Path), ("stage_id" = Uuid, Path)), request_body = UpdateStage,
    responses((status = 200, description = "The stage as updated", body = Envelope<StageView>), (status = 400, response = BadRequest),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    forward: Forward,
    Path((id, stage_id)): Path<(Uuid, Uuid)>,
    Json(body): Json<UpdateStage>,
) -> ApiResult<Response> {
    let (before, after) = service::update(&state, &forward, &Viewer::of(&caller), id, stage_id, body).await?;
    Ok(with_before(ok(StageView::from(after)), &StageView::from(before)))
}

/// Delete a stage
///
/// Managers only; 409 once the order is completed or cancelled.
#[utoipa::path(delete, path = "/api/order-workflow/orders/{id}/stages/{stage_id}", tag = "order-stages",
    params(("id" = Uuid, Path), ("stage_id" = Uuid, Path)),
    responses((status = 200, description = "Deleted", body = Envelope<NoData>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    Path((id, stage_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    let before = service::delete(&state, &Viewer::of(&caller), id, stage_id).await?;
    Ok(with_before(ok(true), &StageView::from(before)))
}
