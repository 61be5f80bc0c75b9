//! Account actions: lock, passwords, batch status changes and single role grants.

use super::dto::{BatchAction, BatchRequest, BatchResult, ChangePassword, ResetPassword, UserRole, UserView as View};
use super::model::{user, user_role};
use super::service;
use crate::AppState;
use crate::auth::sessions::EndReason;
use crate::auth::{password, tokens};
use crate::perm::{RoleAssign, UserLock, UserUpdate, UserView};
use crate::roles::model as role;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use crm_common::api::openapi::{BadRequest, Forbidden, NoData, NotFound};
use crm_common::api::{Envelope, Json, Path, ok};
use crm_common::auth::{Authorized, CurrentUser};
use crm_common::{ApiError, ApiResult};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

/// Lock a user
///
/// A locked user cannot log in, and their live tokens stop working at once.
#[utoipa::path(
    post,
    path = "/api/foundation/users/{user_id}/lock",
    tag = "users",
    params(("user_id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The locked user", body = Envelope<View>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn lock(
    State(state): State<AppState>,
    caller: Authorized<UserLock>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    set_locked(&state, &caller, id, true).await
}

/// Unlock a user
#[utoipa::path(
    post,
    path = "/api/foundation/users/{user_id}/unlock",
    tag = "users",
    params(("user_id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The unlocked user", body = Envelope<View>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn unlock(
    State(state): State<AppState>,
    caller: Authorized<UserLock>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    set_locked(&state, &caller, id, false).await
}

async fn set_locked(
    state: &AppState,
    caller: &crm_common::auth::Principal,
    id: Uuid,
    locked: bool,
) -> ApiResult<Response> {
    if caller.user_id == id {
        return Err(ApiError::bad_request("you cannot lock or unlock your own account"));
    }
    service::find_visible(&state.db, caller, id, false).await?;
    user::Entity::update_many()
        .col_expr(user::Column::IsLocked, Expr::value(locked))
        .col_expr(user::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(user::Column::Version, Expr::col(user::Column::Version).add(1))
        .filter(user::Column::Id.eq(id))
        .exec(&state.db)
        .await?;
    if locked {
        tokens::revoke_user(&state.db, id, EndReason::Locked).await?;
    }
    super::changed(state, id).await;
    let updated = service::find_visible(&state.db, caller, id, false).await?;
    Ok(ok(service::view(&state.db, updated).await?))
}

/// What `DELETE /users/{id}/sessions` did.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct EndedSessions {
    /// How many sessions were open.
    pub ended: u64,
}

/// End a user's sessions
///
/// Every session of the user ends: their access tokens are refused from then on (on every
/// replica within the principal cache time, 30 s) and their refresh tokens revoked. The account
/// itself stays as it is; the user can log in again.
#[utoipa::path(
    delete,
    path = "/api/foundation/users/{user_id}/sessions",
    tag = "users",
    params(("user_id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "How many sessions were ended", body = Envelope<EndedSessions>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn end_sessions(
    State(state): State<AppState>,
    caller: Authorized<UserLock>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    service::find_visible(&state.db, &caller, id, true).await?;
    let ended = tokens::revoke_user(&state.db, id, EndReason::Revoked).await?;
    super::changed(&state, id).await;
    Ok(ok(EndedSessions { ended }))
}

/// Reset a user's password
///
/// An administrator sets a new password; every session of the user ends.
#[utoipa::path(
    post,
    path = "/api/foundation/users/{user_id}/reset-password",
    tag = "users",
    params(("user_id" = Uuid, Path, description = "The user's id")),
    request_body = ResetPassword,
    responses(
        (status = 200, description = "Password set", body = Envelope<NoData>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn reset_password(
    State(state): State<AppState>,
    caller: Authorized<UserUpdate>,
    Path(id): Path<Uuid>,
    Json(body): Json<ResetPassword>,
) -> ApiResult<Response> {
    let target = service::find_visible(&state.db, &caller, id, false).await?;
    reset_to(&state, target.id, &body.new_password).await?;
    Ok(ok(()))
}

/// An administrator's reset: the new password must meet the policy; every session ends.
pub(crate) async fn reset_to(state: &AppState, id: Uuid, new_password: &str) -> ApiResult<()> {
    password::check_policy("new_password", new_password)?;
    let hash = state.passwords.hash(new_password).await?;
    store_password(state, id, hash).await
}

/// Change one's own password
///
/// Only for oneself, with the current password; every session ends.
#[utoipa::path(
    put,
    path = "/api/foundation/users/{user_id}/password",
    tag = "users",
    params(("user_id" = Uuid, Path, description = "The user's id")),
    request_body = ChangePassword,
    responses(
        (status = 200, description = "Password changed", body = Envelope<NoData>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn change_password(
    State(state): State<AppState>,
    caller: CurrentUser,
    Path(id): Path<Uuid>,
    Json(body): Json<ChangePassword>,
) -> ApiResult<Response> {
    if caller.user_id != id {
        return Err(ApiError::forbidden("you can only change your own password"));
    }
    let me = service::find_visible(&state.db, &caller, id, false).await?;
    if !state.passwords.verify(Some(&me.password_hash), &body.old_password).await? {
        return Err(ApiError::field("old_password", "the current password is wrong"));
    }
    password::check_policy("new_password", &body.new_password)?;
    if body.new_password == body.old_password {
        return Err(ApiError::field("new_password", "must differ from the current password"));
    }
    let hash = state.passwords.hash(&body.new_password).await?;
    store_password(&state, id, hash).await?;
    Ok(ok(()))
}

/// Saves a new hash and ends every existing session of the account.
async fn store_password(state: &AppState, id: Uuid, hash: String) -> ApiResult<()> {
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(user::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(user::Column::Id.eq(id))
        .exec(&state.db)
        .await?;
    tokens::revoke_user(&state.db, id, EndReason::Password).await?;
    super::changed(state, id).await;
    Ok(())
}

/// Activate, deactivate or delete many users
///
/// Activates, deactivates or deletes many users at once: all or none. Every id must be visible to
/// the caller, and the caller cannot deactivate or delete themself.
#[utoipa::path(
    post,
    path = "/api/foundation/users/batch",
    tag = "users",
    request_body = BatchRequest,
    responses(
        (status = 200, description = "What was done to how many", body = Envelope<BatchResult>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn batch(
    State(state): State<AppState>,
    caller: CurrentUser,
    Json(body): Json<BatchRequest>,
) -> ApiResult<Response> {
    let needed = if body.action == BatchAction::Delete { "user.delete" } else { "user.update" };
    caller.require(needed)?;
    let ids = service::dedup(&body.user_ids);
    if ids.is_empty() || ids.len() > 500 {
        return Err(ApiError::field("user_ids", "give between 1 and 500 user ids"));
    }
    if body.action != BatchAction::Activate && ids.contains(&caller.user_id) {
        return Err(ApiError::field("user_ids", "you cannot deactivate or delete your own account"));
    }
    let mut visible = user::Entity::find().filter(user::Column::Id.is_in(ids.clone()));
    if !caller.is_platform_admin {
        visible = visible.filter(user::Column::Id.in_subquery(service::members_of(caller.organization_id)));
    }
    if visible.count(&state.db).await? as usize != ids.len() {
        return Err(ApiError::not_found("one or more users"));
    }
    let now = Utc::now();
    let mut update = user::Entity::update_many()
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .col_expr(user::Column::Version, Expr::col(user::Column::Version).add(1))
        .col_expr(user::Column::IsActive, Expr::value(body.action == BatchAction::Activate));
    if body.action == BatchAction::Delete {
        update = update.col_expr(user::Column::DeletedAt, Expr::value(now));
    }
    let txn = crm_common::db::begin_write(&state.db).await?;
    let affected = update.filter(user::Column::Id.is_in(ids.clone())).exec(&txn).await?.rows_affected;
    if body.action != BatchAction::Activate {
        let reason = if body.action == BatchAction::Delete { EndReason::Deleted } else { EndReason::Deactivated };
        for id in &ids {
            tokens::revoke_user(&txn, *id, reason).await?;
        }
    }
    txn.commit().await?;
    for id in &ids {
        super::changed(&state, *id).await;
    }
    Ok(ok(BatchResult { action: body.action_name(), affected }))
}

/// Activate, deactivate or delete many users (the original's path)
///
/// The original's path for `POST /users/batch`.
#[utoipa::path(
    post,
    path = "/api/foundation/employees/batch",
    tag = "users",
    request_body = BatchRequest,
    responses(
        (status = 200, description = "What was done to how many", body = Envelope<BatchResult>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn batch_employees(
    state: State<AppState>,
    caller: CurrentUser,
    body: Json<BatchRequest>,
) -> ApiResult<Response> {
    batch(state, caller, body).await
}

impl BatchRequest {
    fn action_name(&self) -> &'static str {
        match self.action {
            BatchAction::Activate => "activate",
            BatchAction::Deactivate => "deactivate",
            BatchAction::Delete => "delete",
        }
    }
}

/// A user's roles
#[utoipa::path(
    get,
    path = "/api/foundation/users/{user_id}/roles",
    tag = "users",
    params(("user_id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The roles and when each was granted", body = Envelope<Vec<UserRole>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn roles(
    State(state): State<AppState>,
    caller: Authorized<UserView>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    service::find_visible(&state.db, &caller, id, false).await?;
    let links = user_role::Entity::find().filter(user_role::Column::UserId.eq(id)).all(&state.db).await?;
    let ids: Vec<Uuid> = links.iter().map(|l| l.role_id).collect();
    let roles = role::Entity::find().filter(role::Column::Id.is_in(ids)).all(&state.db).await?;
    let items: Vec<_> = links
        .iter()
        .filter_map(|l| {
            roles.iter().find(|r| r.id == l.role_id).map(|r| UserRole {
                id: r.id,
                code: r.code.clone(),
                name: r.name.clone(),
                assigned_at: l.created_at,
            })
        })
        .collect();
    Ok(ok(items))
}

/// Grant a role to a user
///
/// Idempotent single grant.
#[utoipa::path(
    post,
    path = "/api/foundation/users/{user_id}/roles/{role_id}",
    tag = "users",
    params(("user_id" = Uuid, Path, description = "The user's id"), ("role_id" = Uuid, Path, description = "The role's id")),
    responses(
        (status = 200, description = "Granted (or already held)", body = Envelope<NoData>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn grant_role(
    State(state): State<AppState>,
    caller: Authorized<RoleAssign>,
    Path((id, role_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    service::find_visible(&state.db, &caller, id, false).await?;
    service::ensure_roles_exist(&state.db, "role_ids", &[role_id]).await?;
    service::ensure_can_grant(&state.db, &caller, &[role_id]).await?;
    let exists = user_role::Entity::find_by_id((id, role_id)).one(&state.db).await?.is_some();
    if !exists {
        user_role::Entity::insert(user_role::ActiveModel {
            user_id: Set(id),
            role_id: Set(role_id),
            created_at: Set(Utc::now()),
        })
        .exec_without_returning(&state.db)
        .await?;
    }
    super::changed(&state, id).await;
    Ok(ok(()))
}

/// Revoke a role from a user
///
/// Idempotent single revoke; a user keeps at least one role.
#[utoipa::path(
    delete,
    path = "/api/foundation/users/{user_id}/roles/{role_id}",
    tag = "users",
    params(("user_id" = Uuid, Path, description = "The user's id"), ("role_id" = Uuid, Path, description = "The role's id")),
    responses(
        (status = 200, description = "Revoked (or not held)", body = Envelope<NoData>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn revoke_role(
    State(state): State<AppState>,
    caller: Authorized<RoleAssign>,
    Path((id, role_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    service::find_visible(&state.db, &caller, id, false).await?;
    service::ensure_can_grant(&state.db, &caller, &[role_id]).await?;
    let count = user_role::Entity::find().filter(user_role::Column::UserId.eq(id)).count(&state.db).await?;
    let has = user_role::Entity::find_by_id((id, role_id)).one(&state.db).await?.is_some();
    if has && count <= 1 {
        return Err(ApiError::bad_request("a user keeps at least one role"));
    }
    user_role::Entity::delete_by_id((id, role_id)).exec(&state.db).await?;
    super::changed(&state, id).await;
    Ok(ok(()))
}
