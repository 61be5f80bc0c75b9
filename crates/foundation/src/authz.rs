//! Resolves a verified token to a principal from the database, cached briefly. The snapshot is
//! keyed by a generation number that role, permission and organization changes bump, so such
//! changes apply to every session at once; a user's own changes delete their entry.
//!
//! The token's session (`sid`) is checked here too, so every route taking `CurrentUser` or
//! `Authorized<P>` — and `GET /auth/principal`, which the other services resolve their callers
//! through — refuses a token whose session has ended. The user's snapshot remembers the sessions
//! it has seen live and when they were last seen; ending a session forgets the user's snapshot,
//! so on this process (and on every replica sharing Redis) the token is refused at once, and
//! on replicas with their own in-process cache within [`TTL`].

use crate::access;
use crate::auth::sessions::{self, Policy};
use crate::users::model::user;
use crm_common::ApiError;
use crm_common::auth::{Claims, PermissionResolver, Principal, ResolveFuture};
use crm_common::cache::Cache;
use sea_orm::{DatabaseConnection, EntityTrait};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// How long a user's standing (and what it knows of their sessions) is cached: the longest a
/// change can take to reach a replica whose cache is its own.
pub const TTL: Duration = Duration::from_secs(30);
const GENERATION_KEY: &str = "authz:generation";
/// Sessions a snapshot remembers; beyond that the least recently seen are re-read when used.
const REMEMBERED_SESSIONS: usize = 16;
/// Tokens without a session (minted before sessions existed, or by a test holding the signing
/// key) cannot be ended early, so they are accepted only while they live no longer than access
/// tokens did then.
pub const SESSIONLESS_MAX_LIFETIME_SECS: i64 = 900;

#[derive(Serialize, Deserialize)]
struct Snapshot {
    username: String,
    email: String,
    primary_org: Uuid,
    memberships: Vec<Uuid>,
    roles: Vec<String>,
    permissions: Vec<String>,
    platform_admin: bool,
    /// When it was read from the database (unix seconds): a write-back never extends its life.
    #[serde(default)]
    loaded_at: i64,
    /// Sessions found live, with their last-seen time (unix seconds).
    #[serde(default)]
    sessions: Vec<(Uuid, i64)>,
}

pub struct Resolver {
    pub db: DatabaseConnection,
    pub cache: Cache,
    pub sessions: Policy,
}

async fn generation(cache: &Cache) -> String {
    cache.get(GENERATION_KEY).await.unwrap_or_else(|| "0".into())
}

fn key(generation: &str, user_id: Uuid) -> String {
    format!("authz:{generation}:{user_id}")
}

/// Forget one user's cached standing (their roles, status or memberships changed).
pub async fn invalidate_user(cache: &Cache, user_id: Uuid) {
    let generation = generation(cache).await;
    cache.delete(&key(&generation, user_id)).await;
}

/// Forget everyone's cached standing (a role's grants or an organization's status changed).
pub async fn invalidate_all(cache: &Cache) {
    cache.incr(GENERATION_KEY, Duration::from_secs(30 * 24 * 3600)).await;
}

impl Resolver {
    /// The user's standing and the key it is cached under.
    async fn snapshot(&self, user_id: Uuid) -> Result<(Snapshot, String), ApiError> {
        let generation = generation(&self.cache).await;
        let cache_key = key(&generation, user_id);
        if let Some(cached) = self.cache.get(&cache_key).await
            && let Ok(snapshot) = serde_json::from_str(&cached)
        {
            return Ok((snapshot, cache_key));
        }
        let disabled = || ApiError::unauthorized("account disabled");
        let user = user::Entity::find_by_id(user_id).one(&self.db).await?.ok_or_else(disabled)?;
        let access = access::load(&self.db, user).await?;
        let org = access.check_can_log_in().map_err(|_| disabled())?;
        let snapshot = Snapshot {
            username: access.user.username.clone(),
            email: access.user.email.clone(),
            primary_org: org.id,
            memberships: access.organization_ids.clone(),
            roles: access.role_codes(),
            permissions: access.permissions.iter().cloned().collect(),
            platform_admin: access.is_platform_admin(),
            loaded_at: chrono::Utc::now().timestamp(),
            sessions: Vec::new(),
        };
        if let Ok(json) = serde_json::to_string(&snapshot) {
            self.cache.set(&cache_key, &json, TTL).await;
        }
        Ok((snapshot, cache_key))
    }

    /// Refuses a token whose session has ended or gone idle. A session the snapshot saw live less
    /// than a touch interval ago costs nothing; otherwise one read (and at most once a minute a
    /// `last_seen_at` write), remembered in the snapshot.
    async fn check_session(&self, snapshot: &mut Snapshot, cache_key: &str, claims: &Claims) -> Result<(), ApiError> {
        let Some(sid) = claims.sid else {
            return if claims.exp - claims.iat <= SESSIONLESS_MAX_LIFETIME_SECS {
                Ok(())
            } else {
                Err(ApiError::unauthorized("invalid token"))
            };
        };
        let now = chrono::Utc::now().timestamp();
        let fresh = self.sessions.touch_secs();
        if snapshot.sessions.iter().any(|&(id, seen)| id == sid && now - seen < fresh) {
            return Ok(());
        }
        let seen = sessions::check(&self.db, self.sessions, sid, claims.sub).await?;
        snapshot.sessions.retain(|&(id, _)| id != sid);
        snapshot.sessions.push((sid, seen));
        if snapshot.sessions.len() > REMEMBERED_SESSIONS {
            snapshot.sessions.sort_by_key(|&(_, seen)| std::cmp::Reverse(seen));
            snapshot.sessions.truncate(REMEMBERED_SESSIONS);
        }
        let left = TTL.as_secs().saturating_sub(u64::try_from(now - snapshot.loaded_at).unwrap_or(u64::MAX));
        if left > 0
            && let Ok(json) = serde_json::to_string(&*snapshot)
        {
            self.cache.set(cache_key, &json, Duration::from_secs(left)).await;
        }
        Ok(())
    }
}

impl PermissionResolver for Resolver {
    fn resolve<'a>(&'a self, claims: &'a Claims, _token: &'a str, organization: Option<Uuid>) -> ResolveFuture<'a> {
        Box::pin(async move {
            let (mut s, cache_key) = self.snapshot(claims.sub).await?;
            self.check_session(&mut s, &cache_key, claims).await?;
            let organization_id = match organization {
                None => s.primary_org,
                Some(org) if s.platform_admin || s.memberships.contains(&org) => org,
                Some(_) => return Err(ApiError::forbidden("not a member of this organization")),
            };
            Ok(Principal {
                user_id: claims.sub,
                organization_id,
                primary_organization_id: s.primary_org,
                username: s.username,
                email: s.email,
                roles: s.roles,
                permissions: Arc::new(s.permissions.into_iter().collect()),
                is_platform_admin: s.platform_admin,
            })
        })
    }
}
