//! Resolves a verified token to a principal from the database, cached briefly. The snapshot is
//! keyed by a generation number that role, permission and organization changes bump, so such
//! changes apply to every session at once; a user's own changes delete their entry.

use crate::access;
use crate::users::model::user;
use crm_common::ApiError;
use crm_common::auth::{Claims, PermissionResolver, Principal, ResolveFuture};
use crm_common::cache::Cache;
use sea_orm::{DatabaseConnection, EntityTrait};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

const TTL: Duration = Duration::from_secs(30);
const GENERATION_KEY: &str = "authz:generation";

#[derive(Serialize, Deserialize)]
struct Snapshot {
    username: String,
    email: String,
    primary_org: Uuid,
    memberships: Vec<Uuid>,
    roles: Vec<String>,
    permissions: Vec<String>,
    platform_admin: bool,
}

pub struct Resolver {
    pub db: DatabaseConnection,
    pub cache: Cache,
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
    async fn snapshot(&self, user_id: Uuid) -> Result<Snapshot, ApiError> {
        let generation = generation(&self.cache).await;
        let cache_key = key(&generation, user_id);
        if let Some(cached) = self.cache.get(&cache_key).await
            && let Ok(snapshot) = serde_json::from_str(&cached)
        {
            return Ok(snapshot);
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
        };
        if let Ok(json) = serde_json::to_string(&snapshot) {
            self.cache.set(&cache_key, &json, TTL).await;
        }
        Ok(snapshot)
    }
}

impl PermissionResolver for Resolver {
    fn resolve<'a>(&'a self, claims: &'a Claims, _token: &'a str, organization: Option<Uuid>) -> ResolveFuture<'a> {
        Box::pin(async move {
            let s = self.snapshot(claims.sub).await?;
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
