use super::dto::{
    AssignLead, CheckDuplicate, CreateFollowUp, CreateLead, CreateNote, DuplicateItem, DuplicateResult,
    FOLLOW_UP_TYPES, FollowUpItem, LeadItem, LeadPage, ListLeads, MoveToPool, NOTE_TYPES, NoteItem, UpdateLead,
};
use super::model::{follow_up, lead, note};
use super::rules::{self, Contact};
use super::service::{self, Viewer};
use crate::AppState;
use crate::perm::{LeadCreate, LeadList, LeadUpdate, LeadView};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Utc;
use crm_common::ApiResult;
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound};
use crm_common::api::patch::clean;
use crm_common::api::validate::Validator;
use crm_common::api::{Envelope, Json, PageParams, Path, Query, ok};
use crm_common::auth::Authorized;
use crm_common::db::{begin_write, contains_ci};
use crm_common::http::audit::with_before;
use crm_common::http::peer::{Forward, text_of};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// Create a lead
///
/// The organization is the caller's; the owner defaults to the caller (none when created into
/// the public pool); `level` must be one of service-management's customer-level codes.
#[utoipa::path(post, path = "/api/order-workflow/leads", tag = "leads", request_body = CreateLead,
    responses((status = 200, description = "The new lead", body = Envelope<LeadItem>), (status = 400, response = BadRequest),
        (status = 403, response = Forbidden), (status = 503, description = "service-management (customer levels) is unavailable")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<LeadCreate>,
    forward: Forward,
    Json(body): Json<CreateLead>,
) -> ApiResult<Response> {
    let saved = service::create(&state, &forward, &caller, body).await?;
    Ok(ok(service::one(&state, &forward, &Viewer::of(&caller), saved).await?))
}

/// List leads
///
/// Newest first. Administrators see the organization's leads; everyone else their own and the
/// public pool's. `is_in_public_pool=true` is the pool view, `owner_user_id=<self>&is_in_public_pool=false`
/// the "my leads" view. `after` walks deep lists by cursor.
#[utoipa::path(get, path = "/api/order-workflow/leads", tag = "leads", params(ListLeads),
    responses((status = 200, description = "A page of leads", body = Envelope<LeadPage>), (status = 400, response = BadRequest),
        (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Authorized<LeadList>,
    forward: Forward,
    Query(q): Query<ListLeads>,
) -> ApiResult<Response> {
    let viewer = Viewer::of(&caller);
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(20, 1000)?;
    Validator::new().one_of("status", q.status.as_deref(), rules::STATUSES).finish()?;
    let mut cond = viewer.condition();
    if let Some(o) = q.owner_user_id {
        cond = cond.add(lead::Column::OwnerUserId.eq(o));
    }
    if let Some(s) = q.status {
        cond = cond.add(lead::Column::Status.eq(s));
    }
    if let Some(p) = q.is_in_public_pool {
        cond = cond.add(lead::Column::IsInPublicPool.eq(p));
    }
    if let Some(c) = q.customer_id {
        cond = cond.add(lead::Column::CustomerId.eq(c));
    }
    if let Some(c) = clean(q.company_name) {
        cond = cond.add(contains_ci(lead::Column::CompanyName, &c));
    }
    if let Some(p) = clean(q.phone) {
        cond = cond.add(lead::Column::Phone.eq(p));
    }
    if let Some(e) = clean(q.email) {
        cond = cond.add(lead::Column::Email.eq(e));
    }
    let total = lead::Entity::find().filter(cond.clone()).count(&state.db).await?;
    let mut query = lead::Entity::find()
        .filter(cond)
        .order_by_desc(lead::Column::CreatedAt)
        .order_by_desc(lead::Column::Id)
        .limit(size + 1);
    if let Some(after) = q.after.as_deref() {
        let (at, id) = service::decode_cursor(after)?;
        query = query.filter(
            Condition::any()
                .add(lead::Column::CreatedAt.lt(at))
                .add(Condition::all().add(lead::Column::CreatedAt.eq(at)).add(lead::Column::Id.lt(id))),
        );
    } else {
        query = query.offset((page - 1) * size);
    }
    let mut rows = query.all(&state.db).await?;
    let more = rows.len() as u64 > size;
    rows.truncate(size as usize);
    let next_cursor = if more { rows.last().map(|l| service::encode_cursor(l.created_at, l.id)) } else { None };
    let items = service::items(&state, &forward, &viewer, rows).await?;
    Ok(ok(LeadPage { items, total, page, size, pages: total.div_ceil(size), next_cursor }))
}

/// A lead
#[utoipa::path(get, path = "/api/order-workflow/leads/{id}", tag = "leads", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The lead", body = Envelope<LeadItem>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Authorized<LeadView>,
    forward: Forward,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let viewer = Viewer::of(&caller);
    let l = service::find_visible(&state, &viewer, id).await?;
    Ok(ok(service::one(&state, &forward, &viewer, l).await?))
}

/// Update a lead
///
/// Absent fields are kept. A status change follows the status machine (409 naming the allowed
/// moves). With `version` in the body (or `If-Match`), a lead changed since answers 409 with its
/// current state and nothing is written. A masked contact value sent back as shown is kept.
#[utoipa::path(put, path = "/api/order-workflow/leads/{id}", tag = "leads", params(("id" = Uuid, Path)),
    request_body = UpdateLead,
    responses((status = 200, description = "The lead as updated", body = Envelope<LeadItem>), (status = 400, response = BadRequest),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: Authorized<LeadUpdate>,
    forward: Forward,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateLead>,
) -> ApiResult<Response> {
    let expected = crm_common::api::patch::expected_version(&headers, body.version)?;
    let (before, after) = service::update(&state, &forward, &caller, id, body, expected).await?;
    let viewer = Viewer::of(&caller);
    let item = service::one(&state, &forward, &viewer, after).await?;
    Ok(with_before(ok(item), &service::one(&state, &forward, &viewer, before).await?))
}

/// Delete a lead
///
/// Its follow-ups and notes go with it. Administrators delete any; others leads they own or created.
#[utoipa::path(delete, path = "/api/order-workflow/leads/{id}", tag = "leads", params(("id" = Uuid, Path)),
    responses((status = 200, description = "Deleted", body = Envelope<NoData>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authorized<LeadUpdate>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let before = service::delete(&state, &caller, id).await?;
    Ok(with_before(ok(()), &serde_json::json!({"id": before.id, "name": before.name})))
}

/// Move a lead to the public pool
///
/// Clears the owner; anyone of the organization may then claim it. The owner or an administrator.
#[utoipa::path(post, path = "/api/order-workflow/leads/{id}/move-to-pool", tag = "leads", params(("id" = Uuid, Path)),
    request_body = MoveToPool,
    responses((status = 200, description = "The lead, now in the pool", body = Envelope<LeadItem>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn move_to_pool(
    State(state): State<AppState>,
    caller: Authorized<LeadUpdate>,
    forward: Forward,
    Path(id): Path<Uuid>,
    Json(body): Json<MoveToPool>,
) -> ApiResult<Response> {
    let (before, after) = service::move_to_pool(&state, &forward, &caller, id, body.pool_id).await?;
    let viewer = Viewer::of(&caller);
    let item = service::one(&state, &forward, &viewer, after).await?;
    Ok(with_before(ok(item), &serde_json::json!({"id": before.id, "owner_user_id": before.owner_user_id})))
}

/// Assign a lead
///
/// Administrators give any lead to any member of the organization; others may only claim a pool
/// lead for themselves (403). The lead leaves the pool.
#[utoipa::path(post, path = "/api/order-workflow/leads/{id}/assign", tag = "leads", params(("id" = Uuid, Path)),
    request_body = AssignLead,
    responses((status = 200, description = "The lead with its new owner", body = Envelope<LeadItem>), (status = 400, response = BadRequest),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn assign(
    State(state): State<AppState>,
    caller: Authorized<LeadUpdate>,
    forward: Forward,
    Path(id): Path<Uuid>,
    Json(body): Json<AssignLead>,
) -> ApiResult<Response> {
    let (before, after) = service::assign(&state, &forward, &caller, id, body.owner_user_id).await?;
    let viewer = Viewer::of(&caller);
    let item = service::one(&state, &forward, &viewer, after).await?;
    Ok(with_before(ok(item), &serde_json::json!({"id": before.id, "owner_user_id": before.owner_user_id})))
}

async fn follow_up_items(
    state: &AppState,
    forward: &Forward,
    rows: Vec<follow_up::Model>,
) -> ApiResult<Vec<FollowUpItem>> {
    let users = state.users.get(rows.iter().filter_map(|f| f.created_by), forward).await?;
    Ok(rows
        .into_iter()
        .map(|f| FollowUpItem {
            created_by_name: text_of(&users, f.created_by, "name"),
            id: f.id,
            lead_id: f.lead_id,
            follow_up_type: f.follow_up_type,
            content: f.content,
            follow_up_date: f.follow_up_date,
            status_before: f.status_before,
            status_after: f.status_after,
            created_by: f.created_by,
            created_at: f.created_at,
        })
        .collect())
}

/// A lead's follow-ups
///
/// A plain array, newest first.
#[utoipa::path(get, path = "/api/order-workflow/leads/{id}/follow-ups", tag = "leads", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The follow-ups", body = Envelope<Vec<FollowUpItem>>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn follow_ups(
    State(state): State<AppState>,
    caller: Authorized<LeadView>,
    forward: Forward,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    service::find_visible(&state, &Viewer::of(&caller), id).await?;
    let rows = follow_up::Entity::find()
        .filter(follow_up::Column::LeadId.eq(id))
        .order_by_desc(follow_up::Column::FollowUpDate)
        .order_by_desc(follow_up::Column::Id)
        .limit(1000)
        .all(&state.db)
        .await?;
    Ok(ok(follow_up_items(&state, &forward, rows).await?))
}

/// Record a follow-up
///
/// Sets the lead's `last_follow_up_at` to `follow_up_date`; `status_after` moves the lead along
/// the status machine (409 naming the allowed moves). The owner or an administrator.
#[utoipa::path(post, path = "/api/order-workflow/leads/{id}/follow-ups", tag = "leads", params(("id" = Uuid, Path)),
    request_body = CreateFollowUp,
    responses((status = 200, description = "The follow-up", body = Envelope<FollowUpItem>), (status = 400, response = BadRequest),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn add_follow_up(
    State(state): State<AppState>,
    caller: Authorized<LeadUpdate>,
    forward: Forward,
    Path(id): Path<Uuid>,
    Json(body): Json<CreateFollowUp>,
) -> ApiResult<Response> {
    let viewer = Viewer::of(&caller);
    let before = service::find_changeable(&state, &viewer, id).await?;
    Validator::new().one_of("follow_up_type", Some(&body.follow_up_type), FOLLOW_UP_TYPES).finish()?;
    let status_after = clean(body.status_after);
    if let Some(to) = &status_after {
        rules::check_move(&before.status, to)?;
    }
    let txn = begin_write(&state.db).await?;
    let saved = follow_up::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(before.organization_id),
        lead_id: Set(id),
        follow_up_type: Set(body.follow_up_type),
        content: Set(clean(body.content)),
        follow_up_date: Set(body.follow_up_date),
        status_before: Set(Some(before.status.clone())),
        status_after: Set(status_after.clone()),
        created_by: Set(Some(viewer.user_id)),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    let mut a = before.clone().into_active_model();
    a.last_follow_up_at = Set(Some(body.follow_up_date));
    if let Some(to) = status_after {
        a.status = Set(to);
    }
    service::save(&state, &forward, &viewer, &before, a, &txn).await?;
    txn.commit().await?;
    let mut items = follow_up_items(&state, &forward, vec![saved]).await?;
    Ok(ok(items.pop()))
}

/// A lead's notes
///
/// A plain array, newest first.
#[utoipa::path(get, path = "/api/order-workflow/leads/{id}/notes", tag = "leads", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The notes", body = Envelope<Vec<NoteItem>>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn notes(
    State(state): State<AppState>,
    caller: Authorized<LeadView>,
    forward: Forward,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    service::find_visible(&state, &Viewer::of(&caller), id).await?;
    let rows = note::Entity::find()
        .filter(note::Column::LeadId.eq(id))
        .order_by_desc(note::Column::CreatedAt)
        .order_by_desc(note::Column::Id)
        .limit(1000)
        .all(&state.db)
        .await?;
    let users = state.users.get(rows.iter().filter_map(|n| n.created_by), &forward).await?;
    let items: Vec<NoteItem> = rows
        .into_iter()
        .map(|n| NoteItem {
            created_by_name: text_of(&users, n.created_by, "name"),
            id: n.id,
            lead_id: n.lead_id,
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
///
/// The owner or an administrator.
#[utoipa::path(post, path = "/api/order-workflow/leads/{id}/notes", tag = "leads", params(("id" = Uuid, Path)),
    request_body = CreateNote,
    responses((status = 200, description = "The note", body = Envelope<NoteItem>), (status = 400, response = BadRequest),
        (status = 403, response = Forbidden), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn add_note(
    State(state): State<AppState>,
    caller: Authorized<LeadUpdate>,
    Path(id): Path<Uuid>,
    Json(body): Json<CreateNote>,
) -> ApiResult<Response> {
    let l = service::find_changeable(&state, &Viewer::of(&caller), id).await?;
    Validator::new()
        .one_of("note_type", Some(&body.note_type), NOTE_TYPES)
        .length("content", body.content.trim(), 1, 10_000)
        .finish()?;
    let saved = note::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(l.organization_id),
        lead_id: Set(id),
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
        lead_id: saved.lead_id,
        note_type: saved.note_type,
        content: saved.content,
        is_important: saved.is_important,
        created_by: saved.created_by,
        created_by_name: Some(caller.username.clone()),
        created_at: saved.created_at,
    }))
}

/// Duplicates considered per check: enough for the dialog that lists them.
const DUPLICATE_LIMIT: u64 = 50;

/// Check for duplicate leads
///
/// Leads of the caller's organization whose company name contains the given one (equals it,
/// ignoring case, with `exact_match`), or whose phone or e-mail equals the given one; each with
/// its similarity (the average over the fields present on both sides: company names by sequence
/// similarity, phone and e-mail 1 when equal), most alike first.
#[utoipa::path(post, path = "/api/order-workflow/leads/check-duplicate", tag = "leads", request_body = CheckDuplicate,
    responses((status = 200, description = "The duplicates found", body = Envelope<DuplicateResult>), (status = 400, response = BadRequest),
        (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn check_duplicate(
    State(state): State<AppState>,
    caller: Authorized<LeadList>,
    forward: Forward,
    Json(body): Json<CheckDuplicate>,
) -> ApiResult<Response> {
    let viewer = Viewer::of(&caller);
    let company = clean(body.company_name);
    let phone = clean(body.phone);
    let email = clean(body.email);
    let mut any = Condition::any();
    if let Some(c) = &company {
        any = if body.exact_match {
            any.add(Expr::expr(Func::lower(Expr::col(lead::Column::CompanyName))).eq(c.to_lowercase()))
        } else {
            any.add(contains_ci(lead::Column::CompanyName, c))
        };
    }
    if let Some(p) = &phone {
        any = any.add(lead::Column::Phone.eq(p));
    }
    if let Some(e) = &email {
        any = any.add(Expr::expr(Func::lower(Expr::col(lead::Column::Email))).eq(e.to_lowercase()));
    }
    if any.is_empty() {
        return Ok(ok(DuplicateResult { has_duplicate: false, duplicates: Vec::new(), similarity_score: None }));
    }
    let mut cond = Condition::all().add(lead::Column::OrganizationId.eq(viewer.organization_id)).add(any);
    if let Some(x) = body.exclude_lead_id {
        cond = cond.add(lead::Column::Id.ne(x));
    }
    let rows = lead::Entity::find()
        .filter(cond)
        .order_by_desc(lead::Column::CreatedAt)
        .limit(DUPLICATE_LIMIT)
        .all(&state.db)
        .await?;
    let query = Contact { company_name: company.as_deref(), phone: phone.as_deref(), email: email.as_deref() };
    let scores: Vec<f64> = rows
        .iter()
        .map(|l| {
            let theirs = Contact {
                company_name: l.company_name.as_deref(),
                phone: l.phone.as_deref(),
                email: l.email.as_deref(),
            };
            rules::similarity(&query, &theirs).unwrap_or(0.0)
        })
        .collect();
    let items = service::items(&state, &forward, &viewer, rows).await?;
    let mut duplicates: Vec<DuplicateItem> = items
        .into_iter()
        .zip(scores)
        .map(|(lead, similarity_score)| DuplicateItem { lead, similarity_score })
        .collect();
    duplicates.sort_by(|a, b| b.similarity_score.total_cmp(&a.similarity_score));
    let similarity_score = duplicates.first().map(|d| d.similarity_score);
    Ok(ok(DuplicateResult { has_duplicate: !duplicates.is_empty(), duplicates, similarity_score }))
}
