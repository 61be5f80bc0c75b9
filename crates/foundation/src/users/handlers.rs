use super::dto::{CreateUser, GENDERS, ListUsers, UpdateUser, UserDetail};
use super::model::user;
use super::service::{self, NewAccount};
use crate::AppState;
use crate::auth::password;
use crate::auth::sessions::EndReason;
use crate::organizations::service as orgs;
use crate::perm::{UserCreate, UserDelete, UserList, UserView};
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound};
use crm_common::api::validate::Validator;
use crm_common::api::{Envelope, Json, PageParams, Path, Query, RecordsPage, ok};
use crm_common::auth::{Authorized, CurrentUser};
use crm_common::http::audit::with_before;
use crm_common::{ApiError, ApiResult};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use uuid::Uuid;

/// Create a user
///
/// The account joins `organization_id` as a member with `role_ids`.
#[utoipa::path(
    post,
    path = "/api/foundation/users",
    tag = "users",
    request_body = CreateUser,
    responses(
        (status = 200, description = "The new user", body = Envelope<super::dto::UserView>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<UserCreate>,
    Json(body): Json<CreateUser>,
) -> ApiResult<Response> {
    let mut v = Validator::new();
    v.email("email", &body.email)
        .check(!body.role_ids.is_empty(), "role_ids", "at least one role is required")
        .optional_length("username", body.username.as_deref(), 50)
        .optional_length("display_name", body.display_name.as_deref(), 100)
        .optional_length("phone", body.phone.as_deref(), 50)
        .one_of("gender", body.gender.as_deref(), GENDERS);
    if let Some(name) = &body.username {
        v.length("username", name, 1, 50);
    }
    v.finish()?;
    password::check_policy("password", &body.password)?;
    let org = orgs::find_visible(&state.db, &caller, body.organization_id).await?;
    orgs::ensure_open(&org)?;
    service::ensure_roles_exist(&state.db, "role_ids", &body.role_ids).await?;
    service::ensure_can_grant(&state.db, &caller, &body.role_ids).await?;
    let password_hash = state.passwords.hash(&body.password).await?;
    let username = body.username.map(|u| u.trim().to_owned()).unwrap_or_else(|| service::default_username(&body.email));
    let txn = crm_common::db::begin_write(&state.db).await?;
    let created = service::insert_account(
        &txn,
        NewAccount {
            email: body.email,
            username,
            password_hash,
            display_name: body.display_name,
            phone: body.phone,
            gender: body.gender,
            organization_id: org.id,
            role_ids: body.role_ids,
            is_manager: false,
            position: None,
            position_id: None,
            is_active: true,
            created_by: Some(caller.user_id),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(ok(service::view(&state.db, created).await?))
}

/// List users
///
/// Newest first; the caller's organization's members unless a platform administrator asks for
/// another organization or for all.
#[utoipa::path(
    get,
    path = "/api/foundation/users",
    tag = "users",
    params(ListUsers),
    responses(
        (status = 200, description = "A page of users", body = Envelope<RecordsPage<super::dto::UserView>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Authorized<UserList>,
    Query(q): Query<ListUsers>,
) -> ApiResult<Response> {
    let (page, size) =
        PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(10, super::dto::MAX_PAGE_SIZE)?;
    let scope = caller.scope_org(q.organization_id)?;
    let mut query = user::Entity::find();
    if let Some(org) = scope {
        query = query.filter(user::Column::Id.in_subquery(service::members_of(org)));
    }
    if let Some(email) = q.email.as_deref().filter(|e| !e.is_empty()) {
        query = query.filter(user::Column::Email.eq(email.trim().to_lowercase()));
    }
    if let Some(username) = q.username.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        query = query.filter(crm_common::db::contains_ci(user::Column::Username, username));
    }
    if let Some(search) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        query = query.filter(service::matching(search));
    }
    if let Some(active) = q.is_active {
        query = query.filter(user::Column::IsActive.eq(active));
    }
    if let Some(locked) = q.is_locked {
        query = query.filter(user::Column::IsLocked.eq(locked));
    }
    if let Some(role_id) = q.role_id {
        query = query.filter(user::Column::Id.in_subquery(service::holders_of(role_id)));
    }
    if !q.include_deleted {
        query = query.filter(user::Column::DeletedAt.is_null());
    }
    let paginator =
        query.order_by_desc(user::Column::CreatedAt).order_by_desc(user::Column::Id).paginate(&state.db, size);
    let total = paginator.num_items().await?;
    let users = paginator.fetch_page(page - 1).await?;
    let records = service::views(&state.db, users).await?;
    Ok(ok(RecordsPage::new(records, total, page, size)))
}

/// Get a user
#[utoipa::path(
    get,
    path = "/api/foundation/users/{user_id}",
    tag = "users",
    params(("user_id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user and their work-log figures", body = Envelope<UserDetail>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Authorized<UserView>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    // Three statements: the user with its primary organization, its roles, its work-log figures.
    let found = service::find_visible_with_primary(&state.db, &caller, id).await?;
    let user = service::views_with(&state.db, vec![found]).await?.pop().ok_or_else(|| ApiError::not_found("user"))?;
    Ok(ok(UserDetail { user, work_logs: crate::worklogs::service::stats(&state.db, id).await? }))
}

/// Update a user
///
/// A stale `version` answers 409 with the user as it now is.
#[utoipa::path(
    put,
    path = "/api/foundation/users/{user_id}",
    tag = "users",
    params(("user_id" = Uuid, Path, description = "The user's id")),
    request_body = UpdateUser,
    responses(
        (status = 200, description = "The updated user", body = Envelope<super::dto::UserView>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    caller: CurrentUser,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateUser>,
) -> ApiResult<Response> {
    let found = service::find_visible(&state.db, &caller, id, false).await?;
    let is_self = caller.user_id == id;
    let admin = caller.has("user.update");
    if !admin && (!is_self || body.touches_admin_fields()) {
        return Err(ApiError::forbidden("permission denied: user.update"));
    }
    if is_self && body.is_active == Some(false) {
        return Err(ApiError::field("is_active", "you cannot deactivate your own account"));
    }
    let mut v = Validator::new();
    if let Some(email) = &body.email {
        v.email("email", email);
    }
    v.one_of("gender", body.gender.as_deref(), GENDERS)
        .optional_length("display_name", body.display_name.as_deref(), 100)
        .optional_length("phone", body.phone.as_deref(), 50)
        .optional_length("contact_phone", body.contact_phone.as_deref(), 50)
        .optional_length("whatsapp", body.whatsapp.as_deref(), 50)
        .optional_length("wechat", body.wechat.as_deref(), 50)
        .optional_length("avatar_url", body.avatar_url.as_deref(), 500)
        .optional_length("bio", body.bio.as_deref(), 2000)
        .optional_length("address", body.address.as_deref(), 500);
    if let Some(roles) = &body.role_ids {
        v.check(!roles.is_empty(), "role_ids", "at least one role is required");
    }
    v.finish()?;
    if let Some(email) = &body.email
        && service::email_taken(&state.db, email, Some(id)).await?
    {
        return Err(ApiError::conflict("e-mail already exists"));
    }
    if let Some(roles) = &body.role_ids {
        service::ensure_roles_exist(&state.db, "role_ids", roles).await?;
        service::ensure_can_grant(&state.db, &caller, roles).await?;
    }
    let expected = body.version.unwrap_or(found.version);
    if expected != found.version {
        return Err(stale(&state, found).await);
    }
    let before = service::view(&state.db, found.clone()).await?;
    let txn = crm_common::db::begin_write(&state.db).await?;
    let mut active = found.clone().into_active_model();
    let set = crate::patch::set_text;
    set(&mut active.phone, body.phone);
    set(&mut active.display_name, body.display_name);
    set(&mut active.avatar_url, body.avatar_url);
    set(&mut active.bio, body.bio);
    set(&mut active.gender, body.gender);
    set(&mut active.address, body.address);
    set(&mut active.contact_phone, body.contact_phone);
    set(&mut active.whatsapp, body.whatsapp);
    set(&mut active.wechat, body.wechat);
    if let Some(email) = body.email {
        active.email = Set(email.trim().to_lowercase());
    }
    if let Some(is_active) = body.is_active {
        active.is_active = Set(is_active);
    }
    active.updated_at = Set(Utc::now());
    active.version = Set(found.version + 1);
    // The version condition makes a concurrent update lose cleanly instead of overwriting.
    let result = user::Entity::update_many()
        .set(active)
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::Version.eq(found.version))
        .exec(&txn)
        .await?;
    if result.rows_affected != 1 {
        txn.rollback().await?;
        let current = service::find_visible(&state.db, &caller, id, true).await?;
        return Err(stale(&state, current).await);
    }
    if let Some(roles) = &body.role_ids {
        service::replace_roles(&txn, id, roles).await?;
    }
    txn.commit().await?;
    if body.is_active == Some(false) {
        crate::auth::tokens::revoke_user(&state.db, id, EndReason::Deactivated).await?;
    }
    super::changed(&state, id).await;
    let updated = user::Entity::find_by_id(id).one(&state.db).await?.ok_or_else(|| ApiError::not_found("user"))?;
    Ok(with_before(ok(service::view(&state.db, updated).await?), &before))
}

async fn stale(state: &AppState, current: user::Model) -> ApiError {
    let current = service::view(&state.db, current).await.ok().and_then(|v| serde_json::to_value(v).ok());
    ApiError::Conflict { message: "the user was changed by someone else; reload and retry".into(), current }
}

/// Delete a user
///
/// A soft delete: the account can no longer log in, and `PUT /users/{id}/restore` brings it back.
#[utoipa::path(
    delete,
    path = "/api/foundation/users/{user_id}",
    tag = "users",
    params(("user_id" = Uuid, Path, description = "The user's id")),
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
    caller: Authorized<UserDelete>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    if caller.user_id == id {
        return Err(ApiError::bad_request("you cannot delete your own account"));
    }
    let found = service::find_visible(&state.db, &caller, id, false).await?;
    let before = service::view(&state.db, found.clone()).await?;
    set_deleted(&state, found, true).await?;
    Ok(with_before(ok(()), &before))
}

/// Restore a deleted user
#[utoipa::path(
    put,
    path = "/api/foundation/users/{user_id}/restore",
    tag = "users",
    params(("user_id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The restored user", body = Envelope<super::dto::UserView>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn restore(
    State(state): State<AppState>,
    caller: Authorized<UserDelete>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let found = service::find_visible(&state.db, &caller, id, true).await?;
    let before = service::view(&state.db, found.clone()).await?;
    let restored = set_deleted(&state, found, false).await?;
    Ok(with_before(ok(service::view(&state.db, restored).await?), &before))
}

/// Soft delete keeps roles and memberships; restore re-activates the account.
pub(crate) async fn set_deleted(state: &AppState, found: user::Model, deleted: bool) -> ApiResult<user::Model> {
    let id = found.id;
    let version = found.version;
    let mut active = found.into_active_model();
    active.deleted_at = Set(deleted.then(Utc::now));
    active.is_active = Set(!deleted);
    active.updated_at = Set(Utc::now());
    active.version = Set(version + 1);
    let saved = active.update(&state.db).await?;
    if deleted {
        crate::auth::tokens::revoke_user(&state.db, id, EndReason::Deleted).await?;
    }
    super::changed(state, id).await;
    Ok(saved)
}
