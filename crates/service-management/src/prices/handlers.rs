use super::dto::{CreatePrice, HistoryItem, ListPrices, PriceItem, UpdatePrice};
use super::model::{history, price};
use super::service;
use crate::AppState;
use crate::access::{organization, require_vendor_manage, visible_vendors};
use crate::perm::{PriceApprove, PriceManage, PriceView};
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound};
use crm_common::api::patch::clean;
use crm_common::api::{Envelope, Json, PageParams, Path, Query, RecordsPage, ok};
use crm_common::auth::{Authorized, Permission, Principal};
use crm_common::http::audit::with_before;
use crm_common::http::peer::Forward;
use crm_common::{ApiError, ApiResult};
use sea_orm::sea_query::Condition;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// History rows one request returns: years of changes for one product.
const HISTORY_LIMIT: u64 = 1000;

/// May change prices of `organization` (`None` = the generic prices, which are the BANTU
/// catalogue's): a BANTU administrator, or for a vendor's own prices its staff.
async fn require_price_owner(
    state: &AppState,
    forward: &Forward,
    caller: &Principal,
    organization: Option<Uuid>,
) -> ApiResult<()> {
    match organization {
        None if caller.is_platform_admin => Ok(()),
        None => Err(ApiError::forbidden("generic prices are managed by BANTU administrators")),
        Some(org) => require_vendor_manage(state, forward, caller, org).await,
    }
}

/// Only generic prices and those of the vendors the caller may see.
fn visible(visible: Option<Vec<Uuid>>) -> Condition {
    match visible {
        None => Condition::all(),
        Some(orgs) => {
            Condition::any().add(price::Column::OrganizationId.is_null()).add(price::Column::OrganizationId.is_in(orgs))
        }
    }
}

/// List prices
///
/// Vendor users see the generic prices and their own organization's; BANTU staff see all.
#[utoipa::path(
    get,
    path = "/api/service-management/prices",
    tag = "prices",
    params(ListPrices),
    responses(
        (status = 200, description = "A page of prices", body = Envelope<RecordsPage<PriceItem>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Authorized<PriceView>,
    forward: Forward,
    Query(q): Query<ListPrices>,
) -> ApiResult<Response> {
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(10, 1000)?;
    let price_type = q.price_type.filter(|t| !t.is_empty());
    let currency = q.currency.filter(|c| !c.is_empty());
    service::validate(price_type.as_deref(), currency.as_deref(), None, None, None)?;
    let mut query = price::Entity::find().filter(visible(visible_vendors(&state, &forward, &caller).await?));
    if let Some(p) = q.product_id {
        query = query.filter(price::Column::ProductId.eq(p));
    }
    if let Some(o) = q.organization_id {
        query = query.filter(price::Column::OrganizationId.eq(o));
    }
    if let Some(t) = price_type {
        query = query.filter(price::Column::PriceType.eq(t));
    }
    if let Some(c) = currency {
        query = query.filter(price::Column::Currency.eq(c));
    }
    if let Some(a) = q.is_approved {
        query = query.filter(price::Column::IsApproved.eq(a));
    }
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_desc(price::Column::EffectiveFrom)
        .order_by_desc(price::Column::Id)
        .offset((page - 1) * size)
        .limit(size)
        .all(&state.db)
        .await?;
    Ok(ok(RecordsPage::new(rows.into_iter().map(PriceItem::from).collect(), total, page, size)))
}

/// Add a price
///
/// Refused with 409 when its period overlaps another price of the same product, organization,
/// type and currency; checked and written in one transaction that holds the product's lock, so
/// concurrent writers cannot both succeed. Writes a history row.
#[utoipa::path(
    post,
    path = "/api/service-management/prices",
    tag = "prices",
    request_body = CreatePrice,
    responses(
        (status = 200, description = "The new price", body = Envelope<PriceItem>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<PriceManage>,
    forward: Forward,
    Json(body): Json<CreatePrice>,
) -> ApiResult<Response> {
    let source = body.source.clone().unwrap_or_else(|| "manual".to_owned());
    service::validate(
        Some(&body.price_type),
        Some(&body.currency),
        Some(&source),
        Some(body.amount),
        body.exchange_rate,
    )?;
    let from = body.effective_from.unwrap_or_else(Utc::now);
    service::check_period(from, body.effective_to)?;
    require_price_owner(&state, &forward, &caller, body.organization_id).await?;
    if let Some(org) = body.organization_id
        && organization(&state, &forward, org).await?.is_none()
    {
        return Err(ApiError::not_found("organization"));
    }
    let txn = crm_common::db::begin_write(&state.db).await?;
    service::lock_product(&txn, body.product_id).await?;
    let existing =
        service::same_key(&txn, body.product_id, body.organization_id, &body.price_type, &body.currency).await?;
    if let Some(other) = service::find_overlap(&existing, None, from, body.effective_to) {
        return Err(service::overlap_error(other));
    }
    let now = Utc::now();
    let reason = clean(body.change_reason);
    let saved = price::ActiveModel {
        id: Set(Uuid::now_v7()),
        product_id: Set(body.product_id),
        organization_id: Set(body.organization_id),
        price_type: Set(body.price_type),
        currency: Set(body.currency),
        amount: Set(crm_common::api::money::amount(body.amount)),
        exchange_rate: Set(body.exchange_rate.map(crm_common::api::money::rate)),
        effective_from: Set(from),
        effective_to: Set(body.effective_to),
        source: Set(source),
        is_approved: Set(false),
        approved_by: Set(None),
        approved_at: Set(None),
        change_reason: Set(reason.clone()),
        changed_by: Set(Some(caller.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&txn)
    .await?;
    service::record(&txn, &saved, None, Some(saved.amount), reason, caller.user_id).await?;
    txn.commit().await?;
    // 200, not 201: the admin frontend reads any body `code` but 200 as a failure.
    Ok(ok(PriceItem::from(saved)))
}

/// Change a price
///
/// The new period is checked against the key's other prices like a create. Approving (or
/// withdrawing approval) needs `price.approve` from a BANTU administrator; changing the amount
/// or period of an approved price withdraws its approval unless the same request approves it.
/// Writes a history row.
#[utoipa::path(
    put,
    path = "/api/service-management/prices/{id}",
    tag = "prices",
    params(("id" = Uuid, Path)),
    request_body = UpdatePrice,
    responses(
        (status = 200, description = "The price as updated", body = Envelope<PriceItem>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Authorized<PriceManage>,
    forward: Forward,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdatePrice>,
) -> ApiResult<Response> {
    service::validate(None, None, None, body.amount, body.exchange_rate.flatten())?;
    let current = price::Entity::find_by_id(id).one(&state.db).await?.ok_or_else(|| ApiError::not_found("price"))?;
    require_price_owner(&state, &forward, &caller, current.organization_id).await?;
    if body.is_approved.is_some() && !(caller.is_platform_admin && caller.has(PriceApprove::CODE)) {
        return Err(ApiError::forbidden("approving prices needs price.approve from a BANTU administrator"));
    }
    let txn = crm_common::db::begin_write(&state.db).await?;
    service::lock_product(&txn, current.product_id).await?;
    // Read again under the lock: the row may have changed or gone since.
    let before = price::Entity::find_by_id(id).one(&txn).await?.ok_or_else(|| ApiError::not_found("price"))?;
    let from = body.effective_from.unwrap_or(before.effective_from);
    let to = body.effective_to.unwrap_or(before.effective_to);
    service::check_period(from, to)?;
    let existing =
        service::same_key(&txn, before.product_id, before.organization_id, &before.price_type, &before.currency)
            .await?;
    if let Some(other) = service::find_overlap(&existing, Some(id), from, to) {
        return Err(service::overlap_error(other));
    }
    let amount = body.amount.map_or(before.amount, crm_common::api::money::amount);
    let changed = amount != before.amount || from != before.effective_from || to != before.effective_to;
    let approved = body.is_approved.unwrap_or(before.is_approved && !changed);
    let now = Utc::now();
    let reason = clean(body.change_reason);
    let mut active = before.clone().into_active_model();
    active.amount = Set(amount);
    if let Some(rate) = body.exchange_rate {
        active.exchange_rate = Set(rate.map(crm_common::api::money::rate));
    }
    active.effective_from = Set(from);
    active.effective_to = Set(to);
    if reason.is_some() {
        active.change_reason = Set(reason.clone());
    }
    if approved != before.is_approved || body.is_approved == Some(true) {
        active.is_approved = Set(approved);
        active.approved_by = Set(approved.then_some(caller.user_id));
        active.approved_at = Set(approved.then_some(now));
    }
    active.changed_by = Set(Some(caller.user_id));
    active.updated_at = Set(now);
    active.version = Set(before.version + 1);
    let saved = active.update(&txn).await?;
    service::record(&txn, &saved, Some(before.amount), Some(saved.amount), reason, caller.user_id).await?;
    txn.commit().await?;
    Ok(with_before(ok(PriceItem::from(saved)), &PriceItem::from(before)))
}

/// Delete a price
///
/// Writes a history row (new price null).
#[utoipa::path(
    delete,
    path = "/api/service-management/prices/{id}",
    tag = "prices",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "Deleted", body = Envelope<NoData>),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authorized<PriceManage>,
    forward: Forward,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let current = price::Entity::find_by_id(id).one(&state.db).await?.ok_or_else(|| ApiError::not_found("price"))?;
    require_price_owner(&state, &forward, &caller, current.organization_id).await?;
    let txn = crm_common::db::begin_write(&state.db).await?;
    service::lock_product(&txn, current.product_id).await?;
    let before = price::Entity::find_by_id(id).one(&txn).await?.ok_or_else(|| ApiError::not_found("price"))?;
    price::Entity::delete_by_id(id).exec(&txn).await?;
    service::record(&txn, &before, Some(before.amount), None, Some("deleted".to_owned()), caller.user_id).await?;
    txn.commit().await?;
    Ok(with_before(ok(()), &PriceItem::from(before)))
}

/// A product's price history
///
/// Newest first (at most 1000 rows); vendor users see the generic prices' history and their own.
#[utoipa::path(
    get,
    path = "/api/service-management/prices/history/{product_id}",
    tag = "prices",
    params(("product_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The changes", body = Envelope<Vec<HistoryItem>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn history(
    State(state): State<AppState>,
    caller: Authorized<PriceView>,
    forward: Forward,
    Path(product_id): Path<Uuid>,
) -> ApiResult<Response> {
    let condition = match visible_vendors(&state, &forward, &caller).await? {
        None => Condition::all(),
        Some(orgs) => Condition::any()
            .add(history::Column::OrganizationId.is_null())
            .add(history::Column::OrganizationId.is_in(orgs)),
    };
    let rows = history::Entity::find()
        .filter(history::Column::ProductId.eq(product_id))
        .filter(condition)
        .order_by_desc(history::Column::CreatedAt)
        .order_by_desc(history::Column::Id)
        .limit(HISTORY_LIMIT)
        .all(&state.db)
        .await?;
    Ok(ok(rows.into_iter().map(HistoryItem::from).collect::<Vec<_>>()))
}
