use super::dto::{
    CreatePaymentStage, PaymentStageView, PaymentView, RecordPayment, RecordedPayment, UpdatePaymentStage,
};
use super::service;
use crate::AppState;
use crate::orders::service::Viewer;
use crate::perm::{OrderView as OrderViewPerm, PaymentManage};
use axum::extract::State;
use axum::response::Response;
use crm_common::ApiResult;
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound};
use crm_common::api::{Envelope, Json, Path, ok};
use crm_common::auth::Authorized;
use crm_common::http::audit::with_before;
use uuid::Uuid;

/// Payment stages of an order
///
/// By number, each with `remaining_amount = amount − paid_amount`.
#[utoipa::path(get, path = "/api/order-workflow/orders/{id}/payment-stages", tag = "payments", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The payment stages", body = Envelope<Vec<PaymentStageView>>),
        (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let rows = service::list(&state, &Viewer::of(&caller), id).await?;
    Ok(ok(rows.into_iter().map(PaymentStageView::from).collect::<Vec<_>>()))
}

/// Add a payment stage to an order
///
/// `stage_number` > 0 and unique in the order (409 if taken; default after the last); amount ≥ 0.
/// Finance and managers (`payment.manage`).
#[utoipa::path(post, path = "/api/order-workflow/orders/{id}/payment-stages", tag = "payments", params(("id" = Uuid, Path)),
    request_body = CreatePaymentStage,
    responses((status = 200, description = "The new payment stage", body = Envelope<PaymentStageView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<PaymentManage>,
    Path(id): Path<Uuid>,
    Json(body): Json<CreatePaymentStage>,
) -> ApiResult<Response> {
    let saved = service::create(&state, &Viewer::of(&caller), id, body).await?;
    Ok(ok(PaymentStageView::from(saved)))
}

/// A payment stage of an order
#[utoipa::path(get, path = "/api/order-workflow/orders/{id}/payment-stages/{stage_id}", tag = "payments",
    params(("id" = Uuid, Path), ("stage_id" = Uuid, Path)),
    responses((status = 200, description = "The payment stage", body = Envelope<PaymentStageView>),
        (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    Path((id, stage_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    let (_, s) = service::find(&state, &Viewer::of(&caller), id, stage_id).await?;
    Ok(ok(PaymentStageView::from(s)))
}

/// Update a payment stage
///
/// Absent fields are kept. `status` may only be set to `cancelled` (409 otherwise: it follows
/// the payments); the amount cannot go below what was paid (400) nor change once paid (409).
#[utoipa::path(put, path = "/api/order-workflow/orders/{id}/payment-stages/{stage_id}", tag = "payments",
    params(("id" = Uuid, Path), ("stage_id" = Uuid, Path)), request_body = UpdatePaymentStage,
    responses((status = 200, description = "The payment stage as updated", body = Envelope<PaymentStageView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: Authorized<PaymentManage>,
    Path((id, stage_id)): Path<(Uuid, Uuid)>,
    Json(body): Json<UpdatePaymentStage>,
) -> ApiResult<Response> {
    let (before, after) = service::update(&state, &Viewer::of(&caller), id, stage_id, body).await?;
    Ok(with_before(ok(PaymentStageView::from(after)), &PaymentStageView::from(before)))
}

/// Delete a payment stage
///
/// Only while no payment was recorded against it (409: cancel it instead).
#[utoipa::path(delete, path = "/api/order-workflow/orders/{id}/payment-stages/{stage_id}", tag = "payments",
    params(("id" = Uuid, Path), ("stage_id" = Uuid, Path)),
    responses((status = 200, description = "Deleted", body = Envelope<NoData>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authorized<PaymentManage>,
    Path((id, stage_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    let before = service::delete(&state, &Viewer::of(&caller), id, stage_id).await?;
    Ok(with_before(ok(true), &PaymentStageView::from(before)))
}

/// Payments of a payment stage
///
/// Oldest first.
#[utoipa::path(get, path = "/api/order-workflow/orders/{id}/payment-stages/{stage_id}/payments", tag = "payments",
    params(("id" = Uuid, Path), ("stage_id" = Uuid, Path)),
    responses((status = 200, description = "The payments", body = Envelope<Vec<PaymentView>>), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn payments(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    Path((id, stage_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    let rows = service::payments(&state, &Viewer::of(&caller), id, stage_id).await?;
    Ok(ok(rows.into_iter().map(PaymentView::from).collect::<Vec<_>>()))
}

/// Record a payment
///
/// `amount` > 0 and at most what remains (400 otherwise); the stage's paid and remaining amounts
/// and its status follow in the same transaction. 409 on a paid or cancelled stage.
#[utoipa::path(post, path = "/api/order-workflow/orders/{id}/payment-stages/{stage_id}/payments", tag = "payments",
    params(("id" = Uuid, Path), ("stage_id" = Uuid, Path)), request_body = RecordPayment,
    responses((status = 200, description = "The payment and its stage as it now stands", body = Envelope<RecordedPayment>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn record(
    State(state): State<AppState>,
    caller: Authorized<PaymentManage>,
    Path((id, stage_id)): Path<(Uuid, Uuid)>,
    Json(body): Json<RecordPayment>,
) -> ApiResult<Response> {
    let (p, s) = service::record_payment(&state, &Viewer::of(&caller), id, stage_id, body).await?;
    Ok(ok(RecordedPayment { payment: PaymentView::from(p), payment_stage: PaymentStageView::from(s) }))
}
