//! Server-side sessions. A login opens one; every access token names it (`sid`), and its refresh
//! tokens form the family with the same id. Because principal resolution checks the session on
//! every request (cached like the rest of the principal, [`crate::authz`]), a session ended here —
//! logout, password change or reset, lock, deactivation, delete, refresh-token reuse, an
//! administrator, or nobody using it for `CRM_SESSION_IDLE_SECS` — stops its access tokens within
//! that cache time, however long they have left. That is what lets access tokens live a working
//! day: the frontend that never refreshes stays logged in, and revocation does not wait for expiry.

use chrono::{DateTime, Duration, Utc};
use crm_common::{ApiError, ApiResult};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use std::net::IpAddr;
use utoipa::ToSchema;
use uuid::Uuid;

pub mod model {
    //! The `sessions` table.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "sessions")]
    pub struct Model {
        /// The `sid` claim, and the family id of the session's refresh tokens.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub user_id: Uuid,
        pub client_ip: Option<String>,
        pub user_agent: Option<String>,
        pub created_at: DateTimeUtc,
        /// Updated at most once per [`super::Policy::touch_secs`], not on every request.
        pub last_seen_at: DateTimeUtc,
        pub ended_at: Option<DateTimeUtc>,
        pub end_reason: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use model as session;

/// Why a session ended; stored with it, for whoever reads the table later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    Logout,
    /// The user ended it from their list of sessions.
    Ended,
    /// An administrator ended the user's sessions.
    Revoked,
    Password,
    Locked,
    Deactivated,
    Deleted,
    /// A rotated refresh token was presented again.
    Reuse,
    /// The account or its organization may no longer log in.
    Refused,
    Idle,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::Ended => "ended",
            Self::Revoked => "revoked",
            Self::Password => "password",
            Self::Locked => "locked",
            Self::Deactivated => "deactivated",
            Self::Deleted => "deleted",
            Self::Reuse => "reuse",
            Self::Refused => "refused",
            Self::Idle => "idle",
        }
    }
}

/// How long an unused session lives.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub idle_secs: i64,
}

impl Policy {
    /// How often a session's `last_seen_at` is written: once a minute, or more often when the
    /// idle timeout is that short (tests), so that a session in use never looks idle.
    pub fn touch_secs(&self) -> i64 {
        (self.idle_secs / 2).clamp(1, 60)
    }
}

/// Longest stored user agent; longer ones are cut (at a character boundary).
const MAX_USER_AGENT: usize = 500;

fn clip(agent: &str) -> String {
    agent
        .chars()
        .scan(0, |len, c| {
            *len += c.len_utf8();
            (*len <= MAX_USER_AGENT).then_some(c)
        })
        .collect()
}

/// Opens a session for a user who just proved who they are; returns its id.
pub async fn open(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    client_ip: Option<IpAddr>,
    user_agent: Option<&str>,
) -> ApiResult<Uuid> {
    let id = Uuid::now_v7();
    insert(db, id, user_id, client_ip, user_agent).await?;
    Ok(id)
}

async fn insert(
    db: &impl ConnectionTrait,
    id: Uuid,
    user_id: Uuid,
    client_ip: Option<IpAddr>,
    user_agent: Option<&str>,
) -> ApiResult<()> {
    let now = Utc::now();
    session::Entity::insert(session::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        client_ip: Set(client_ip.map(|ip| ip.to_string())),
        user_agent: Set(user_agent.map(clip).filter(|a| !a.is_empty())),
        created_at: Set(now),
        last_seen_at: Set(now),
        ended_at: Set(None),
        end_reason: Set(None),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

fn ended() -> ApiError {
    ApiError::unauthorized("session ended")
}

/// Whether `sid` is a live session of `user_id`, as of `now`: its last-seen time (unix seconds),
/// freshly written when it was older than the touch interval. An ended, foreign or unknown
/// session is a 401; an idle one is ended here and is a 401 too.
pub async fn check(db: &impl ConnectionTrait, policy: Policy, sid: Uuid, user_id: Uuid) -> ApiResult<i64> {
    let row = session::Entity::find_by_id(sid).one(db).await?.filter(|s| s.user_id == user_id).ok_or_else(ended)?;
    live(db, policy, row).await
}

async fn live(db: &impl ConnectionTrait, policy: Policy, row: session::Model) -> ApiResult<i64> {
    if row.ended_at.is_some() {
        return Err(ended());
    }
    let now = Utc::now();
    let idle = (now - row.last_seen_at).num_seconds();
    if idle >= policy.idle_secs {
        end(db, row.id, EndReason::Idle).await?;
        return Err(ApiError::unauthorized("session expired"));
    }
    if idle < policy.touch_secs() {
        return Ok(row.last_seen_at.timestamp());
    }
    // Conditional, so that a session ended meanwhile is not revived.
    let touched = session::Entity::update_many()
        .col_expr(session::Column::LastSeenAt, Expr::value(now))
        .filter(session::Column::Id.eq(row.id))
        .filter(session::Column::EndedAt.is_null())
        .exec(db)
        .await?
        .rows_affected;
    if touched == 1 { Ok(now.timestamp()) } else { Err(ended()) }
}

/// The refresh path: the session of refresh-token family `sid` must be live (and counts as used).
/// A family issued before sessions existed has no session yet; it gets one with its id.
pub async fn resume(db: &impl ConnectionTrait, policy: Policy, sid: Uuid, user_id: Uuid) -> ApiResult<()> {
    match session::Entity::find_by_id(sid).one(db).await? {
        Some(row) if row.user_id == user_id => live(db, policy, row).await.map(drop),
        Some(_) => Err(ended()),
        None => insert(db, sid, user_id, None, None).await,
    }
}

/// Ends one session; `false` when it was not open.
pub async fn end(db: &impl ConnectionTrait, sid: Uuid, reason: EndReason) -> ApiResult<bool> {
    let n = session::Entity::update_many()
        .col_expr(session::Column::EndedAt, Expr::value(Utc::now()))
        .col_expr(session::Column::EndReason, Expr::value(reason.as_str()))
        .filter(session::Column::Id.eq(sid))
        .filter(session::Column::EndedAt.is_null())
        .exec(db)
        .await?
        .rows_affected;
    Ok(n == 1)
}

/// Ends every open session of a user; how many there were.
pub async fn end_all(db: &impl ConnectionTrait, user_id: Uuid, reason: EndReason) -> ApiResult<u64> {
    let n = session::Entity::update_many()
        .col_expr(session::Column::EndedAt, Expr::value(Utc::now()))
        .col_expr(session::Column::EndReason, Expr::value(reason.as_str()))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::EndedAt.is_null())
        .exec(db)
        .await?
        .rows_affected;
    Ok(n)
}

/// A session as its owner sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    /// When it was last used, to within a minute.
    pub last_seen_at: DateTime<Utc>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    /// The session of the token this request carries.
    pub current: bool,
}

/// A user's open sessions, most recently used first (idle ones no longer count as open).
pub async fn list(
    db: &impl ConnectionTrait,
    policy: Policy,
    user_id: Uuid,
    current: Option<Uuid>,
) -> ApiResult<Vec<SessionView>> {
    let cutoff = Utc::now() - Duration::seconds(policy.idle_secs);
    let rows = session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::EndedAt.is_null())
        .filter(session::Column::LastSeenAt.gt(cutoff))
        .order_by_desc(session::Column::LastSeenAt)
        .order_by_desc(session::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|s| SessionView {
            current: Some(s.id) == current,
            id: s.id,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            client_ip: s.client_ip,
            user_agent: s.user_agent,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_seen_is_written_at_most_once_a_minute_and_well_within_the_idle_timeout() {
        assert_eq!(Policy { idle_secs: 4 * 3600 }.touch_secs(), 60);
        assert_eq!(Policy { idle_secs: 30 }.touch_secs(), 15);
        assert_eq!(Policy { idle_secs: 1 }.touch_secs(), 1);
    }

    #[test]
    fn long_user_agents_are_cut_at_a_character_boundary() {
        let agent = "é".repeat(400);
        let cut = clip(&agent);
        assert!(cut.len() <= MAX_USER_AGENT);
        assert_eq!(cut.chars().count(), MAX_USER_AGENT / 2);
        assert_eq!(clip("curl/8"), "curl/8");
    }
}
