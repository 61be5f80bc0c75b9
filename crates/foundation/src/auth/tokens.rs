//! Access tokens (EdDSA JWTs naming their session) and refresh tokens (opaque, stored hashed,
//! rotated on every use; presenting a rotated one revokes its whole family). A refresh-token
//! family is a session: revoking one ends the other ([`super::sessions`]).

use super::model as refresh;
use super::sessions::{self, EndReason};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{Duration, Utc};
use crm_common::ApiError;
use crm_common::auth::{Claims, Signer, TokenType};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub struct AccessGrant<'a> {
    pub user_id: Uuid,
    pub organization_id: Uuid,
    pub roles: &'a [String],
    pub username: &'a str,
    pub email: &'a str,
    /// The session the token belongs to.
    pub session_id: Uuid,
}

pub fn issue_access(
    signer: &Signer,
    iss: &str,
    aud: &str,
    ttl_secs: i64,
    grant: &AccessGrant<'_>,
) -> Result<String, ApiError> {
    let now = Utc::now().timestamp();
    let claims = Claims {
        iss: iss.to_owned(),
        aud: aud.to_owned(),
        sub: grant.user_id,
        exp: now + ttl_secs,
        nbf: now,
        iat: now,
        jti: Uuid::now_v7(),
        typ: TokenType::Access,
        organization_id: grant.organization_id,
        roles: grant.roles.to_vec(),
        username: grant.username.to_owned(),
        email: grant.email.to_owned(),
        user_id: Some(grant.user_id),
        primary_organization_id: Some(grant.organization_id),
        sid: Some(grant.session_id),
    };
    signer.sign(&claims).map_err(ApiError::internal)
}

fn hash(raw: &str) -> String {
    let digest = Sha256::digest(raw.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Stores a new refresh token in `family` and returns its raw value (shown to the client once).
pub async fn create_refresh(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    family_id: Uuid,
    ttl_secs: i64,
) -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let raw = format!("rt_{}", B64.encode(bytes));
    let now = Utc::now();
    refresh::Entity::insert(refresh::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        family_id: Set(family_id),
        token_hash: Set(hash(&raw)),
        expires_at: Set(now + Duration::seconds(ttl_secs)),
        rotated_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    Ok(raw)
}

fn invalid() -> ApiError {
    ApiError::unauthorized("invalid or expired refresh token")
}

/// The stored row of `raw`, whatever its state.
pub async fn find(db: &impl ConnectionTrait, raw: &str) -> Result<Option<refresh::Model>, ApiError> {
    if !raw.starts_with("rt_") || raw.len() > 128 {
        return Ok(None);
    }
    Ok(refresh::Entity::find().filter(refresh::Column::TokenHash.eq(hash(raw))).one(db).await?)
}

/// The row of `raw` if it is neither revoked nor expired (it may have been used already).
pub async fn current(db: &impl ConnectionTrait, raw: &str) -> Result<refresh::Model, ApiError> {
    let row = find(db, raw).await?.ok_or_else(invalid)?;
    if row.revoked_at.is_some() || row.expires_at <= Utc::now() {
        return Err(invalid());
    }
    Ok(row)
}

/// Marks `row` (from [`current`]) as used. Exactly one of any number of concurrent callers wins
/// (a conditional UPDATE); every other presentation of a used token revokes the family.
pub async fn rotate(db: &impl ConnectionTrait, row: refresh::Model) -> Result<refresh::Model, ApiError> {
    let won = if row.rotated_at.is_none() {
        refresh::Entity::update_many()
            .col_expr(refresh::Column::RotatedAt, Expr::value(Utc::now()))
            .filter(refresh::Column::Id.eq(row.id))
            .filter(refresh::Column::RotatedAt.is_null())
            .filter(refresh::Column::RevokedAt.is_null())
            .exec(db)
            .await?
            .rows_affected
            == 1
    } else {
        false
    };
    if !won {
        tracing::warn!(user_id = %row.user_id, family_id = %row.family_id, "refresh token reuse; revoking family");
        revoke_family(db, row.family_id, EndReason::Reuse).await?;
        return Err(invalid());
    }
    Ok(row)
}

/// Ends the session `family_id` and revokes its refresh tokens. The caller forgets the user's
/// cached standing ([`crate::authz::invalidate_user`]) so that its access tokens stop at once.
pub async fn revoke_family(db: &impl ConnectionTrait, family_id: Uuid, reason: EndReason) -> Result<(), ApiError> {
    sessions::end(db, family_id, reason).await?;
    refresh::Entity::update_many()
        .col_expr(refresh::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh::Column::FamilyId.eq(family_id))
        .filter(refresh::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Ends every session of a user (password change or reset, lock, deactivation, delete, an
/// administrator) and revokes their refresh tokens; how many sessions were open. The caller
/// forgets the user's cached standing ([`crate::authz::invalidate_user`]).
pub async fn revoke_user(db: &impl ConnectionTrait, user_id: Uuid, reason: EndReason) -> Result<u64, ApiError> {
    let ended = sessions::end_all(db, user_id, reason).await?;
    refresh::Entity::update_many()
        .col_expr(refresh::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh::Column::UserId.eq(user_id))
        .filter(refresh::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(ended)
}

/// The family of `raw` if it belongs to `user_id` (logout).
pub async fn family_of(db: &impl ConnectionTrait, raw: &str, user_id: Uuid) -> Result<Option<Uuid>, ApiError> {
    let row = refresh::Entity::find().filter(refresh::Column::TokenHash.eq(hash(raw))).one(db).await?;
    Ok(row.filter(|r| r.user_id == user_id).map(|r| r.family_id))
}
