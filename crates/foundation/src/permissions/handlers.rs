use super::by_menu::{self, AssignByMenu, MenuGrant};
use super::model::{permission, role_permission};
use super::service;
use crate::AppState;
use crate::access::require_platform_admin;
use crate::perm::{PermissionManage, PermissionView};
use crate::roles::model as role;
use crate::users::service as users;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound};
use crm_common::api::validate::Validator;
use crm_common::api::{Envelope, Json, Path, Query, ok};
use crm_common::auth::{Authorized, CurrentUser};
use crm_common::http::audit::with_before;
use crm_common::{ApiError, ApiResult};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreatePermission {
    /// `resource.action`, e.g. `customer.create`.
    pub code: String,
    pub name_zh: String,
    pub name_id: String,
    pub description_zh: Option<String>,
    pub description_id: Option<String>,
    pub resource_type: String,
    pub action: String,
    #[serde(default)]
    pub display_order: i32,
    pub is_active: Option<bool>,
}

/// Every field optional; the code is fixed.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdatePermission {
    pub name_zh: Option<String>,
    pub name_id: Option<String>,
    pub description_zh: Option<String>,
    pub description_id: Option<String>,
    pub resource_type: Option<String>,
    pub action: Option<String>,
    pub display_order: Option<i32>,
    pub is_active: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListPermissions {
    pub resource_type: Option<String>,
    pub is_active: Option<bool>,
}

/// The role's complete set of permissions afterwards.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Assign {
    pub permission_ids: Vec<Uuid>,
}

/// A permission point.
#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionRecord {
    pub id: Uuid,
    pub code: String,
    pub name_zh: String,
    pub name_id: String,
    pub description_zh: Option<String>,
    pub description_id: Option<String>,
    pub resource_type: String,
    pub action: String,
    pub display_order: i32,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<permission::Model> for PermissionRecord {
    fn from(p: permission::Model) -> Self {
        Self {
            id: p.id,
            code: p.code,
            name_zh: p.name_zh,
            name_id: p.name_id,
            description_zh: p.description_zh,
            description_id: p.description_id,
            resource_type: p.resource_type,
            action: p.action,
            display_order: p.display_order,
            is_active: p.is_active,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// What a user may do: effective permission codes and the menus they open.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPermissions {
    pub permissions: BTreeSet<String>,
    pub menus: Vec<crate::menus::dto::AccessibleMenu>,
}

/// Create a permission
///
/// Permission points are global, so only platform administrators create them.
#[utoipa::path(
    post,
    path = "/api/foundation/permissions",
    tag = "permissions",
    request_body = CreatePermission,
    responses(
        (status = 200, description = "The new permission", body = Envelope<PermissionRecord>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<PermissionManage>,
    Json(body): Json<CreatePermission>,
) -> ApiResult<Response> {
    require_platform_admin(&caller, "change permissions")?;
    Validator::new()
        .length("code", &body.code, 1, 100)
        .length("name_zh", &body.name_zh, 1, 255)
        .length("name_id", &body.name_id, 1, 255)
        .length("resource_type", &body.resource_type, 1, 50)
        .length("action", &body.action, 1, 50)
        .finish()?;
    let code = body.code.trim().to_owned();
    if permission::Entity::find().filter(permission::Column::Code.eq(&code)).one(&state.db).await?.is_some() {
        return Err(ApiError::conflict("permission code already exists"));
    }
    let now = Utc::now();
    let saved = permission::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(code),
        name_zh: Set(body.name_zh),
        name_id: Set(body.name_id),
        description_zh: Set(body.description_zh),
        description_id: Set(body.description_id),
        resource_type: Set(body.resource_type),
        action: Set(body.action),
        display_order: Set(body.display_order),
        is_active: Set(body.is_active.unwrap_or(true)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    Ok(ok(PermissionRecord::from(saved)))
}

async fn find(state: &AppState, id: Uuid) -> ApiResult<permission::Model> {
    permission::Entity::find_by_id(id).one(&state.db).await?.ok_or_else(|| ApiError::not_found("permission"))
}

/// Get a permission
#[utoipa::path(
    get,
    path = "/api/foundation/permissions/{permission_id}",
    tag = "permissions",
    params(("permission_id" = Uuid, Path, description = "The permission's id")),
    responses(
        (status = 200, description = "The permission", body = Envelope<PermissionRecord>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    _: Authorized<PermissionView>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    Ok(ok(PermissionRecord::from(find(&state, id).await?)))
}

/// Update a permission
///
/// Platform administrators only; applies to every session at once.
#[utoipa::path(
    put,
    path = "/api/foundation/permissions/{permission_id}",
    tag = "permissions",
    params(("permission_id" = Uuid, Path, description = "The permission's id")),
    request_body = UpdatePermission,
    responses(
        (status = 200, description = "The updated permission", body = Envelope<PermissionRecord>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Authorized<PermissionManage>,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdatePermission>,
) -> ApiResult<Response> {
    require_platform_admin(&caller, "change permissions")?;
    let mut v = Validator::new();
    for (field, value, max) in [
        ("name_zh", &body.name_zh, 255),
        ("name_id", &body.name_id, 255),
        ("resource_type", &body.resource_type, 50),
        ("action", &body.action, 50),
    ] {
        if let Some(value) = value {
            v.length(field, value, 1, max);
        }
    }
    v.finish()?;
    let found = find(&state, id).await?;
    let before = PermissionRecord::from(found.clone());
    let mut m = found.into_active_model();
    if let Some(x) = body.name_zh {
        m.name_zh = Set(x);
    }
    if let Some(x) = body.name_id {
        m.name_id = Set(x);
    }
    if let Some(x) = body.description_zh {
        m.description_zh = Set(Some(x));
    }
    if let Some(x) = body.description_id {
        m.description_id = Set(Some(x));
    }
    if let Some(x) = body.resource_type {
        m.resource_type = Set(x);
    }
    if let Some(x) = body.action {
        m.action = Set(x);
    }
    if let Some(x) = body.display_order {
        m.display_order = Set(x);
    }
    if let Some(x) = body.is_active {
        m.is_active = Set(x);
    }
    m.updated_at = Set(Utc::now());
    let saved = m.update(&state.db).await?;
    crate::authz::invalidate_all(&state.cache).await;
    Ok(with_before(ok(PermissionRecord::from(saved)), &before))
}

/// List permissions
#[utoipa::path(
    get,
    path = "/api/foundation/permissions",
    tag = "permissions",
    params(ListPermissions),
    responses(
        (status = 200, description = "The permissions in display order", body = Envelope<Vec<PermissionRecord>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    _: Authorized<PermissionView>,
    Query(q): Query<ListPermissions>,
) -> ApiResult<Response> {
    let mut query = permission::Entity::find();
    if let Some(rt) = q.resource_type.as_deref().filter(|s| !s.is_empty()) {
        query = query.filter(permission::Column::ResourceType.eq(rt));
    }
    if let Some(a) = q.is_active {
        query = query.filter(permission::Column::IsActive.eq(a));
    }
    let rows = query
        .order_by_asc(permission::Column::DisplayOrder)
        .order_by_asc(permission::Column::Code)
        .all(&state.db)
        .await?;
    Ok(ok(rows.into_iter().map(PermissionRecord::from).collect::<Vec<_>>()))
}

/// Set a role's permissions
///
/// Replaces the role's permissions; platform administrators only.
#[utoipa::path(
    post,
    path = "/api/foundation/permissions/roles/{role_id}/assign",
    tag = "permissions",
    params(("role_id" = Uuid, Path, description = "The role's id")),
    request_body = Assign,
    responses(
        (status = 200, description = "Assigned", body = Envelope<NoData>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn assign(
    State(state): State<AppState>,
    caller: Authorized<PermissionManage>,
    Path(role_id): Path<Uuid>,
    Json(body): Json<Assign>,
) -> ApiResult<Response> {
    require_platform_admin(&caller, "change permissions")?;
    role::Entity::find_by_id(role_id).one(&state.db).await?.ok_or_else(|| ApiError::not_found("role"))?;
    let txn = crm_common::db::begin_write(&state.db).await?;
    service::replace_grants(&txn, role_id, &body.permission_ids).await?;
    txn.commit().await?;
    crate::authz::invalidate_all(&state.cache).await;
    Ok(ok(()))
}

/// A role's permissions
#[utoipa::path(
    get,
    path = "/api/foundation/permissions/roles/{role_id}",
    tag = "permissions",
    params(("role_id" = Uuid, Path, description = "The role's id")),
    responses(
        (status = 200, description = "The role's permissions, by code", body = Envelope<Vec<PermissionRecord>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn of_role(
    State(state): State<AppState>,
    _: Authorized<PermissionView>,
    Path(role_id): Path<Uuid>,
) -> ApiResult<Response> {
    role::Entity::find_by_id(role_id).one(&state.db).await?.ok_or_else(|| ApiError::not_found("role"))?;
    // Every field of the permission, as `GET /permissions` lists it (the spec's optional ones
    // included), in one query.
    let granted = sea_orm::sea_query::Query::select()
        .column(role_permission::Column::PermissionId)
        .from(role_permission::Entity)
        .and_where(role_permission::Column::RoleId.eq(role_id))
        .to_owned();
    let rows = permission::Entity::find()
        .filter(permission::Column::Id.in_subquery(granted))
        .order_by_asc(permission::Column::Code)
        .all(&state.db)
        .await?;
    Ok(ok(rows.into_iter().map(PermissionRecord::from).collect::<Vec<_>>()))
}

/// Set a role's permissions by menu
///
/// Seed 002's form: for each listed menu, the role may afterwards do exactly the listed actions
/// (`view` covers the menu's `view` and `list` permissions); menus not listed, and permissions
/// with other actions, are left as they are. Platform administrators only. Answers the role's
/// permissions by menu.
#[utoipa::path(
    post,
    path = "/api/foundation/permissions/assign",
    tag = "permissions",
    request_body = AssignByMenu,
    responses(
        (status = 200, description = "The role's permissions by menu", body = Envelope<Vec<MenuGrant>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn assign_by_menu(
    State(state): State<AppState>,
    caller: Authorized<PermissionManage>,
    Json(body): Json<AssignByMenu>,
) -> ApiResult<Response> {
    require_platform_admin(&caller, "change permissions")?;
    if role::Entity::find_by_id(body.role_id).one(&state.db).await?.is_none() {
        return Err(ApiError::field("role_id", "role not found"));
    }
    // The menus' links are read once: they are the same before, during and after.
    let links = by_menu::links(&state.db).await?;
    let before = by_menu::of_role(&state.db, &links, body.role_id).await?;
    let txn = crm_common::db::begin_write(&state.db).await?;
    by_menu::assign(&txn, &links, &body).await?;
    txn.commit().await?;
    crate::authz::invalidate_all(&state.cache).await;
    Ok(with_before(ok(by_menu::of_role(&state.db, &links, body.role_id).await?), &before))
}

/// A role's permissions by menu
///
/// Seed 002's form of `GET /permissions/roles/{role_id}`: every menu that has permissions to
/// grant, with the actions the role holds there.
#[utoipa::path(
    get,
    path = "/api/foundation/permissions/role/{role_id}",
    tag = "permissions",
    params(("role_id" = Uuid, Path, description = "The role's id")),
    responses(
        (status = 200, description = "The role's permissions by menu", body = Envelope<Vec<MenuGrant>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn of_role_by_menu(
    State(state): State<AppState>,
    _: Authorized<PermissionView>,
    Path(role_id): Path<Uuid>,
) -> ApiResult<Response> {
    role::Entity::find_by_id(role_id).one(&state.db).await?.ok_or_else(|| ApiError::not_found("role"))?;
    Ok(ok(by_menu::of_role(&state.db, &by_menu::links(&state.db).await?, role_id).await?))
}

/// A user's effective permissions and menus
///
/// Effective permissions of a user (union over their roles, active permissions only); the caller
/// may always ask about themself.
#[utoipa::path(
    get,
    path = "/api/foundation/permissions/users/{user_id}/info",
    tag = "permissions",
    params(("user_id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user's permission codes and menus", body = Envelope<UserPermissions>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn user_info(
    State(state): State<AppState>,
    caller: CurrentUser,
    Path(user_id): Path<Uuid>,
) -> ApiResult<Response> {
    if caller.user_id != user_id {
        caller.require("permission.view")?;
    }
    let target = users::find_visible(&state.db, &caller, user_id, false).await?;
    let access = crate::access::load(&state.db, target).await?;
    let menus = crate::menus::service::accessible(&state.db, &access.permissions).await?;
    Ok(ok(UserPermissions { permissions: access.permissions, menus }))
}
