//! The login and refresh rules, and the session payload both return.

use super::password;
use super::sessions::{self, EndReason};
use super::tokens::{self, AccessGrant};
use crate::AppState;
use crate::access::{self, Access};
use crate::perm::legacy_permissions;
use crate::users::model::user;
use chrono::Utc;
use crm_common::{ApiError, ApiResult};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;
use std::net::IpAddr;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionUser {
    pub id: Uuid,
    pub username: String,
    pub email: String,
    pub display_name: Option<String>,
    pub primary_organization_id: Uuid,
    pub primary_organization_name: String,
    pub organization_ids: Vec<Uuid>,
    pub roles: Vec<String>,
    /// The original's role-derived list (`*:*`, `customer:read`, …) that its clients read.
    pub permissions: Vec<String>,
    /// Effective permission codes (`user.create`, …): what the API actually enforces.
    pub permission_codes: Vec<String>,
}

/// The login/refresh response: the token under the original's name and the conventional one.
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    pub token: String,
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds (the original used milliseconds; see docs/API-DESIGN.md).
    pub expires_in: i64,
    pub user: SessionUser,
}

pub fn session_user(access: &Access, org_id: Uuid, org_name: &str) -> SessionUser {
    let roles = access.role_codes();
    SessionUser {
        id: access.user.id,
        username: access.user.username.clone(),
        email: access.user.email.clone(),
        display_name: access.user.display_name.clone(),
        primary_organization_id: org_id,
        primary_organization_name: org_name.to_owned(),
        organization_ids: access.organization_ids.clone(),
        permissions: legacy_permissions(&roles),
        permission_codes: access.permissions.iter().cloned().collect(),
        roles,
    }
}

/// Where a login comes from, kept with its session for the user's list of sessions.
#[derive(Debug, Clone, Copy, Default)]
pub struct Origin<'a> {
    pub client_ip: Option<IpAddr>,
    pub user_agent: Option<&'a str>,
}

/// Opens a session for a user who passed every check and issues its first tokens.
pub async fn open_session(state: &AppState, access: &Access, origin: Origin<'_>) -> ApiResult<Session> {
    access.check_can_log_in()?;
    let sid = sessions::open(&state.db, access.user.id, origin.client_ip, origin.user_agent).await?;
    start_session(state, access, sid).await
}

/// Issues an access token naming session `sid` and a refresh token in its family.
pub async fn start_session(state: &AppState, access: &Access, sid: Uuid) -> ApiResult<Session> {
    let org = access.check_can_log_in()?;
    let roles = access.role_codes();
    let token = state.access_token(&AccessGrant {
        user_id: access.user.id,
        organization_id: org.id,
        roles: &roles,
        username: &access.user.username,
        email: &access.user.email,
        session_id: sid,
    })?;
    let refresh = tokens::create_refresh(&state.db, access.user.id, sid, state.config.refresh_ttl_secs).await?;
    Ok(Session {
        access_token: token.clone(),
        token,
        refresh_token: refresh,
        token_type: "bearer",
        expires_in: state.config.access_ttl_secs,
        user: session_user(access, org.id, &org.name),
    })
}

/// Finds the account by e-mail, or by username when that is unambiguous.
async fn find_account(state: &AppState, identifier: &str) -> ApiResult<Option<user::Model>> {
    let ident = identifier.trim();
    if ident.contains('@') {
        return Ok(user::Entity::find().filter(user::Column::Email.eq(ident.to_lowercase())).one(&state.db).await?);
    }
    let mut matches = user::Entity::find()
        .filter(user::Column::Username.eq(ident))
        .filter(user::Column::DeletedAt.is_null())
        .limit(2)
        .all(&state.db)
        .await?;
    Ok(if matches.len() == 1 { matches.pop() } else { None })
}

fn bad_credentials() -> ApiError {
    ApiError::unauthorized("invalid email or password")
}

/// Unknown account and wrong password take the same path and time and give the same answer.
pub async fn login(state: &AppState, identifier: &str, password: &str, origin: Origin<'_>) -> ApiResult<Session> {
    let ip = origin.client_ip;
    state.throttle.check(identifier, ip).await?;
    let account = find_account(state, identifier).await?;
    let matched = state.passwords.verify(account.as_ref().map(|u| u.password_hash.as_str()), password).await?;
    let Some(account) = account.filter(|_| matched) else {
        state.throttle.record_failure(identifier, ip).await;
        return Err(bad_credentials());
    };
    state.throttle.clear(identifier).await;
    let rehashed =
        if password::outdated(&account.password_hash) { current_hash(state, account.id, password).await } else { None };
    let access = access::load(&state.db, account).await?;
    let session = open_session(state, &access, origin).await?;
    let mut update = user::Entity::update_many().col_expr(user::Column::LastLoginAt, Expr::value(Utc::now()));
    if let Some(hash) = rehashed {
        update = update.col_expr(user::Column::PasswordHash, Expr::value(hash));
    }
    update.filter(user::Column::Id.eq(access.user.id)).exec(&state.db).await?;
    Ok(session)
}

/// A current hash of `password`, to replace a verified but outdated one (bcrypt from the original
/// system, or argon2 with other costs) in the login's own update. When hashing fails the login
/// goes on: the old hash still verifies, and the next login tries again.
async fn current_hash(state: &AppState, user_id: Uuid, password: &str) -> Option<String> {
    state
        .passwords
        .hash(password)
        .await
        .inspect_err(|err| tracing::warn!(%user_id, error = %err, "could not rehash an outdated password hash"))
        .ok()
}

/// Rotates the refresh token and re-checks the account: a locked user or organization cannot
/// refresh.
///
/// The family's session must still be live (an ended or idle one cannot be refreshed back to
/// life); refreshing counts as using it.
pub async fn refresh(state: &AppState, raw: &str) -> ApiResult<Session> {
    let row = tokens::current(&state.db, raw).await?;
    // Before rotating, so that of concurrent refreshes the winner is decided by the rotation alone.
    if let Err(err) = sessions::resume(&state.db, state.session_policy(), row.family_id, row.user_id).await {
        tokens::revoke_family(&state.db, row.family_id, EndReason::Idle).await?;
        return Err(err);
    }
    let user_id = row.user_id;
    let row = match tokens::rotate(&state.db, row).await {
        Ok(row) => row,
        Err(err) => {
            // A reused token revoked its family: its access tokens must stop now, too.
            crate::authz::invalidate_user(&state.cache, user_id).await;
            return Err(err);
        }
    };
    let account = user::Entity::find_by_id(row.user_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::unauthorized("invalid or expired refresh token"))?;
    let access = access::load(&state.db, account).await?;
    if let Err(err) = access.check_can_log_in() {
        tokens::revoke_family(&state.db, row.family_id, EndReason::Refused).await?;
        crate::authz::invalidate_user(&state.cache, row.user_id).await;
        return Err(err);
    }
    start_session(state, &access, row.family_id).await
}
