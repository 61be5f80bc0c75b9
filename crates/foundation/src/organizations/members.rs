//! Organization members (`organization_employees`): a user's membership with its work details.
//! A user has at most one membership per organization and at most one primary membership.

use super::model::employee;
use super::service;
use crate::AppState;
use crate::perm::{OrganizationUpdate, OrganizationView};
use crate::users::model::user;
use crate::users::service as users;
use axum::extract::State;
use axum::response::Response;
use chrono::{NaiveDate, Utc};
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound};
use crm_common::api::validate::Validator;
use crm_common::api::{Envelope, Json, Page, PageParams, Path, Query, ok};
use crm_common::auth::{Authorized, Principal};
use crm_common::http::audit::with_before;
use crm_common::{ApiError, ApiResult};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Work details of a membership; every field optional.
#[derive(Debug, Deserialize, Default, ToSchema)]
pub struct MemberFields {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub position: Option<String>,
    /// A position of this organization; `null` clears it.
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub position_id: Option<Option<Uuid>>,
    pub department: Option<String>,
    pub employee_number: Option<String>,
    /// Making this membership primary ends the user's other primary one.
    pub is_primary: Option<bool>,
    pub is_manager: Option<bool>,
    pub is_decision_maker: Option<bool>,
    pub joined_at: Option<NaiveDate>,
    pub notes: Option<String>,
}

/// A user the caller can already see; a former member is re-activated.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AddMember {
    pub user_id: Uuid,
    #[serde(flatten)]
    pub fields: MemberFields,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListMembers {
    /// From 1.
    pub page: Option<u64>,
    /// 1–100, default 20.
    pub size: Option<u64>,
    /// Alias of `size`.
    pub page_size: Option<u64>,
    /// Also list ended memberships.
    #[serde(default)]
    pub include_inactive: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub id: Uuid,
    pub user_id: Uuid,
    pub organization_id: Uuid,
    pub username: Option<String>,
    pub user_email: Option<String>,
    pub display_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub position: Option<String>,
    pub position_id: Option<Uuid>,
    pub position_name: Option<String>,
    pub department: Option<String>,
    pub employee_number: Option<String>,
    pub is_primary: bool,
    pub is_manager: bool,
    pub is_decision_maker: bool,
    pub is_active: bool,
    pub joined_at: Option<NaiveDate>,
    pub left_at: Option<NaiveDate>,
    pub notes: Option<String>,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

fn validate(f: &MemberFields) -> ApiResult<()> {
    let mut v = Validator::new();
    if let Some(e) = &f.email {
        v.email("email", e);
    }
    v.optional_length("first_name", f.first_name.as_deref(), 100)
        .optional_length("last_name", f.last_name.as_deref(), 100)
        .optional_length("phone", f.phone.as_deref(), 50)
        .optional_length("position", f.position.as_deref(), 100)
        .optional_length("department", f.department.as_deref(), 100)
        .optional_length("employee_number", f.employee_number.as_deref(), 50)
        .optional_length("notes", f.notes.as_deref(), 2000)
        .finish()
}

/// A position given for a membership must be one of the organization's.
async fn check_position(db: &impl ConnectionTrait, org_id: Uuid, f: &MemberFields) -> ApiResult<()> {
    if let Some(Some(position)) = f.position_id {
        crate::positions::service::find(db, org_id, position)
            .await
            .map_err(|_| ApiError::field("position_id", "not a position of this organization"))?;
    }
    Ok(())
}

fn apply(f: MemberFields, m: &mut employee::ActiveModel) {
    let opt = crate::patch::set_text;
    opt(&mut m.first_name, f.first_name);
    opt(&mut m.last_name, f.last_name);
    opt(&mut m.email, f.email);
    opt(&mut m.phone, f.phone);
    opt(&mut m.position, f.position);
    opt(&mut m.department, f.department);
    opt(&mut m.employee_number, f.employee_number);
    opt(&mut m.notes, f.notes);
    if let Some(v) = f.position_id {
        m.position_id = Set(v);
    }
    if let Some(v) = f.is_primary {
        m.is_primary = Set(v);
    }
    if let Some(v) = f.is_manager {
        m.is_manager = Set(v);
    }
    if let Some(v) = f.is_decision_maker {
        m.is_decision_maker = Set(v);
    }
    if let Some(d) = f.joined_at {
        m.joined_at = Set(Some(d));
    }
}

async fn views(db: &impl ConnectionTrait, rows: Vec<employee::Model>) -> ApiResult<Vec<MemberView>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.user_id).collect();
    let people: HashMap<Uuid, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let positions: HashMap<Uuid, String> = crate::positions::model::Entity::find()
        .filter(
            crate::positions::model::Column::Id.is_in(rows.iter().filter_map(|r| r.position_id).collect::<Vec<_>>()),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    Ok(rows
        .into_iter()
        .map(|e| {
            let u = people.get(&e.user_id);
            let full =
                [e.first_name.as_deref(), e.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
            MemberView {
                id: e.id,
                user_id: e.user_id,
                organization_id: e.organization_id,
                username: u.map(|u| u.username.clone()),
                user_email: u.map(|u| u.email.clone()),
                display_name: u.and_then(|u| u.display_name.clone()),
                full_name: Some(full).filter(|s| !s.is_empty()),
                first_name: e.first_name,
                last_name: e.last_name,
                email: e.email,
                phone: e.phone,
                position: e.position,
                position_name: e.position_id.and_then(|p| positions.get(&p).cloned()),
                position_id: e.position_id,
                department: e.department,
                employee_number: e.employee_number,
                is_primary: e.is_primary,
                is_manager: e.is_manager,
                is_decision_maker: e.is_decision_maker,
                is_active: e.is_active,
                joined_at: e.joined_at,
                left_at: e.left_at,
                notes: e.notes,
                created_at: e.created_at,
                updated_at: e.updated_at,
            }
        })
        .collect())
}

/// List an organization's members
#[utoipa::path(
    get,
    path = "/api/foundation/organizations/{organization_id}/employees",
    operation_id = "list_employees",
    tag = "organizations",
    params(("organization_id" = Uuid, Path, description = "The organization's id"), ListMembers),
    responses(
        (status = 200, description = "A page of members, oldest first", body = Envelope<Page<MemberView>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Authorized<OrganizationView>,
    Path(org_id): Path<Uuid>,
    Query(q): Query<ListMembers>,
) -> ApiResult<Response> {
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(20, 100)?;
    service::find_visible(&state.db, &caller, org_id).await?;
    let mut query = employee::Entity::find().filter(employee::Column::OrganizationId.eq(org_id));
    if !q.include_inactive {
        query = query.filter(employee::Column::IsActive.eq(true));
    }
    let paginator =
        query.order_by_asc(employee::Column::CreatedAt).order_by_asc(employee::Column::Id).paginate(&state.db, size);
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(page - 1).await?;
    Ok(ok(Page::new(views(&state.db, rows).await?, total, page, size)))
}

/// Clears the user's other primary memberships when this one becomes primary.
async fn clear_other_primaries(db: &impl ConnectionTrait, user_id: Uuid, keep: Uuid) -> ApiResult<()> {
    employee::Entity::update_many()
        .col_expr(employee::Column::IsPrimary, Expr::value(false))
        .filter(employee::Column::UserId.eq(user_id))
        .filter(employee::Column::Id.ne(keep))
        .exec(db)
        .await?;
    Ok(())
}

/// Add a member
#[utoipa::path(
    post,
    path = "/api/foundation/organizations/{organization_id}/employees",
    operation_id = "add_employee",
    tag = "organizations",
    params(("organization_id" = Uuid, Path, description = "The organization's id")),
    request_body = AddMember,
    responses(
        (status = 200, description = "The membership", body = Envelope<MemberView>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn add(
    State(state): State<AppState>,
    caller: Authorized<OrganizationUpdate>,
    Path(org_id): Path<Uuid>,
    Json(body): Json<AddMember>,
) -> ApiResult<Response> {
    validate(&body.fields)?;
    let org = service::find_visible(&state.db, &caller, org_id).await?;
    service::ensure_open(&org)?;
    check_position(&state.db, org_id, &body.fields).await?;
    // Only users the caller can already see may be added, so no one pulls in a stranger's account.
    let person = users::find_visible(&state.db, &caller, body.user_id, false).await?;
    let existing = employee::Entity::find()
        .filter(employee::Column::UserId.eq(person.id))
        .filter(employee::Column::OrganizationId.eq(org_id))
        .one(&state.db)
        .await?;
    let now = Utc::now();
    let txn = crm_common::db::begin_write(&state.db).await?;
    let (mut row, is_new) = match existing {
        Some(e) if e.is_active => {
            return Err(ApiError::conflict("the user is already a member of this organization"));
        }
        Some(e) => {
            let mut m = e.into_active_model();
            m.is_active = Set(true);
            m.left_at = Set(None);
            (m, false)
        }
        None => (
            employee::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(person.id),
                organization_id: Set(org_id),
                first_name: Set(None),
                last_name: Set(None),
                email: Set(None),
                phone: Set(None),
                position: Set(None),
                position_id: Set(None),
                department: Set(None),
                employee_number: Set(None),
                is_primary: Set(false),
                is_manager: Set(false),
                is_decision_maker: Set(false),
                is_active: Set(true),
                joined_at: Set(Some(now.date_naive())),
                left_at: Set(None),
                notes: Set(None),
                created_by: Set(Some(caller.user_id)),
                created_at: Set(now),
                updated_at: Set(now),
            },
            true,
        ),
    };
    let primary = body.fields.is_primary == Some(true);
    apply(body.fields, &mut row);
    row.updated_at = Set(now);
    let saved = if is_new { row.insert(&txn).await? } else { row.update(&txn).await? };
    if primary {
        clear_other_primaries(&txn, saved.user_id, saved.id).await?;
    }
    txn.commit().await?;
    crate::authz::invalidate_user(&state.cache, saved.user_id).await;
    Ok(ok(views(&state.db, vec![saved]).await?.pop()))
}

async fn find_member(
    db: &impl ConnectionTrait,
    caller: &Principal,
    org_id: Uuid,
    id: Uuid,
) -> ApiResult<employee::Model> {
    service::find_visible(db, caller, org_id).await?;
    member_in(db, org_id, id).await
}

/// A membership of an organization already found visible.
async fn member_in(db: &impl ConnectionTrait, org_id: Uuid, id: Uuid) -> ApiResult<employee::Model> {
    employee::Entity::find_by_id(id)
        .filter(employee::Column::OrganizationId.eq(org_id))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("member"))
}

/// Update a membership
#[utoipa::path(
    put,
    path = "/api/foundation/organizations/{organization_id}/employees/{employee_id}",
    operation_id = "update_employee",
    tag = "organizations",
    params(("organization_id" = Uuid, Path, description = "The organization's id"), ("employee_id" = Uuid, Path, description = "The membership's id")),
    request_body = MemberFields,
    responses(
        (status = 200, description = "The membership", body = Envelope<MemberView>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Authorized<OrganizationUpdate>,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    Json(body): Json<MemberFields>,
) -> ApiResult<Response> {
    validate(&body)?;
    let row = find_member(&state.db, &caller, org_id, id).await?;
    check_position(&state.db, org_id, &body).await?;
    let primary = body.is_primary == Some(true);
    let before = views(&state.db, vec![row.clone()]).await?.pop();
    let txn = crm_common::db::begin_write(&state.db).await?;
    let mut m = row.into_active_model();
    apply(body, &mut m);
    m.updated_at = Set(Utc::now());
    let saved = m.update(&txn).await?;
    if primary {
        clear_other_primaries(&txn, saved.user_id, saved.id).await?;
    }
    txn.commit().await?;
    crate::authz::invalidate_user(&state.cache, saved.user_id).await;
    Ok(with_before(ok(views(&state.db, vec![saved]).await?.pop()), &before))
}

/// Ends a membership: inactive, `left_at` today, no longer primary. The row is kept for history.
async fn end(state: &AppState, caller: &Principal, row: employee::Model) -> ApiResult<Response> {
    if row.user_id == caller.user_id {
        return Err(ApiError::bad_request("you cannot remove yourself from an organization"));
    }
    let (before, _) = set_active(state, row, false).await?;
    Ok(with_before(ok(()), &before))
}

/// Reopens or ends a membership (an ended one is no longer primary, and records the day it
/// ended); returns it as it was and as it is.
async fn set_active(
    state: &AppState,
    row: employee::Model,
    active: bool,
) -> ApiResult<(Option<MemberView>, employee::Model)> {
    let before = views(&state.db, vec![row.clone()]).await?.pop();
    let mut m = row.into_active_model();
    m.is_active = Set(active);
    m.left_at = Set((!active).then(|| Utc::now().date_naive()));
    if !active {
        m.is_primary = Set(false);
    }
    m.updated_at = Set(Utc::now());
    let saved = m.update(&state.db).await?;
    crate::authz::invalidate_user(&state.cache, saved.user_id).await;
    Ok((before, saved))
}

/// End a membership
///
/// The membership ends (inactive, `left_at` today); the row is kept for history.
#[utoipa::path(
    delete,
    path = "/api/foundation/organizations/{organization_id}/employees/{employee_id}",
    operation_id = "remove_employee",
    tag = "organizations",
    params(("organization_id" = Uuid, Path, description = "The organization's id"), ("employee_id" = Uuid, Path, description = "The membership's id")),
    responses(
        (status = 200, description = "Ended", body = Envelope<NoData>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn remove(
    State(state): State<AppState>,
    caller: Authorized<OrganizationUpdate>,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    let row = find_member(&state.db, &caller, org_id, id).await?;
    end(&state, &caller, row).await
}

/// Restore an ended membership
///
/// Active again from today, with `left_at` cleared; it does not become primary again. The
/// account itself must not be deleted (`PUT /users/{user_id}/restore` first).
#[utoipa::path(
    put,
    path = "/api/foundation/organizations/{organization_id}/employees/{employee_id}/restore",
    operation_id = "restore_employee",
    tag = "organizations",
    params(("organization_id" = Uuid, Path, description = "The organization's id"), ("employee_id" = Uuid, Path, description = "The membership's id")),
    responses(
        (status = 200, description = "The membership", body = Envelope<MemberView>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn restore(
    State(state): State<AppState>,
    caller: Authorized<OrganizationUpdate>,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    let org = service::find_visible(&state.db, &caller, org_id).await?;
    service::ensure_open(&org)?;
    let row = member_in(&state.db, org_id, id).await?;
    if row.is_active {
        return Err(ApiError::conflict("the membership is active"));
    }
    let account = user::Entity::find_by_id(row.user_id).one(&state.db).await?;
    if account.is_none_or(|a| a.deleted_at.is_some()) {
        return Err(ApiError::conflict("the account is deleted; restore it first with PUT /users/{user_id}/restore"));
    }
    let (before, saved) = set_active(&state, row, true).await?;
    Ok(with_before(ok(views(&state.db, vec![saved]).await?.pop()), &before))
}

/// End a user's membership
///
/// The same as `DELETE …/employees/{employee_id}`, by the member's user id.
#[utoipa::path(
    delete,
    path = "/api/foundation/organizations/{organization_id}/members/{user_id}",
    tag = "organizations",
    params(("organization_id" = Uuid, Path, description = "The organization's id"), ("user_id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "Ended", body = Envelope<NoData>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn remove_user(
    State(state): State<AppState>,
    caller: Authorized<OrganizationUpdate>,
    Path((org_id, user_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    service::find_visible(&state.db, &caller, org_id).await?;
    let row = employee::Entity::find()
        .filter(employee::Column::OrganizationId.eq(org_id))
        .filter(employee::Column::UserId.eq(user_id))
        .filter(employee::Column::IsActive.eq(true))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("member"))?;
    end(&state, &caller, row).await
}

/// List an organization's members
///
/// The same as `GET …/employees`, under the newer name.
#[utoipa::path(
    get,
    path = "/api/foundation/organizations/{organization_id}/members",
    tag = "organizations",
    params(("organization_id" = Uuid, Path, description = "The organization's id"), ListMembers),
    responses(
        (status = 200, description = "A page of members, oldest first", body = Envelope<Page<MemberView>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn list_members(
    state: State<AppState>,
    caller: Authorized<OrganizationView>,
    org: Path<Uuid>,
    query: Query<ListMembers>,
) -> ApiResult<Response> {
    list(state, caller, org, query).await
}

/// Add a member
///
/// The same as `POST …/employees`, under the newer name.
#[utoipa::path(
    post,
    path = "/api/foundation/organizations/{organization_id}/members",
    tag = "organizations",
    params(("organization_id" = Uuid, Path, description = "The organization's id")),
    request_body = AddMember,
    responses(
        (status = 200, description = "The membership", body = Envelope<MemberView>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn add_member(
    state: State<AppState>,
    caller: Authorized<OrganizationUpdate>,
    org: Path<Uuid>,
    body: Json<AddMember>,
) -> ApiResult<Response> {
    add(state, caller, org, body).await
}
