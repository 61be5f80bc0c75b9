use super::jwt::{Claims, JwtError, Verifier};
use crate::api::ApiError;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use std::collections::BTreeSet;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;
use uuid::Uuid;

/// Who is calling, resolved from a verified token by the service's [`PermissionResolver`].
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: Uuid,
    /// The organization this request acts in: `X-Organization-Id` when given and allowed, else the
    /// primary one.
    pub organization_id: Uuid,
    pub primary_organization_id: Uuid,
    pub username: String,
    pub email: String,
    pub roles: Vec<String>,
    pub permissions: Arc<BTreeSet<String>>,
    /// An ADMIN of the BANTU internal organization: may act across organizations.
    pub is_platform_admin: bool,
}

impl Principal {
    pub fn has(&self, code: &str) -> bool {
        has_permission(&self.permissions, code)
    }

    pub fn require(&self, code: &str) -> Result<(), ApiError> {
        if self.has(code) { Ok(()) } else { Err(forbidden(code)) }
    }

    pub fn has_role(&self, code: &str) -> bool {
        self.roles.iter().any(|r| r == code)
    }

    /// Whether records of `organization_id` are visible to this caller.
    pub fn can_access_org(&self, organization_id: Uuid) -> bool {
        self.is_platform_admin || self.organization_id == organization_id
    }

    /// The organization a list is scoped to: the caller's, unless a platform admin asked for
    /// another (or for all, with `None`).
    pub fn scope_org(&self, requested: Option<Uuid>) -> Result<Option<Uuid>, ApiError> {
        match requested {
            Some(org) if self.can_access_org(org) => Ok(Some(org)),
            Some(_) => Err(ApiError::not_found("organization")),
            None if self.is_platform_admin => Ok(None),
            None => Ok(Some(self.organization_id)),
        }
    }
}

/// Exact match, or a wildcard grant (`*`, `*:*`, `resource.*`).
pub fn has_permission(granted: &BTreeSet<String>, code: &str) -> bool {
    if granted.contains(code) || granted.contains("*") || granted.contains("*:*") {
        return true;
    }
    code.rsplit_once('.').is_some_and(|(resource, _)| granted.contains(&format!("{resource}.*")))
}

fn forbidden(code: &str) -> ApiError {
    ApiError::forbidden(format!("permission denied: {code}"))
}

pub type ResolveFuture<'a> = Pin<Box<dyn Future<Output = Result<Principal, ApiError>> + Send + 'a>>;

/// Turns verified claims into a [`Principal`]: the service decides how roles map to permissions
/// and whether the account is still allowed in (and caches that). `token` is the verified bearer
/// token itself, for resolvers that ask foundation on the caller's behalf.
pub trait PermissionResolver: Send + Sync {
    fn resolve<'a>(&'a self, claims: &'a Claims, token: &'a str, organization: Option<Uuid>) -> ResolveFuture<'a>;
}

pub struct AuthContext {
    pub verifier: Verifier,
    pub resolver: Arc<dyn PermissionResolver>,
}

/// Implemented by a service's state so the extractors can find its [`AuthContext`].
pub trait HasAuth {
    fn auth(&self) -> &AuthContext;
}

/// The authenticated caller. Taking it as a handler argument makes the route require a token.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Arc<Principal>);

impl Deref for CurrentUser {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.0
    }
}

/// The token of an `Authorization: Bearer …` header; 401 when absent or of another scheme.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Result<&str, ApiError> {
    // UTF-8 rather than `to_str`'s per-byte check: cheaper on a long header, and a token is only
    // ever compared with, or parsed as, base64url text afterwards.
    let value = headers
        .get(AUTHORIZATION)
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
        .ok_or_else(|| ApiError::unauthorized("authentication required"))?;
    let (scheme, token) =
        value.split_once(' ').ok_or_else(|| ApiError::unauthorized("invalid authorization header"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized("invalid authorization header"));
    }
    Ok(token.trim())
}

fn requested_org(parts: &Parts) -> Result<Option<Uuid>, ApiError> {
    let header = parts.headers.get("x-organization-id").or_else(|| parts.headers.get("organization-id"));
    match header.and_then(|v| v.to_str().ok()) {
        None => Ok(None),
        Some(v) => Uuid::parse_str(v.trim())
            .map(Some)
            .map_err(|_| ApiError::field("X-Organization-Id", "must be an organization id")),
    }
}

impl<S: HasAuth + Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if let Some(user) = parts.extensions.get::<CurrentUser>() {
            return Ok(user.clone());
        }
        let auth = state.auth();
        let token = bearer_token(&parts.headers)?;
        let claims = auth.verifier.verify(token).await.map_err(|err| match err {
            JwtError::Expired => ApiError::unauthorized("token expired"),
            _ => ApiError::unauthorized("invalid token"),
        })?;
        let org = requested_org(parts)?;
        let principal = auth.resolver.resolve(&claims, token, org).await?;
        let user = CurrentUser(Arc::new(principal));
        parts.extensions.insert(user.clone());
        if let Some(slot) = parts.extensions.get::<crate::http::audit::AuditSlot>() {
            slot.set(crate::contracts::AuditActor {
                user_id: Some(user.user_id),
                organization_id: Some(user.organization_id),
                user_name: Some(user.username.clone()),
            });
        }
        Ok(user)
    }
}

/// Code of a permission a route requires; declare with [`crate::permissions!`].
pub trait Permission {
    const CODE: &'static str;
}

/// The caller, proven to hold permission `P`.
pub struct Authorized<P: Permission>(pub CurrentUser, PhantomData<P>);

impl<P: Permission> Deref for Authorized<P> {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.0
    }
}

impl<P: Permission, S: HasAuth + Send + Sync> FromRequestParts<S> for Authorized<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        if !user.has(P::CODE) {
            return Err(forbidden(P::CODE));
        }
        Ok(Authorized(user, PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        let set: BTreeSet<String> = ["user.*".to_owned()].into();
        assert!(has_permission(&set, "user.create"));
        assert!(!has_permission(&set, "role.create"));
        let all: BTreeSet<String> = ["*".to_owned()].into();
        assert!(has_permission(&all, "anything.at.all"));
    }
}
