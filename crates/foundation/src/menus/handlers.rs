use super::dto::{AccessibleMenu, AssignPermissions, CreateMenu, MenuNode, UpdateMenu};
use super::model::menu;
use super::service;
use crate::AppState;
use crate::access::require_platform_admin;
use crate::perm::{MenuManage, MenuView};
use crate::users::service as users;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound};
use crm_common::api::{Envelope, Json, Path, ok};
use crm_common::auth::{Authorized, CurrentUser};
use crm_common::http::audit::with_before;
use crm_common::{ApiError, ApiResult};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};
use uuid::Uuid;

const WHAT: &str = "change menus";

fn trimmed(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Create a menu
///
/// Menus are global, so only platform administrators change them.
#[utoipa::path(
    post,
    path = "/api/foundation/menus",
    tag = "menus",
    request_body = CreateMenu,
    responses(
        (status = 200, description = "The new menu", body = Envelope<super::dto::MenuView>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<MenuManage>,
    Json(body): Json<CreateMenu>,
) -> ApiResult<Response> {
    require_platform_admin(&caller, WHAT)?;
    body.validate()?;
    let code = body.code.trim().to_owned();
    if menu::Entity::find().filter(menu::Column::Code.eq(&code)).one(&state.db).await?.is_some() {
        return Err(ApiError::conflict("menu code already exists"));
    }
    if let Some(parent) = body.parent_id {
        service::check_parent(&state.db, None, parent).await?;
    }
    let now = Utc::now();
    let saved = menu::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(code),
        name_zh: Set(body.name_zh.trim().to_owned()),
        name_id: Set(body.name_id.trim().to_owned()),
        description_zh: Set(body.description_zh),
        description_id: Set(body.description_id),
        parent_id: Set(body.parent_id),
        path: Set(trimmed(body.path)),
        component: Set(trimmed(body.component)),
        icon: Set(trimmed(body.icon)),
        display_order: Set(body.display_order),
        is_active: Set(body.is_active.unwrap_or(true)),
        is_visible: Set(body.is_visible.unwrap_or(true)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    Ok(ok(service::view(&state.db, saved).await?))
}

/// Get a menu
#[utoipa::path(
    get,
    path = "/api/foundation/menus/{menu_id}",
    tag = "menus",
    params(("menu_id" = Uuid, Path, description = "The menu's id")),
    responses(
        (status = 200, description = "The menu", body = Envelope<super::dto::MenuView>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn get(State(state): State<AppState>, _: Authorized<MenuView>, Path(id): Path<Uuid>) -> ApiResult<Response> {
    let m = service::find(&state.db, id).await?;
    Ok(ok(service::view(&state.db, m).await?))
}

/// Update a menu
///
/// Platform administrators only.
#[utoipa::path(
    put,
    path = "/api/foundation/menus/{menu_id}",
    tag = "menus",
    params(("menu_id" = Uuid, Path, description = "The menu's id")),
    request_body = UpdateMenu,
    responses(
        (status = 200, description = "The updated menu", body = Envelope<super::dto::MenuView>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Authorized<MenuManage>,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateMenu>,
) -> ApiResult<Response> {
    require_platform_admin(&caller, WHAT)?;
    body.validate()?;
    let found = service::find(&state.db, id).await?;
    let before = service::view(&state.db, found.clone()).await?;
    let mut m = found.into_active_model();
    if let Some(parent) = body.parent_id {
        if let Some(p) = parent {
            service::check_parent(&state.db, Some(id), p).await?;
        }
        m.parent_id = Set(parent);
    }
    if let Some(v) = body.name_zh {
        m.name_zh = Set(v.trim().to_owned());
    }
    if let Some(v) = body.name_id {
        m.name_id = Set(v.trim().to_owned());
    }
    for (field, value) in [
        (&mut m.description_zh, body.description_zh),
        (&mut m.description_id, body.description_id),
        (&mut m.path, body.path),
        (&mut m.component, body.component),
        (&mut m.icon, body.icon),
    ] {
        if value.is_some() {
            *field = Set(trimmed(value));
        }
    }
    if let Some(v) = body.display_order {
        m.display_order = Set(v);
    }
    if let Some(v) = body.is_active {
        m.is_active = Set(v);
    }
    if let Some(v) = body.is_visible {
        m.is_visible = Set(v);
    }
    m.updated_at = Set(Utc::now());
    let saved = m.update(&state.db).await?;
    Ok(with_before(ok(service::view(&state.db, saved).await?), &before))
}

/// Delete a menu
///
/// Deletes a menu; its children move to the top level (the original's `ON DELETE SET NULL`).
#[utoipa::path(
    delete,
    path = "/api/foundation/menus/{menu_id}",
    tag = "menus",
    params(("menu_id" = Uuid, Path, description = "The menu's id")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<NoData>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authorized<MenuManage>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    require_platform_admin(&caller, WHAT)?;
    let before = service::view(&state.db, service::find(&state.db, id).await?).await?;
    let txn = crm_common::db::begin_write(&state.db).await?;
    menu::Entity::update_many()
        .col_expr(menu::Column::ParentId, Expr::value(Option::<Uuid>::None))
        .filter(menu::Column::ParentId.eq(id))
        .exec(&txn)
        .await?;
    menu::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(with_before(ok(()), &before))
}

/// The menu tree
#[utoipa::path(
    get,
    path = "/api/foundation/menus/tree/list",
    tag = "menus",
    responses(
        (status = 200, description = "Active menus as a tree, in display order", body = Envelope<Vec<MenuNode>>),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn tree(State(state): State<AppState>, _: Authorized<MenuView>) -> ApiResult<Response> {
    Ok(ok(service::tree(&state.db).await?))
}

/// Set the permissions that open a menu
///
/// Platform administrators only.
#[utoipa::path(
    post,
    path = "/api/foundation/menus/{menu_id}/permissions/assign",
    tag = "menus",
    params(("menu_id" = Uuid, Path, description = "The menu's id")),
    request_body = AssignPermissions,
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
    caller: Authorized<MenuManage>,
    Path(id): Path<Uuid>,
    Json(body): Json<AssignPermissions>,
) -> ApiResult<Response> {
    require_platform_admin(&caller, WHAT)?;
    service::find(&state.db, id).await?;
    let txn = crm_common::db::begin_write(&state.db).await?;
    service::replace_permissions(&txn, id, &body.permission_ids).await?;
    txn.commit().await?;
    Ok(ok(()))
}

/// The caller's navigation
///
/// The caller's own navigation (`GET /menus/user`).
#[utoipa::path(
    get,
    path = "/api/foundation/menus/user",
    tag = "menus",
    responses(
        (status = 200, description = "The menus the caller's permissions open, as a tree", body = Envelope<Vec<AccessibleMenu>>),
    ),
    security(("bearer" = []))
)]
pub async fn mine(State(state): State<AppState>, caller: CurrentUser) -> ApiResult<Response> {
    Ok(ok(service::accessible(&state.db, &caller.permissions).await?))
}

/// A user's navigation
///
/// Another user's navigation: the caller asks about themself, or holds `menu.view` and can see
/// the user.
#[utoipa::path(
    get,
    path = "/api/foundation/menus/users/{user_id}/accessible",
    tag = "menus",
    params(("user_id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The menus the user's permissions open, as a tree", body = Envelope<Vec<AccessibleMenu>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn accessible(
    State(state): State<AppState>,
    caller: CurrentUser,
    Path(user_id): Path<Uuid>,
) -> ApiResult<Response> {
    if caller.user_id == user_id {
        return Ok(ok(service::accessible(&state.db, &caller.permissions).await?));
    }
    caller.require("menu.view")?;
    let target = users::find_visible(&state.db, &caller, user_id, false).await?;
    let access = crate::access::load(&state.db, target).await?;
    Ok(ok(service::accessible(&state.db, &access.permissions).await?))
}
