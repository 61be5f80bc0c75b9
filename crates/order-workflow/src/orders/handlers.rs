use super::dto::{
    AssignOrder, CreateItem, CreateOrder, ItemPage, ItemView, Lang, ListItems, ListOrders, OrderPage, OrderView,
    UpdateItem, UpdateOrder,
};
use super::model::order;
use super::rules;
use super::service::{self, Viewer, item_view, lang_of};
use crate::AppState;
use crate::perm::{OrderAssign, OrderCreate, OrderList, OrderUpdate, OrderView as OrderViewPerm};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound};
use crm_common::api::patch::{clean, expected_version};
use crm_common::api::validate::Validator;
use crm_common::api::{Envelope, Json, PageParams, Path, Query, ok};
use crm_common::auth::Authorized;
use crm_common::db::contains_ci;
use crm_common::http::audit::with_before;
use crm_common::http::peer::Forward;
use crm_common::{ApiError, ApiResult};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

/// Create an order
///
/// Status is always `submitted` and the number is generated (`ORD-YYYYMMDD-XXXXXX`, unique in the
/// organization); items are numbered by position and copy their product's name, code and (when
/// no `unit_price` is sent) direct price; totals are the items'. The customer must be one the
/// caller sees in service-management; the seller defaults to the caller.
#[utoipa::path(post, path = "/api/order-workflow/orders", tag = "orders", request_body = CreateOrder, params(Lang),
    responses((status = 200, description = "The new order with its items", body = Envelope<OrderView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden),
        (status = 503, description = "service-management or foundation is unavailable")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<OrderCreate>,
    forward: Forward,
    Query(lang): Query<Lang>,
    Json(body): Json<CreateOrder>,
) -> ApiResult<Response> {
    let indonesian = lang_of(lang.lang.as_deref())?;
    let viewer = Viewer::of(&caller);
    let saved = service::create(&state, &forward, &viewer, body, indonesian).await?;
    Ok(ok(service::one(&state, &forward, &viewer, saved, indonesian).await?))
}

/// A day (`2026-12-01`, from its start) or an instant.
fn instant(field: &str, value: &str, end_of_day: bool) -> ApiResult<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Ok(at.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| ApiError::field(field, "must be a date (YYYY-MM-DD) or an RFC 3339 instant"))?;
    let start = day.and_time(NaiveTime::MIN).and_utc();
    Ok(if end_of_day { start + chrono::Duration::days(1) } else { start })
}

/// List orders
///
/// Newest first, `{orders, total, page, page_size}`. Managers, operations and finance see the
/// organization's orders; sellers the ones they sold or created. `created_at_to` as a day
/// includes that whole day.
#[utoipa::path(get, path = "/api/order-workflow/orders", tag = "orders", params(ListOrders),
    responses((status = 200, description = "A page of orders (without items)", body = Envelope<OrderPage>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Authorized<OrderList>,
    forward: Forward,
    Query(q): Query<ListOrders>,
) -> ApiResult<Response> {
    let viewer = Viewer::of(&caller);
    let indonesian = lang_of(q.lang.as_deref())?;
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(20, 1000)?;
    Validator::new().one_of("status_code", q.status_code.as_deref(), rules::STATUSES).finish()?;
    let mut cond = viewer.condition();
    if let Some(c) = q.customer_id {
        cond = cond.add(order::Column::CustomerId.eq(c));
    }
    if let Some(s) = q.sales_user_id {
        cond = cond.add(order::Column::SalesUserId.eq(s));
    }
    if let Some(s) = q.service_record_id {
        cond = cond.add(order::Column::ServiceRecordId.eq(s));
    }
    if let Some(o) = q.opportunity_id {
        cond = cond.add(order::Column::OpportunityId.eq(o));
    }
    if let Some(s) = clean(q.status_code) {
        cond = cond.add(order::Column::StatusCode.eq(s));
    }
    if let Some(n) = clean(q.order_number) {
        cond = cond.add(contains_ci(order::Column::OrderNumber, &n));
    }
    if let Some(t) = clean(q.title) {
        cond = cond.add(contains_ci(order::Column::Title, &t));
    }
    if let Some(c) = clean(q.customer_name) {
        cond = cond.add(contains_ci(order::Column::CustomerName, &c));
    }
    if let Some(f) = clean(q.created_at_from) {
        cond = cond.add(order::Column::CreatedAt.gte(instant("created_at_from", &f, false)?));
    }
    if let Some(t) = clean(q.created_at_to) {
        let end_of_day = !t.contains('T');
        let to = instant("created_at_to", &t, end_of_day)?;
        cond = cond.add(if end_of_day { order::Column::CreatedAt.lt(to) } else { order::Column::CreatedAt.lte(to) });
    }
    let total = order::Entity::find().filter(cond.clone()).count(&state.db).await?;
    let rows = order::Entity::find()
        .filter(cond)
        .order_by_desc(order::Column::CreatedAt)
        .order_by_desc(order::Column::Id)
        .offset((page - 1) * size)
        .limit(size)
        .all(&state.db)
        .await?;
    let orders = service::views(&state, &forward, &viewer, rows, indonesian, false).await?;
    Ok(ok(OrderPage { orders, total, page, page_size: size }))
}

/// An order with its items
#[utoipa::path(get, path = "/api/order-workflow/orders/{id}", tag = "orders", params(("id" = Uuid, Path), Lang),
    responses((status = 200, description = "The order", body = Envelope<OrderView>), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    forward: Forward,
    Path(id): Path<Uuid>,
    Query(lang): Query<Lang>,
) -> ApiResult<Response> {
    let indonesian = lang_of(lang.lang.as_deref())?;
    let viewer = Viewer::of(&caller);
    let o = service::find_visible(&state.db, &viewer, id).await?;
    Ok(ok(service::one(&state, &forward, &viewer, o, indonesian).await?))
}

/// Update an order
///
/// Absent fields are kept. `status_code` follows `submitted → approved → assigned → processing →
/// completed` (any open order may be `cancelled`; 409 names the allowed moves): a manager
/// approves, the assigned operator processes and completes. A completed or cancelled order keeps
/// its fields. With `version` (or `If-Match`) a stale update answers 409 with the current order.
#[utoipa::path(put, path = "/api/order-workflow/orders/{id}", tag = "orders", params(("id" = Uuid, Path), Lang),
    request_body = UpdateOrder,
    responses((status = 200, description = "The order as updated", body = Envelope<OrderView>), (status = 400, response = BadRequest),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    forward: Forward,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Query(lang): Query<Lang>,
    Json(body): Json<UpdateOrder>,
) -> ApiResult<Response> {
    let indonesian = lang_of(lang.lang.as_deref())?;
    let expected = expected_version(&headers, body.version)?;
    let viewer = Viewer::of(&caller);
    let (before, after) = service::update(&state, &forward, &viewer, id, body, expected).await?;
    let view = service::one(&state, &forward, &viewer, after, indonesian).await?;
    Ok(with_before(ok(view), &service::one(&state, &forward, &viewer, before, indonesian).await?))
}

/// Delete an order
///
/// Its items and assignments go with it. Managers delete any; sellers their own while it is
/// still `submitted` or `cancelled`.
#[utoipa::path(delete, path = "/api/order-workflow/orders/{id}", tag = "orders", params(("id" = Uuid, Path)),
    responses((status = 200, description = "Deleted", body = Envelope<NoData>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let before = service::delete(&state, &Viewer::of(&caller), id).await?;
    Ok(with_before(ok(true), &serde_json::json!({"id": before.id, "order_number": before.order_number})))
}

/// Assign an order
///
/// To an operator of the organization: the previous assignment ends, and an approved order
/// becomes `assigned` (reassigning an order in delivery keeps its status). 409 before approval.
#[utoipa::path(post, path = "/api/order-workflow/orders/{id}/assign", tag = "orders", params(("id" = Uuid, Path), Lang),
    request_body = AssignOrder,
    responses((status = 200, description = "The order as assigned", body = Envelope<OrderView>), (status = 400, response = BadRequest),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn assign(
    State(state): State<AppState>,
    caller: Authorized<OrderAssign>,
    forward: Forward,
    Path(id): Path<Uuid>,
    Query(lang): Query<Lang>,
    Json(body): Json<AssignOrder>,
) -> ApiResult<Response> {
    let indonesian = lang_of(lang.lang.as_deref())?;
    let viewer = Viewer::of(&caller);
    let (before, after) = service::assign(&state, &forward, &viewer, id, body).await?;
    let view = service::one(&state, &forward, &viewer, after, indonesian).await?;
    Ok(with_before(ok(view), &serde_json::json!({"id": before.id, "status_code": before.status_code})))
}

/// Items of an order
///
/// The real client's path: every item, by number, as a plain array.
#[utoipa::path(get, path = "/api/order-workflow/orders/{id}/items", tag = "orders", params(("id" = Uuid, Path), Lang),
    responses((status = 200, description = "The items", body = Envelope<Vec<ItemView>>), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn items(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    Path(id): Path<Uuid>,
    Query(lang): Query<Lang>,
) -> ApiResult<Response> {
    let indonesian = lang_of(lang.lang.as_deref())?;
    let (rows, _) = service::list_items(&state, &Viewer::of(&caller), id, None).await?;
    Ok(ok(rows.into_iter().map(|i| item_view(i, indonesian)).collect::<Vec<_>>()))
}

/// Items of an order, paged
///
/// The original's path: `{items, total}` by number, `size` 1–1000 (default 100).
#[utoipa::path(get, path = "/api/order-workflow/order-items/order/{id}/items", tag = "orders", params(("id" = Uuid, Path), ListItems),
    responses((status = 200, description = "A page of items", body = Envelope<ItemPage>), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn item_page(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    Path(id): Path<Uuid>,
    Query(q): Query<ListItems>,
) -> ApiResult<Response> {
    let indonesian = lang_of(q.lang.as_deref())?;
    let paging = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(100, 1000)?;
    let (rows, total) = service::list_items(&state, &Viewer::of(&caller), id, Some(paging)).await?;
    Ok(ok(ItemPage { items: rows.into_iter().map(|i| item_view(i, indonesian)).collect(), total }))
}

/// An item of an order
#[utoipa::path(get, path = "/api/order-workflow/orders/{id}/items/{item_id}", tag = "orders",
    params(("id" = Uuid, Path), ("item_id" = Uuid, Path), Lang),
    responses((status = 200, description = "The item", body = Envelope<ItemView>), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn nested_item(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    Path((order, id)): Path<(Uuid, Uuid)>,
    Query(lang): Query<Lang>,
) -> ApiResult<Response> {
    item_answer(&state, &Viewer::of(&caller), Some(order), id, lang).await
}

/// An order item
#[utoipa::path(get, path = "/api/order-workflow/order-items/{item_id}", tag = "orders", params(("item_id" = Uuid, Path), Lang),
    responses((status = 200, description = "The item", body = Envelope<ItemView>), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn flat_item(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    Path(id): Path<Uuid>,
    Query(lang): Query<Lang>,
) -> ApiResult<Response> {
    item_answer(&state, &Viewer::of(&caller), None, id, lang).await
}

async fn item_answer(
    state: &AppState,
    viewer: &Viewer,
    order: Option<Uuid>,
    id: Uuid,
    lang: Lang,
) -> ApiResult<Response> {
    let indonesian = lang_of(lang.lang.as_deref())?;
    let (_, i) = service::find_item(state, viewer, order, id).await?;
    Ok(ok(item_view(i, indonesian)))
}

/// Add an item to an order
///
/// Numbered after the last unless `item_number` names a free one (409 if taken). The order's
/// totals are recomputed in the same transaction. 409 once the order is completed or cancelled.
#[utoipa::path(post, path = "/api/order-workflow/orders/{id}/items", tag = "orders", params(("id" = Uuid, Path), Lang),
    request_body = CreateItem,
    responses((status = 200, description = "The new item", body = Envelope<ItemView>), (status = 400, response = BadRequest),
        (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn add_nested_item(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    forward: Forward,
    Path(order): Path<Uuid>,
    Query(lang): Query<Lang>,
    Json(body): Json<CreateItem>,
) -> ApiResult<Response> {
    add_item(&state, &forward, &Viewer::of(&caller), order, body, lang).await
}

/// Add an order item
///
/// The original's path: the body names its `order_id` (404 if there is no such order).
#[utoipa::path(post, path = "/api/order-workflow/order-items", tag = "orders", params(Lang), request_body = CreateItem,
    responses((status = 200, description = "The new item", body = Envelope<ItemView>), (status = 400, response = BadRequest),
        (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn add_flat_item(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    forward: Forward,
    Query(lang): Query<Lang>,
    Json(body): Json<CreateItem>,
) -> ApiResult<Response> {
    let order = body.order_id.ok_or_else(|| ApiError::field("order_id", "is required"))?;
    add_item(&state, &forward, &Viewer::of(&caller), order, body, lang).await
}

async fn add_item(
    state: &AppState,
    forward: &Forward,
    viewer: &Viewer,
    order: Uuid,
    body: CreateItem,
    lang: Lang,
) -> ApiResult<Response> {
    let indonesian = lang_of(lang.lang.as_deref())?;
    let saved = service::add_item(state, forward, viewer, order, body, indonesian).await?;
    Ok(ok(item_view(saved, indonesian)))
}

/// Update an item of an order
///
/// Absent fields are kept; the amount and the order's totals are recomputed. With `version` (or
/// `If-Match`) a stale update answers 409 with the current item.
#[utoipa::path(put, path = "/api/order-workflow/orders/{id}/items/{item_id}", tag = "orders",
    params(("id" = Uuid, Path), ("item_id" = Uuid, Path), Lang), request_body = UpdateItem,
    responses((status = 200, description = "The item as updated", body = Envelope<ItemView>), (status = 400, response = BadRequest),
        (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn update_nested_item(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    forward: Forward,
    headers: HeaderMap,
    Path((order, id)): Path<(Uuid, Uuid)>,
    Query(lang): Query<Lang>,
    Json(body): Json<UpdateItem>,
) -> ApiResult<Response> {
    update_item(&state, &forward, &Viewer::of(&caller), &headers, Some(order), id, body, lang).await
}

/// Update an order item
#[utoipa::path(put, path = "/api/order-workflow/order-items/{item_id}", tag = "orders",
    params(("item_id" = Uuid, Path), Lang), request_body = UpdateItem,
    responses((status = 200, description = "The item as updated", body = Envelope<ItemView>), (status = 400, response = BadRequest),
        (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn update_flat_item(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    forward: Forward,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Query(lang): Query<Lang>,
    Json(body): Json<UpdateItem>,
) -> ApiResult<Response> {
    update_item(&state, &forward, &Viewer::of(&caller), &headers, None, id, body, lang).await
}

#[allow(clippy::too_many_arguments)]
async fn update_item(
    state: &AppState,
    forward: &Forward,
    viewer: &Viewer,
    headers: &HeaderMap,
    order: Option<Uuid>,
    id: Uuid,
    body: UpdateItem,
    lang: Lang,
) -> ApiResult<Response> {
    let indonesian = lang_of(lang.lang.as_deref())?;
    let expected = expected_version(headers, body.version)?;
    let (before, after) = service::update_item(state, forward, viewer, order, id, body, expected, indonesian).await?;
    Ok(with_before(ok(item_view(after, indonesian)), &item_view(before, indonesian)))
}

/// Delete an item of an order
///
/// The order's totals are recomputed in the same transaction.
#[utoipa::path(delete, path = "/api/order-workflow/orders/{id}/items/{item_id}", tag = "orders",
    params(("id" = Uuid, Path), ("item_id" = Uuid, Path)),
    responses((status = 200, description = "Deleted", body = Envelope<NoData>), (status = 404, response = NotFound),
        (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn delete_nested_item(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    Path((order, id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    delete_item(&state, &Viewer::of(&caller), Some(order), id).await
}

/// Delete an order item
#[utoipa::path(delete, path = "/api/order-workflow/order-items/{item_id}", tag = "orders", params(("item_id" = Uuid, Path)),
    responses((status = 200, description = "Deleted", body = Envelope<NoData>), (status = 404, response = NotFound),
        (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn delete_flat_item(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    delete_item(&state, &Viewer::of(&caller), None, id).await
}

async fn delete_item(state: &AppState, viewer: &Viewer, order: Option<Uuid>, id: Uuid) -> ApiResult<Response> {
    let before = service::delete_item(state, viewer, order, id).await?;
    Ok(with_before(ok(true), &item_view(before, false)))
}
