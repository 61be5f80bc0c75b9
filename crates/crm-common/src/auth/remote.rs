//! Identity in a service that is not foundation (DESIGN §12): the token is verified locally
//! against foundation's JWKS, then foundation says who the caller is now — roles, permissions,
//! memberships, and whether the account, its session and its organization are still allowed in —
//! through `GET /api/foundation/auth/principal`, called with the caller's own bearer token.
//!
//! The answer is cached per token and requested organization for `ttl` (30 s by default, the
//! same time foundation caches its own resolution), so a user locked in foundation is refused here
//! within that time, and a busy page costs foundation one call per token and half-minute. Refusals
//! are not cached. With foundation unreachable and nothing cached, the request is a 503.

use super::jwt::Claims;
use super::principal::{PermissionResolver, Principal, ResolveFuture};
use crate::api::ApiError;
use crate::cache::Cache;
use crate::http::peer::{Forward, PeerClient};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// foundation's path that answers the caller's standing.
pub const PRINCIPAL_PATH: &str = "/api/foundation/auth/principal";

/// The caller as foundation resolves it: what crosses the service boundary.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrincipalView {
    pub user_id: Uuid,
    pub organization_id: Uuid,
    pub primary_organization_id: Uuid,
    pub username: String,
    pub email: String,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
    pub is_platform_admin: bool,
}

impl From<&Principal> for PrincipalView {
    fn from(p: &Principal) -> Self {
        Self {
            user_id: p.user_id,
            organization_id: p.organization_id,
            primary_organization_id: p.primary_organization_id,
            username: p.username.clone(),
            email: p.email.clone(),
            roles: p.roles.clone(),
            permissions: p.permissions.iter().cloned().collect(),
            is_platform_admin: p.is_platform_admin,
        }
    }
}

impl From<PrincipalView> for Principal {
    fn from(v: PrincipalView) -> Self {
        Self {
            user_id: v.user_id,
            organization_id: v.organization_id,
            primary_organization_id: v.primary_organization_id,
            username: v.username,
            email: v.email,
            roles: v.roles,
            permissions: Arc::new(v.permissions.into_iter().collect()),
            is_platform_admin: v.is_platform_admin,
        }
    }
}

pub struct RemoteResolver {
    pub foundation: PeerClient,
    pub cache: Cache,
    pub ttl: Duration,
}

impl RemoteResolver {
    fn key(token: &str, organization: Option<Uuid>) -> String {
        let digest = Sha256::digest(token.as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("principal:{hex}:{}", organization.map(|o| o.to_string()).unwrap_or_default())
    }
}

impl PermissionResolver for RemoteResolver {
    fn resolve<'a>(&'a self, claims: &'a Claims, token: &'a str, organization: Option<Uuid>) -> ResolveFuture<'a> {
        Box::pin(async move {
            let key = Self::key(token, organization);
            if let Some(cached) = self.cache.get(&key).await
                && let Ok(view) = serde_json::from_str::<PrincipalView>(&cached)
                && view.user_id == claims.sub
            {
                return Ok(view.into());
            }
            let mut forward = Forward::bearer(token);
            forward.organization = organization.map(|o| o.to_string());
            let view: PrincipalView = self.foundation.get(PRINCIPAL_PATH, &forward).await?;
            if view.user_id != claims.sub {
                return Err(ApiError::unauthorized("invalid token"));
            }
            if let Ok(json) = serde_json::to_string(&view) {
                self.cache.set(&key, &json, self.ttl).await;
            }
            Ok(view.into())
        })
    }
}

/// The identity of a service that is not foundation, from its settings: tokens verified against
/// the JWKS at `jwks_url`, callers resolved by foundation through [`RemoteResolver`]. Also
/// returns the client of foundation it uses, for the service's other calls there (names).
pub fn remote_identity(
    peers: &crate::config::PeerSettings,
    jwks_url: &str,
    cache: &Cache,
) -> Result<(super::AuthContext, PeerClient), String> {
    let foundation = PeerClient::new("foundation", &peers.foundation_url, peers.timeouts())?;
    let settings = super::VerifierSettings {
        issuer: peers.jwt_issuer.clone(),
        audience: peers.jwt_audience.clone(),
        leeway_secs: 30,
    };
    let keys = super::KeySet::remote(jwks_url.to_owned(), peers.jwks_min_refresh);
    let resolver =
        Arc::new(RemoteResolver { foundation: foundation.clone(), cache: cache.clone(), ttl: peers.principal_cache });
    Ok((super::AuthContext { verifier: super::Verifier::new(keys, settings), resolver }, foundation))
}
