use super::dto::{
    CreateCustomer, CreateFollowUp, CreateNote, CustomerItem, CustomerPage, FollowUpItem, ListCustomers, NOTE_TYPES,
    NoteItem, UpdateCustomer,
};
use super::model::{customer, follow_up, note};
use super::service::{self, Owners, Viewer, write};
use crate::AppState;
use crate::perm::{CustomerCreate, CustomerDelete, CustomerUpdate, CustomerView};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Utc;
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound};
use crm_common::api::patch::clean;
use crm_common::api::validate::Validator;
use crm_common::api::{Envelope, Json, PageParams, Path, Query, ok};
use crm_common::auth::Authorized;
use crm_common::db::contains_ci;
use crm_common::http::audit::with_before;
use crm_common::http::peer::{Forward, text_of};
use crm_common::{ApiError, ApiResult};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

async fn one(state: &AppState, forward: &Forward, viewer: &Viewer, c: customer::Model) -> ApiResult<CustomerItem> {
    service::items(state, forward, viewer, vec![c])
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("empty customer view"))
}

/// Create a customer
///
/// The organization is the caller's; the owner defaults to the caller; the code is generated
/// (`I`/`O`, the day, a three-digit sequence) when not given.
#[utoipa::path(post, path = "/api/service-management/customers", tag = "customers", request_body = CreateCustomer,
    responses((status = 200, description = "The new customer", body = Envelope<CustomerItem>), (status = 400, response = BadRequest),
        (status = 403, response = Forbidden), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<CustomerCreate>,
    forward: Forward,
    Json(body): Json<CreateCustomer>,
) -> ApiResult<Response> {
    let saved = write::create(&state, &forward, &caller, body).await?;
    Ok(ok(one(&state, &forward, &Viewer::of(&caller), saved).await?))
}

/// List customers
///
/// Newest first. Sellers see their own customers; administrators their organization's
/// (`view_type=my` narrows to their own). `after` walks deep lists by cursor.
#[utoipa::path(get, path = "/api/service-management/customers", tag = "customers", params(ListCustomers),
    responses((status = 200, description = "A page of customers", body = Envelope<CustomerPage>), (status = 400, response = BadRequest),
        (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Authorized<CustomerView>,
    forward: Forward,
    Query(q): Query<ListCustomers>,
) -> ApiResult<Response> {
    let viewer = Viewer::of(&caller);
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(20, 1000)?;
    let mut v = Validator::new();
    v.one_of("customer_type", q.customer_type.as_deref(), super::dto::CUSTOMER_TYPES)
        .one_of("customer_source_type", q.customer_source_type.as_deref(), super::dto::SOURCE_TYPES)
        .finish()?;
    let mut cond = Condition::all().add(customer::Column::OrganizationId.eq(viewer.organization_id));
    if let Owners::Of(user) = service::owners(&viewer, q.view_type.as_deref(), q.owner_user_id)? {
        cond = cond.add(service::owned_by(user));
    }
    if let Some(n) = clean(q.name) {
        cond = cond.add(contains_ci(customer::Column::Name, &n));
    }
    if let Some(c) = clean(q.code) {
        cond = cond.add(contains_ci(customer::Column::Code, &c));
    }
    if let Some(t) = q.customer_type {
        cond = cond.add(customer::Column::CustomerType.eq(t));
    }
    if let Some(t) = q.customer_source_type {
        cond = cond.add(customer::Column::CustomerSourceType.eq(t));
    }
    macro_rules! exact {
        ($($field:ident => $col:ident),*) => {$(
            if let Some(value) = q.$field {
                cond = cond.add(customer::Column::$col.eq(value));
            }
        )*};
    }
    exact!(parent_customer_id => ParentCustomerId, agent_id => AgentId, source_id => SourceId,
        channel_id => ChannelId, industry_id => IndustryId, is_locked => IsLocked, level => Level);
    let total = customer::Entity::find().filter(cond.clone()).count(&state.db).await?;
    let mut query = customer::Entity::find()
        .filter(cond)
        .order_by_desc(customer::Column::CreatedAt)
        .order_by_desc(customer::Column::Id)
        .limit(size + 1);
    if let Some(after) = q.after.as_deref() {
        let (at, id) = service::decode_cursor(after)?;
        query = query.filter(
            Condition::any()
                .add(customer::Column::CreatedAt.lt(at))
                .add(Condition::all().add(customer::Column::CreatedAt.eq(at)).add(customer::Column::Id.lt(id))),
        );
    } else {
        query = query.offset((page - 1) * size);
    }
    let mut rows = query.all(&state.db).await?;
    let more = rows.len() as u64 > size;
    rows.truncate(size as usize);
    let next_cursor = if more { rows.last().map(|c| service::encode_cursor(c.created_at, c.id)) } else { None };
    let items = service::items(&state, &forward, &viewer, rows).await?;
    let pages = total.div_ceil(size);
    Ok(ok(CustomerPage { items, total, page, size, pages, next_cursor }))
}

/// A customer
#[utoipa::path(get, path = "/api/service-management/customers/{id}", tag = "customers", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The customer", body = Envelope<CustomerItem>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Authorized<CustomerView>,
    forward: Forward,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let viewer = Viewer::of(&caller);
    let c = service::find_visible(&state.db, &viewer, id).await?;
    Ok(ok(one(&state, &forward, &viewer, c).await?))
}

/// Update a customer
///
/// Absent fields are kept. With `version` in the body (or `If-Match`), a record changed since
/// answers 409 with its current state and nothing is written. A masked contact value sent back
/// as it was shown leaves the stored value alone.
#[utoipa::path(put, path = "/api/service-management/customers/{id}", tag = "customers", params(("id" = Uuid, Path)),
    request_body = UpdateCustomer,
    responses((status = 200, description = "The customer as updated", body = Envelope<CustomerItem>), (status = 400, response = BadRequest),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: Authorized<CustomerUpdate>,
    forward: Forward,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateCustomer>,
) -> ApiResult<Response> {
    let expected = crm_common::api::patch::expected_version(&headers, body.version)?;
    let (before, after) = write::update(&state, &forward, &caller, id, body, expected).await?;
    let viewer = Viewer::of(&caller);
    let item = one(&state, &forward, &viewer, after).await?;
    Ok(with_before(ok(item), &service::items(&state, &forward, &viewer, vec![before]).await?))
}

/// Delete a customer
///
/// Its contacts, follow-ups, notes and service records go with it.
#[utoipa::path(delete, path = "/api/service-management/customers/{id}", tag = "customers", params(("id" = Uuid, Path)),
    responses((status = 200, description = "Deleted", body = Envelope<NoData>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authorized<CustomerDelete>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let before = write::delete(&state, &caller, id).await?;
    Ok(with_before(ok(()), &serde_json::json!({"id": before.id, "name": before.name, "code": before.code})))
}

/// A customer's follow-ups
///
/// A plain array, newest first.
#[utoipa::path(get, path = "/api/service-management/customers/{id}/follow-ups", tag = "customers", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The follow-ups", body = Envelope<Vec<FollowUpItem>>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn follow_ups(
    State(state): State<AppState>,
    caller: Authorized<CustomerView>,
    forward: Forward,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    service::find_visible(&state.db, &Viewer::of(&caller), id).await?;
    let rows = follow_up::Entity::find()
        .filter(follow_up::Column::CustomerId.eq(id))
        .order_by_desc(follow_up::Column::FollowUpDate)
        .order_by_desc(follow_up::Column::Id)
        .limit(1000)
        .all(&state.db)
        .await?;
    Ok(ok(service::follow_up_items(&state, &forward, rows).await?))
}

/// Record a follow-up
///
/// Sets the customer's `last_follow_up_at` to `follow_up_date`, and `next_follow_up_at` when given.
#[utoipa::path(post, path = "/api/service-management/customers/{id}/follow-ups", tag = "customers", params(("id" = Uuid, Path)),
    request_body = CreateFollowUp,
    responses((status = 200, description = "The follow-up", body = Envelope<FollowUpItem>), (status = 400, response = BadRequest),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn add_follow_up(
    State(state): State<AppState>,
    caller: Authorized<CustomerUpdate>,
    forward: Forward,
    Path(id): Path<Uuid>,
    Json(body): Json<CreateFollowUp>,
) -> ApiResult<Response> {
    let saved = write::add_follow_up(&state, &caller, id, body).await?;
    let mut items = service::follow_up_items(&state, &forward, vec![saved]).await?;
    Ok(ok(items.pop()))
}

/// A customer's notes
///
/// A plain array, newest first.
#[utoipa::path(get, path = "/api/service-management/customers/{id}/notes", tag = "customers", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The notes", body = Envelope<Vec<NoteItem>>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn notes(
    State(state): State<AppState>,
    caller: Authorized<CustomerView>,
    forward: Forward,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    service::find_visible(&state.db, &Viewer::of(&caller), id).await?;
    let rows = note::Entity::find()
        .filter(note::Column::CustomerId.eq(id))
        .order_by_desc(note::Column::CreatedAt)
        .limit(1000)
        .all(&state.db)
        .await?;
    let users = state.users.get(rows.iter().filter_map(|n| n.created_by), &forward).await?;
    let items: Vec<NoteItem> = rows
        .into_iter()
        .map(|n| NoteItem {
            created_by_name: text_of(&users, n.created_by, "name"),
            id: n.id,
            customer_id: n.customer_id,
            note_type: n.note_type,
            content: n.content,
            is_important: n.is_important,
            created_by: n.created_by,
            created_at: n.created_at,
        })
        .collect();
    Ok(ok(items))
}

/// Add a note
#[utoipa::path(post, path = "/api/service-management/customers/{id}/notes", tag = "customers", params(("id" = Uuid, Path)),
    request_body = CreateNote,
    responses((status = 200, description = "The note", body = Envelope<NoteItem>), (status = 400, response = BadRequest),
        (status = 403, response = Forbidden), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn add_note(
    State(state): State<AppState>,
    caller: Authorized<CustomerUpdate>,
    Path(id): Path<Uuid>,
    Json(body): Json<CreateNote>,
) -> ApiResult<Response> {
    let c = service::find_visible(&state.db, &Viewer::of(&caller), id).await?;
    Validator::new()
        .one_of("note_type", Some(&body.note_type), NOTE_TYPES)
        .length("content", body.content.trim(), 1, 10_000)
        .finish()?;
    let saved = note::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(c.organization_id),
        customer_id: Set(id),
        note_type: Set(body.note_type),
        content: Set(body.content.trim().to_owned()),
        is_important: Set(body.is_important),
        created_by: Set(Some(caller.user_id)),
        created_at: Set(Utc::now()),
    }
    .insert(&state.db)
    .await?;
    Ok(ok(NoteItem {
        id: saved.id,
        customer_id: saved.customer_id,
        note_type: saved.note_type,
        content: saved.content,
        is_important: saved.is_important,
        created_by: saved.created_by,
        created_by_name: Some(caller.username.clone()),
        created_at: saved.created_at,
    }))
}
