//! Thin handlers: extract, call the rules in `service`, answer.

use super::dto::{
    CreateServiceRecord, ListCustomerServiceRecords, ListServiceRecords, PRIORITIES, STATUSES, ServiceRecordItem,
    ServiceRecordPage, UpdateServiceRecord,
};
use super::model as record;
use super::service::{self, write};
use crate::AppState;
use crate::customers::service::{Viewer, find_visible as find_visible_customer};
use crate::perm::{ServiceRecordManage, ServiceRecordView};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound};
use crm_common::api::patch::expected_version;
use crm_common::api::validate::Validator;
use crm_common::api::{Envelope, Json, PageParams, Path, Query, ok};
use crm_common::auth::Authorized;
use crm_common::http::audit::with_before;
use crm_common::http::peer::Forward;
use crm_common::{ApiError, ApiResult};
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

async fn one(state: &AppState, r: record::Model) -> ApiResult<ServiceRecordItem> {
    service::items(&state.db, vec![r]).await?.pop().ok_or_else(|| ApiError::internal("empty service record view"))
}

/// The keyset cursor of the list's order: the last row's `(priority_rank, created_at, id)`.
fn encode_cursor(r: &record::Model) -> String {
    format!("{}_{}_{}", r.priority_rank, r.created_at.timestamp_micros(), r.id.simple())
}

fn decode_cursor(cursor: &str) -> ApiResult<(i32, chrono::DateTime<chrono::Utc>, Uuid)> {
    let bad = || ApiError::field("after", "not a cursor from this list");
    let mut parts = cursor.splitn(3, '_');
    let rank = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let micros = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let at = chrono::DateTime::from_timestamp_micros(micros).ok_or_else(bad)?;
    let id = parts.next().and_then(|p| Uuid::parse_str(p).ok()).ok_or_else(bad)?;
    Ok((rank, at, id))
}

/// One page of `cond`, urgent first then newest: by number, or after a keyset cursor (the same
/// cost at any depth).
async fn page_of(
    state: &AppState,
    cond: Condition,
    page: u64,
    size: u64,
    after: Option<&str>,
) -> ApiResult<ServiceRecordPage> {
    let total = record::Entity::find().filter(cond.clone()).count(&state.db).await?;
    let mut query = record::Entity::find()
        .filter(cond)
        .order_by_asc(record::Column::PriorityRank)
        .order_by_desc(record::Column::CreatedAt)
        .order_by_desc(record::Column::Id)
        .limit(size + 1);
    match after {
        Some(cursor) => {
            let (rank, at, id) = decode_cursor(cursor)?;
            let same_rank = || Condition::all().add(record::Column::PriorityRank.eq(rank));
            query = query.filter(
                Condition::any()
                    .add(record::Column::PriorityRank.gt(rank))
                    .add(same_rank().add(record::Column::CreatedAt.lt(at)))
                    .add(same_rank().add(record::Column::CreatedAt.eq(at)).add(record::Column::Id.lt(id))),
            );
        }
        None => query = query.offset((page - 1) * size),
    }
    let mut rows = query.all(&state.db).await?;
    let more = rows.len() as u64 > size;
    rows.truncate(usize::try_from(size).unwrap_or(usize::MAX));
    let next_cursor = if more { rows.last().map(encode_cursor) } else { None };
    let items = service::items(&state.db, rows).await?;
    Ok(ServiceRecordPage { items, total, page, size, pages: total.div_ceil(size), next_cursor })
}

fn filter_status_priority(cond: Condition, status: Option<String>, priority: Option<String>) -> ApiResult<Condition> {
    Validator::new()
        .one_of("status", status.as_deref(), STATUSES)
        .one_of("priority", priority.as_deref(), PRIORITIES)
        .finish()?;
    let mut cond = cond;
    if let Some(s) = status {
        cond = cond.add(record::Column::Status.eq(s));
    }
    if let Some(p) = priority {
        cond = cond.add(record::Column::Priority.eq(p));
    }
    Ok(cond)
}

/// Create a service record
///
/// For a customer the caller can see (else 404). The names of the customer, service type,
/// product, contact, salesperson and referral customer are copied.
#[utoipa::path(post, path = "/api/service-management/service-records", tag = "service-records",
    request_body = CreateServiceRecord,
    responses((status = 200, description = "The new service record", body = Envelope<ServiceRecordItem>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<ServiceRecordManage>,
    forward: Forward,
    Json(body): Json<CreateServiceRecord>,
) -> ApiResult<Response> {
    let saved = write::create(&state, &forward, &caller, body).await?;
    Ok(ok(one(&state, saved).await?))
}

/// List service records
///
/// Urgent first, then high, normal, low; newest first within a priority. Only records of
/// customers the caller sees, or whose salesperson the caller is.
#[utoipa::path(get, path = "/api/service-management/service-records", tag = "service-records", params(ListServiceRecords),
    responses((status = 200, description = "A page of service records", body = Envelope<ServiceRecordPage>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Authorized<ServiceRecordView>,
    Query(q): Query<ListServiceRecords>,
) -> ApiResult<Response> {
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(20, 1000)?;
    let mut cond = service::visible(&Viewer::of(&caller));
    macro_rules! exact {
        ($($field:ident => $col:ident),*) => {$(
            if let Some(value) = q.$field {
                cond = cond.add(record::Column::$col.eq(value));
            }
        )*};
    }
    exact!(customer_id => CustomerId, service_type_id => ServiceTypeId, product_id => ProductId,
        contact_id => ContactId, sales_user_id => SalesUserId, referral_customer_id => ReferralCustomerId);
    let cond = filter_status_priority(cond, q.status, q.priority)?;
    Ok(ok(page_of(&state, cond, page, size, q.after.as_deref()).await?))
}

/// A customer's service records
///
/// In the list's order.
#[utoipa::path(get, path = "/api/service-management/service-records/customers/{customer_id}/service-records",
    tag = "service-records", params(("customer_id" = Uuid, Path), ListCustomerServiceRecords),
    responses((status = 200, description = "A page of service records", body = Envelope<ServiceRecordPage>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn list_of_customer(
    State(state): State<AppState>,
    caller: Authorized<ServiceRecordView>,
    Path(customer_id): Path<Uuid>,
    Query(q): Query<ListCustomerServiceRecords>,
) -> ApiResult<Response> {
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(20, 1000)?;
    let viewer = Viewer::of(&caller);
    find_visible_customer(&state.db, &viewer, customer_id).await?;
    let cond = service::visible(&viewer).add(record::Column::CustomerId.eq(customer_id));
    let cond = filter_status_priority(cond, q.status, q.priority)?;
    Ok(ok(page_of(&state, cond, page, size, q.after.as_deref()).await?))
}

/// A service record
#[utoipa::path(get, path = "/api/service-management/service-records/{id}", tag = "service-records",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The service record", body = Envelope<ServiceRecordItem>),
        (status = 403, response = Forbidden), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Authorized<ServiceRecordView>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let r = service::find_visible(&state.db, &Viewer::of(&caller), id).await?;
    Ok(ok(one(&state, r).await?))
}

/// Update a service record
///
/// Absent fields are kept, `null` clears. A status change must follow the flow (pending →
/// in_progress | cancelled | on_hold; in_progress → completed | on_hold | cancelled; on_hold →
/// in_progress | cancelled; completed and cancelled are final), else 409 naming the allowed
/// moves. With `version` (or `If-Match`), a record changed since answers 409 with its current state.
#[utoipa::path(put, path = "/api/service-management/service-records/{id}", tag = "service-records",
    params(("id" = Uuid, Path)), request_body = UpdateServiceRecord,
    responses((status = 200, description = "The service record as updated", body = Envelope<ServiceRecordItem>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: Authorized<ServiceRecordManage>,
    forward: Forward,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateServiceRecord>,
) -> ApiResult<Response> {
    let expected = expected_version(&headers, body.version)?;
    let (before, after) = write::update(&state, &forward, &caller, id, body, expected).await?;
    let item = one(&state, after).await?;
    Ok(with_before(ok(item), &service::items(&state.db, vec![before]).await?))
}

/// Delete a service record
#[utoipa::path(delete, path = "/api/service-management/service-records/{id}", tag = "service-records",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "Deleted", body = Envelope<NoData>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authorized<ServiceRecordManage>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let before = write::delete(&state, &caller, id).await?;
    Ok(with_before(ok(()), &serde_json::json!({"id": before.id, "customer_id": before.customer_id})))
}
