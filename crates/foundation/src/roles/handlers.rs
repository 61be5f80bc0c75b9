use super::model as role;
use crate::AppState;
use crate::access::require_platform_admin;
use crate::perm::{RoleCreate, RoleDelete, RoleList, RoleUpdate, RoleView, is_preset_role};
use crate::permissions::service::{self as grants, PermissionRef};
use crate::users::model::user_role;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound};
use crm_common::api::validate::Validator;
use crm_common::api::{Envelope, Json, Path, ok};
use crm_common::auth::Authorized;
use crm_common::http::audit::with_before;
use crm_common::{ApiError, ApiResult};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A role with the permissions it grants.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleDetail {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub name_zh: Option<String>,
    pub name_id: Option<String>,
    pub description: Option<String>,
    pub description_zh: Option<String>,
    pub description_id: Option<String>,
    /// One of the five roles that always exist; they cannot be deleted.
    pub is_preset: bool,
    pub permissions: Vec<PermissionRef>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn detail(r: role::Model, permissions: Vec<PermissionRef>) -> RoleDetail {
    RoleDetail {
        is_preset: is_preset_role(&r.code),
        id: r.id,
        code: r.code,
        name: r.name,
        name_zh: r.name_zh,
        name_id: r.name_id,
        description: r.description,
        description_zh: r.description_zh,
        description_id: r.description_id,
        permissions,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateRole {
    /// Letters, digits, `_` and `-`; stored upper-case.
    pub code: String,
    pub name: String,
    pub name_zh: Option<String>,
    pub name_id: Option<String>,
    pub description: Option<String>,
    pub description_zh: Option<String>,
    pub description_id: Option<String>,
}

/// Every field optional; the code is fixed.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateRole {
    pub name: Option<String>,
    pub name_zh: Option<String>,
    pub name_id: Option<String>,
    pub description: Option<String>,
    pub description_zh: Option<String>,
    pub description_id: Option<String>,
}

async fn find(state: &AppState, id: Uuid) -> ApiResult<role::Model> {
    role::Entity::find_by_id(id).one(&state.db).await?.ok_or_else(|| ApiError::not_found("role"))
}

async fn with_permissions(state: &AppState, r: role::Model) -> ApiResult<RoleDetail> {
    let mut map = grants::of_roles(&state.db, &[r.id]).await?;
    let perms = map.remove(&r.id).unwrap_or_default();
    Ok(detail(r, perms))
}

/// List roles
#[utoipa::path(
    get,
    path = "/api/foundation/roles",
    tag = "roles",
    responses(
        (status = 200, description = "Every role, oldest first", body = Envelope<Vec<RoleDetail>>),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn list(State(state): State<AppState>, _: Authorized<RoleList>) -> ApiResult<Response> {
    let roles = role::Entity::find()
        .order_by_asc(role::Column::CreatedAt)
        .order_by_asc(role::Column::Code)
        .all(&state.db)
        .await?;
    let ids: Vec<Uuid> = roles.iter().map(|r| r.id).collect();
    let mut map = grants::of_roles(&state.db, &ids).await?;
    let items: Vec<RoleDetail> = roles
        .into_iter()
        .map(|r| {
            let perms = map.remove(&r.id).unwrap_or_default();
            detail(r, perms)
        })
        .collect();
    Ok(ok(items))
}

/// Get a role
#[utoipa::path(
    get,
    path = "/api/foundation/roles/{role_id}",
    tag = "roles",
    params(("role_id" = Uuid, Path, description = "The role's id")),
    responses(
        (status = 200, description = "The role", body = Envelope<RoleDetail>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn get(State(state): State<AppState>, _: Authorized<RoleView>, Path(id): Path<Uuid>) -> ApiResult<Response> {
    let r = find(&state, id).await?;
    Ok(ok(with_permissions(&state, r).await?))
}

/// Create a role
///
/// Roles are global, so only platform administrators create them.
#[utoipa::path(
    post,
    path = "/api/foundation/roles",
    tag = "roles",
    request_body = CreateRole,
    responses(
        (status = 200, description = "The new role", body = Envelope<RoleDetail>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<RoleCreate>,
    Json(body): Json<CreateRole>,
) -> ApiResult<Response> {
    require_platform_admin(&caller, "change roles")?;
    let code = body.code.trim().to_uppercase();
    Validator::new()
        .length("code", &code, 1, 50)
        .check(
            code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            "code",
            "may contain only letters, digits, _ and -",
        )
        .length("name", &body.name, 1, 255)
        .finish()?;
    if role::Entity::find().filter(role::Column::Code.eq(&code)).one(&state.db).await?.is_some() {
        return Err(ApiError::conflict("role code already exists"));
    }
    let now = Utc::now();
    let saved = role::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(code),
        name: Set(body.name.trim().to_owned()),
        name_zh: Set(body.name_zh),
        name_id: Set(body.name_id),
        description: Set(body.description),
        description_zh: Set(body.description_zh),
        description_id: Set(body.description_id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    Ok(ok(detail(saved, Vec::new())))
}

/// Update a role
///
/// Platform administrators only.
#[utoipa::path(
    put,
    path = "/api/foundation/roles/{role_id}",
    tag = "roles",
    params(("role_id" = Uuid, Path, description = "The role's id")),
    request_body = UpdateRole,
    responses(
        (status = 200, description = "The updated role", body = Envelope<RoleDetail>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Authorized<RoleUpdate>,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateRole>,
) -> ApiResult<Response> {
    require_platform_admin(&caller, "change roles")?;
    if let Some(name) = &body.name {
        Validator::new().length("name", name, 1, 255).finish()?;
    }
    let found = find(&state, id).await?;
    let before = with_permissions(&state, found.clone()).await?;
    let mut m = found.into_active_model();
    if let Some(x) = body.name {
        m.name = Set(x.trim().to_owned());
    }
    for (field, value) in [
        (&mut m.name_zh, body.name_zh),
        (&mut m.name_id, body.name_id),
        (&mut m.description, body.description),
        (&mut m.description_zh, body.description_zh),
        (&mut m.description_id, body.description_id),
    ] {
        if let Some(v) = value {
            *field = Set(Some(v));
        }
    }
    m.updated_at = Set(Utc::now());
    let saved = m.update(&state.db).await?;
    Ok(with_before(ok(with_permissions(&state, saved).await?), &before))
}

/// Delete a role
///
/// Platform administrators only; a preset role or one still held by a user stays.
#[utoipa::path(
    delete,
    path = "/api/foundation/roles/{role_id}",
    tag = "roles",
    params(("role_id" = Uuid, Path, description = "The role's id")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<NoData>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authorized<RoleDelete>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    require_platform_admin(&caller, "change roles")?;
    let r = find(&state, id).await?;
    let before = with_permissions(&state, r.clone()).await?;
    if is_preset_role(&r.code) {
        return Err(ApiError::bad_request("preset role cannot be deleted"));
    }
    let holders = user_role::Entity::find().filter(user_role::Column::RoleId.eq(id)).count(&state.db).await?;
    if holders > 0 {
        return Err(ApiError::conflict(format!("the role is still assigned to {holders} user(s)")));
    }
    role::Entity::delete_by_id(id).exec(&state.db).await?;
    crate::authz::invalidate_all(&state.cache).await;
    Ok(with_before(ok(()), &before))
}
