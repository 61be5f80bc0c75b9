//! An opportunity becomes an order: its products, in execution order, become the order's items
//! (names, codes and prices as the opportunity recorded them), through the same preparation and
//! insert as `POST /orders`; its payment stages become the order's; the opportunity is then won. Both happen in one transaction with
//! the opportunity's row locked, and an opportunity yields at most one order: a repeated or
//! concurrent conversion answers the order the first one made.

use super::model::opportunity;
use super::service::{Viewer, find_visible};
use crate::AppState;
use crate::orders::model::order;
use crate::orders::service::{self as orders, Origin};
use crate::orders::{CreateItem, CreateOrder, OrderView};
use crate::perm::{OpportunityUpdate, OrderCreate};
use axum::extract::State;
use axum::response::Response;
use chrono::{NaiveDate, Utc};
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NotFound};
use crm_common::api::patch::clean;
use crm_common::api::{Envelope, Json, Path, ok};
use crm_common::auth::{Authorized, Permission, Principal};
use crm_common::db::begin_write;
use crm_common::http::peer::Forward;
use crm_common::{ApiError, ApiResult};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect,
};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// The original's body (`title`, dates, notes; `order_number` is ignored: numbers are generated)
/// and the admin frontend's (`order_title`, `order_items` sent as null).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ConvertToOrder {
    /// Default: the opportunity's name.
    pub title: Option<String>,
    /// The admin frontend's name for `title`.
    pub order_title: Option<String>,
    /// Ignored: order numbers are generated.
    pub order_number: Option<String>,
    /// Ignored: the items are the opportunity's products.
    #[schema(value_type = Option<Object>)]
    pub order_items: Option<serde_json::Value>,
    pub expected_start_date: Option<NaiveDate>,
    pub expected_completion_date: Option<NaiveDate>,
    pub customer_notes: Option<String>,
    pub internal_notes: Option<String>,
    pub requirements: Option<String>,
}

async fn order_of(db: &impl ConnectionTrait, organization: Uuid, opportunity: Uuid) -> ApiResult<Option<order::Model>> {
    Ok(order::Entity::find()
        .filter(order::Column::OrganizationId.eq(organization))
        .filter(order::Column::OpportunityId.eq(opportunity))
        .one(db)
        .await?)
}

/// The order made from opportunity `id`, and whether this call made it.
pub async fn to_order(
    state: &AppState,
    forward: &Forward,
    caller: &Principal,
    id: Uuid,
    body: ConvertToOrder,
) -> ApiResult<(order::Model, bool)> {
    if !caller.has(OrderCreate::CODE) {
        return Err(ApiError::forbidden("converting into an order takes the permission to create orders"));
    }
    let viewer = Viewer::of(caller);
    let opp = find_visible(&state.db, &viewer, id).await?;
    if let Some(done) = order_of(&state.db, opp.organization_id, id).await? {
        return Ok((done, false));
    }
    if matches!(opp.status.as_str(), "lost" | "cancelled") {
        return Err(ApiError::conflict(format!("a {} opportunity cannot become an order", opp.status)));
    }
    let customer = opp.customer_id.ok_or_else(|| {
        ApiError::field("customer_id", "the opportunity has no customer yet; set one before converting it")
    })?;
    let (products, stages) = super::lines::load(&state.db, id).await?;
    if products.is_empty() {
        return Err(ApiError::bad_request("an opportunity becomes an order only once it has products"));
    }
    let order_items = products
        .into_iter()
        .map(|p| CreateItem {
            product_id: Some(p.product_id),
            product_name_zh: Some(p.product_name.clone()),
            product_name_id: Some(p.product_name),
            product_code: p.product_code,
            quantity: Some(p.quantity),
            unit_price: Some(p.unit_price),
            currency_code: Some("CNY".into()),
            description: p.notes,
            expected_start_date: p.start_date,
            expected_completion_date: p.expected_completion_date,
            ..CreateItem::default()
        })
        .collect();
    let title = clean(body.title).or(clean(body.order_title)).unwrap_or_else(|| opp.name.clone());
    let request = CreateOrder {
        title,
        customer_id: customer,
        sales_user_id: Some(opp.owner_user_id.unwrap_or(caller.user_id)),
        order_items,
        currency_code: Some("CNY".into()),
        expected_start_date: body.expected_start_date,
        expected_completion_date: body.expected_completion_date,
        customer_notes: body.customer_notes,
        internal_notes: body.internal_notes,
        requirements: body.requirements,
        ..CreateOrder::default()
    };
    let order_viewer = orders::Viewer::of(caller);
    let new =
        orders::prepare(state, forward, &order_viewer, request, Origin { opportunity_id: Some(id) }, false).await?;

    let txn = begin_write(&state.db).await?;
    let locked = opportunity::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .filter(|o| viewer.can_see(o))
        .ok_or_else(|| ApiError::not_found("opportunity"))?;
    if let Some(done) = order_of(&txn, locked.organization_id, id).await? {
        return Ok((done, false));
    }
    let saved = orders::insert(&txn, new).await?;
    let agreed = stages
        .into_iter()
        .filter(|s| s.status != "cancelled")
        .map(|s| (s.stage_number, s.stage_name, s.amount, s.due_date, s.payment_trigger))
        .collect();
    crate::payment_stages::service::copy_from_opportunity(&txn, &saved, agreed).await?;
    let mut a = locked.clone().into_active_model();
    a.status = Set("won".into());
    a.stage = Set("closed_won".into());
    a.actual_close_date = Set(Some(Utc::now().date_naive()));
    a.updated_by = Set(Some(caller.user_id));
    a.updated_at = Set(Utc::now());
    a.version = Set(locked.version + 1);
    a.update(&txn).await?;
    txn.commit().await?;
    Ok((saved, true))
}

/// Convert an opportunity into an order
///
/// Only with products: they become the items, in execution order, with the names, codes and
/// prices the opportunity recorded; the customer and the seller (the owner) are the opportunity's.
/// The agreed payment stages become the order's. The order links `opportunity_id`; the
/// opportunity becomes `won` (`closed_won`) with today as
/// its close date. An opportunity yields one order: converting it again answers that order. Creates answer 200, as the admin frontend expects.
#[utoipa::path(post, path = "/api/order-workflow/opportunities/{id}/convert-to-order", tag = "opportunities",
    params(("id" = Uuid, Path)), request_body = ConvertToOrder,
    responses((status = 200, description = "The order: new, or the one an earlier conversion made", body = Envelope<OrderView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict), (status = 503, description = "service-management is unavailable")),
    security(("bearer" = [])))]
pub async fn convert_to_order(
    State(state): State<AppState>,
    caller: Authorized<OpportunityUpdate>,
    forward: Forward,
    Path(id): Path<Uuid>,
    Json(body): Json<ConvertToOrder>,
) -> ApiResult<Response> {
    let (saved, _) = to_order(&state, &forward, &caller, id, body).await?;
    let view = orders::one(&state, &forward, &orders::Viewer::of(&caller), saved, false).await?;
    Ok(ok(view))
}

/// Convert an opportunity into an order (the admin frontend's path)
///
/// The same as `POST /opportunities/{id}/convert-to-order`; `order_title` names the order.
#[utoipa::path(post, path = "/api/order-workflow/opportunities/{id}/convert", tag = "opportunities",
    params(("id" = Uuid, Path)), request_body = ConvertToOrder,
    responses((status = 200, description = "The order: new, or the one an earlier conversion made", body = Envelope<OrderView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict), (status = 503, description = "service-management is unavailable")),
    security(("bearer" = [])))]
pub async fn convert(
    state: State<AppState>,
    caller: Authorized<OpportunityUpdate>,
    forward: Forward,
    id: Path<Uuid>,
    body: Json<ConvertToOrder>,
) -> ApiResult<Response> {
    convert_to_order(state, caller, forward, id, body).await
}
