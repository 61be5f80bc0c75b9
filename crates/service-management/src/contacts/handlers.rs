//! Thin handlers: extract, call the rules in `service`, answer.

use super::dto::{ContactItem, ContactPage, CreateContact, ListContacts, UpdateContact};
use super::model as contact;
use super::service::{self, write};
use crate::AppState;
use crate::customers::service::{Viewer, find_visible as find_visible_customer};
use crate::perm::{CustomerUpdate, CustomerView};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound};
use crm_common::api::{Envelope, Json, PageParams, Path, Query, ok};
use crm_common::auth::Authorized;
use crm_common::http::audit::with_before;
use crm_common::http::peer::Forward;
use crm_common::{ApiError, ApiResult};
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

/// The keyset cursor of the list's order: the last row's `(is_primary, created_at, id)`.
fn encode_cursor(c: &contact::Model) -> String {
    format!("{}_{}_{}", u8::from(c.is_primary), c.created_at.timestamp_micros(), c.id.simple())
}

fn decode_cursor(cursor: &str) -> ApiResult<(bool, chrono::DateTime<chrono::Utc>, Uuid)> {
    let bad = || ApiError::field("after", "not a cursor from this list");
    let mut parts = cursor.splitn(3, '_');
    let primary = match parts.next() {
        Some("1") => true,
        Some("0") => false,
        _ => return Err(bad()),
    };
    let micros = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let at = chrono::DateTime::from_timestamp_micros(micros).ok_or_else(bad)?;
    let id = parts.next().and_then(|p| Uuid::parse_str(p).ok()).ok_or_else(bad)?;
    Ok((primary, at, id))
}

async fn one(state: &AppState, viewer: &Viewer, c: contact::Model) -> ApiResult<ContactItem> {
    service::items(&state.db, viewer, vec![c]).await?.pop().ok_or_else(|| ApiError::internal("empty contact view"))
}

/// Create a contact
///
/// The customer must be one the caller can see (else 404). `is_primary=true` makes this the
/// customer's only primary contact.
#[utoipa::path(post, path = "/api/service-management/contacts", tag = "contacts", request_body = CreateContact,
    responses((status = 200, description = "The new contact", body = Envelope<ContactItem>), (status = 400, response = BadRequest),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<CustomerUpdate>,
    forward: Forward,
    Json(body): Json<CreateContact>,
) -> ApiResult<Response> {
    let saved = write::create(&state, &forward, &caller, body).await?;
    Ok(ok(one(&state, &Viewer::of(&caller), saved).await?))
}

/// A contact
///
/// With its customer's name and the full name; visible when its customer is.
#[utoipa::path(get, path = "/api/service-management/contacts/{id}", tag = "contacts", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The contact", body = Envelope<ContactItem>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Authorized<CustomerView>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let viewer = Viewer::of(&caller);
    let (c, owner) = service::find_visible(&state.db, &viewer, id).await?;
    Ok(ok(service::item(&viewer, Some(&owner), c)))
}

/// Update a contact
///
/// Absent fields are kept, `null` clears; the customer cannot change. With `version` in the body
/// (or `If-Match`), a contact changed since answers 409 with its current state and nothing is
/// written. A masked value sent back as it was shown leaves the stored one alone.
#[utoipa::path(put, path = "/api/service-management/contacts/{id}", tag = "contacts", params(("id" = Uuid, Path)),
    request_body = UpdateContact,
    responses((status = 200, description = "The contact as updated", body = Envelope<ContactItem>), (status = 400, response = BadRequest),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: Authorized<CustomerUpdate>,
    forward: Forward,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateContact>,
) -> ApiResult<Response> {
    let expected = crm_common::api::patch::expected_version(&headers, body.version)?;
    let (before, after) = write::update(&state, &forward, &caller, id, body, expected).await?;
    let viewer = Viewer::of(&caller);
    let item = one(&state, &viewer, after).await?;
    Ok(with_before(ok(item), &service::items(&state.db, &viewer, vec![before]).await?))
}

/// Delete a contact
///
/// Service records that named it keep its name.
#[utoipa::path(delete, path = "/api/service-management/contacts/{id}", tag = "contacts", params(("id" = Uuid, Path)),
    responses((status = 200, description = "Deleted", body = Envelope<NoData>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authorized<CustomerUpdate>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let before = write::delete(&state, &caller, id).await?;
    Ok(with_before(
        ok(()),
        &serde_json::json!({"id": before.id, "customer_id": before.customer_id, "last_name": before.last_name}),
    ))
}

/// A customer's contacts
///
/// The primary contact first, then newest first.
#[utoipa::path(get, path = "/api/service-management/contacts/customers/{customer_id}/contacts", tag = "contacts",
    params(("customer_id" = Uuid, Path), ListContacts),
    responses((status = 200, description = "A page of contacts", body = Envelope<ContactPage>), (status = 400, response = BadRequest),
        (status = 403, response = Forbidden), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn list_of_customer(
    State(state): State<AppState>,
    caller: Authorized<CustomerView>,
    Path(customer_id): Path<Uuid>,
    Query(q): Query<ListContacts>,
) -> ApiResult<Response> {
    let viewer = Viewer::of(&caller);
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(20, 1000)?;
    let owner = find_visible_customer(&state.db, &viewer, customer_id).await?;
    let mut query = contact::Entity::find().filter(contact::Column::CustomerId.eq(customer_id));
    if let Some(p) = q.is_primary {
        query = query.filter(contact::Column::IsPrimary.eq(p));
    }
    if let Some(a) = q.is_active {
        query = query.filter(contact::Column::IsActive.eq(a));
    }
    let total = query.clone().count(&state.db).await?;
    let mut query = query
        .order_by_desc(contact::Column::IsPrimary)
        .order_by_desc(contact::Column::CreatedAt)
        .order_by_desc(contact::Column::Id)
        .limit(size + 1);
    match q.after.as_deref() {
        // Rows after `(is_primary, created_at, id)` in the list's (all descending) order.
        Some(cursor) => {
            let (primary, at, id) = decode_cursor(cursor)?;
            let same = || Condition::all().add(contact::Column::IsPrimary.eq(primary));
            let mut next = Condition::any()
                .add(same().add(contact::Column::CreatedAt.lt(at)))
                .add(same().add(contact::Column::CreatedAt.eq(at)).add(contact::Column::Id.lt(id)));
            if primary {
                next = next.add(contact::Column::IsPrimary.eq(false));
            }
            query = query.filter(next);
        }
        None => query = query.offset((page - 1) * size),
    }
    let mut rows = query.all(&state.db).await?;
    let more = rows.len() as u64 > size;
    rows.truncate(usize::try_from(size).unwrap_or(usize::MAX));
    let next_cursor = if more { rows.last().map(encode_cursor) } else { None };
    let items = rows.into_iter().map(|c| service::item(&viewer, Some(&owner), c)).collect();
    Ok(ok(ContactPage { items, total, page, size, pages: total.div_ceil(size), next_cursor }))
}
