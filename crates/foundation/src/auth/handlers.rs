use super::login::{Origin, Session};
use super::sessions::{self, EndReason, SessionView};
use super::{login, password, tokens};
use crate::AppState;
use crate::organizations::model::organization;
use crate::users::dto::{RoleRef, UserProfile};
use crate::users::model::user;
use crate::users::service::{self as users, NewAccount};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound, TooManyRequests, Unavailable};
use crm_common::api::validate::Validator;
use crm_common::api::{Envelope, Json, Path, ok, parse_json};
use crm_common::auth::{CurrentUser, Jwks, bearer_token};
use crm_common::contracts::AuditActor;
use crm_common::http::ClientIp;
use crm_common::{ApiError, ApiResult};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// `email`, or `username` when it names one account only.
#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: Option<String>,
    pub username: Option<String>,
    pub password: String,
}

/// Log in
///
/// An unknown account and a wrong password get the same 401 in similar time; repeated failures
/// per account or per client address answer 429.
#[utoipa::path(
    post,
    path = "/api/foundation/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "An access token, a refresh token and the user", body = Envelope<Session>),
        (status = 400, response = BadRequest),
        (status = 401, response = crm_common::api::openapi::Unauthorized),
        (status = 403, response = Forbidden),
        (status = 429, response = TooManyRequests),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Json(body): Json<LoginRequest>,
) -> ApiResult<Response> {
    let identifier = body.email.as_deref().or(body.username.as_deref()).map(str::trim).unwrap_or_default().to_owned();
    Validator::new()
        .check(!identifier.is_empty(), "email", "email or username is required")
        .check(identifier.len() <= 255, "email", "must be at most 255 characters")
        .check(!body.password.is_empty(), "password", "is required")
        .check(body.password.len() <= 1024, "password", "is too long")
        .finish()?;
    let session = login::login(&state, &identifier, &body.password, origin(ip, &headers)).await?;
    Ok(with_actor(&session, ok(&session)))
}

/// The client address and user agent a session is opened from.
fn origin(client_ip: Option<std::net::IpAddr>, headers: &HeaderMap) -> Origin<'_> {
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    Origin { client_ip, user_agent }
}

/// The session named by the request's own access token (already verified by `CurrentUser`).
async fn current_session(state: &AppState, headers: &HeaderMap) -> Option<Uuid> {
    let token = bearer_token(headers).ok()?;
    state.auth.verifier.verify(token).await.ok()?.sid
}

/// Tells the audit capture who just authenticated: these requests carry no token to tell it.
fn with_actor(session: &login::Session, mut response: Response) -> Response {
    response.extensions_mut().insert(AuditActor {
        user_id: Some(session.user.id),
        organization_id: Some(session.user.primary_organization_id),
        user_name: Some(session.user.username.clone()),
    });
    response
}

#[derive(Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Exchange a refresh token for new tokens
///
/// Refresh tokens are single use: each call returns a new one, and presenting a used one again
/// revokes every token descending from the same login.
#[utoipa::path(
    post,
    path = "/api/foundation/auth/refresh",
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New access and refresh tokens", body = Envelope<Session>),
        (status = 400, response = BadRequest),
        (status = 401, response = crm_common::api::openapi::Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
pub async fn refresh(State(state): State<AppState>, Json(body): Json<RefreshRequest>) -> ApiResult<Response> {
    let session = login::refresh(&state, body.refresh_token.trim()).await?;
    Ok(with_actor(&session, ok(&session)))
}

#[derive(Deserialize, Default, ToSchema)]
pub struct LogoutRequest {
    pub refresh_token: Option<String>,
}

/// Log out
///
/// Ends the session of the access token presented (its access tokens are refused from then on,
/// and its refresh tokens revoked), and the session of `refresh_token` when one is given. A token
/// from before sessions existed, with no `refresh_token`, ends every session of the caller.
#[utoipa::path(
    post,
    path = "/api/foundation/auth/logout",
    tag = "auth",
    request_body(content = Option<LogoutRequest>, description = "Optional; an empty body ends every session"),
    responses(
        (status = 200, description = "Logged out", body = Envelope<NoData>),
        (status = 400, response = BadRequest),
    ),
    security(("bearer" = []))
)]
pub async fn logout(
    State(state): State<AppState>,
    caller: CurrentUser,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let req: LogoutRequest =
        if body.iter().all(u8::is_ascii_whitespace) { LogoutRequest::default() } else { parse_json(&body)? };
    let current = current_session(&state, &headers).await;
    let family = match req.refresh_token.as_deref() {
        Some(raw) => tokens::family_of(&state.db, raw.trim(), caller.user_id).await?,
        None => None,
    };
    if current.is_none() && req.refresh_token.is_none() {
        tokens::revoke_user(&state.db, caller.user_id, EndReason::Logout).await?;
    }
    for sid in [current, family].into_iter().flatten() {
        tokens::revoke_family(&state.db, sid, EndReason::Logout).await?;
    }
    crate::authz::invalidate_user(&state.cache, caller.user_id).await;
    Ok(ok(()))
}

/// The caller's sessions
///
/// Every open session of the caller, most recently used first: when it started, when it was
/// last used (to within a minute), and the client address and user agent it was opened from.
#[utoipa::path(
    get,
    path = "/api/foundation/auth/sessions",
    tag = "auth",
    responses(
        (status = 200, description = "The caller's open sessions", body = Envelope<Vec<SessionView>>),
        (status = 401, response = crm_common::api::openapi::Unauthorized),
    ),
    security(("bearer" = []))
)]
pub async fn sessions(State(state): State<AppState>, caller: CurrentUser, headers: HeaderMap) -> ApiResult<Response> {
    let current = current_session(&state, &headers).await;
    Ok(ok(sessions::list(&state.db, state.session_policy(), caller.user_id, current).await?))
}

/// End one of the caller's sessions
///
/// Its access tokens are refused from then on and its refresh tokens revoked. Another user's
/// session, or one already ended, is "not found".
#[utoipa::path(
    delete,
    path = "/api/foundation/auth/sessions/{session_id}",
    tag = "auth",
    params(("session_id" = Uuid, Path, description = "The session's id")),
    responses(
        (status = 200, description = "Ended", body = Envelope<NoData>),
        (status = 400, response = BadRequest),
        (status = 401, response = crm_common::api::openapi::Unauthorized),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn end_session(
    State(state): State<AppState>,
    caller: CurrentUser,
    Path(session_id): Path<Uuid>,
) -> ApiResult<Response> {
    let mine = sessions::list(&state.db, state.session_policy(), caller.user_id, None).await?;
    if !mine.iter().any(|s| s.id == session_id) {
        return Err(ApiError::not_found("session"));
    }
    tokens::revoke_family(&state.db, session_id, EndReason::Ended).await?;
    crate::authz::invalidate_user(&state.cache, caller.user_id).await;
    Ok(ok(()))
}

/// `GET /auth/me`'s data: the user object, with roles as codes, plus what the caller may do in the
/// organization the request acts in.
#[derive(Serialize, ToSchema)]
pub struct MeView {
    #[serde(flatten)]
    pub profile: UserProfile,
    /// Role codes (`ADMIN`, `SALES`, …).
    pub roles: Vec<String>,
    pub role_details: Vec<RoleRef>,
    pub organization_ids: Vec<Uuid>,
    /// The organization this request acts in (`X-Organization-Id`, else the primary one).
    pub current_organization_id: Uuid,
    /// The original's role-derived list (`*:*`, `customer:read`, …).
    pub permissions: Vec<String>,
    /// Effective `resource.action` codes: what the API enforces.
    pub permission_codes: Vec<String>,
    /// The caller's position title in the current organization.
    pub position: Option<String>,
    pub is_platform_admin: bool,
}

/// The caller's profile and permissions
#[utoipa::path(
    get,
    path = "/api/foundation/auth/me",
    tag = "auth",
    responses(
        (status = 200, description = "The caller", body = Envelope<MeView>),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn me(State(state): State<AppState>, caller: CurrentUser) -> ApiResult<Response> {
    let account =
        user::Entity::find_by_id(caller.user_id).one(&state.db).await?.ok_or_else(|| ApiError::not_found("user"))?;
    let access = crate::access::load(&state.db, account.clone()).await?;
    let org = access.check_can_log_in()?;
    let session_user = login::session_user(&access, org.id, &org.name);
    let position = crate::organizations::model::employee::Entity::find()
        .filter(crate::organizations::model::employee::Column::UserId.eq(caller.user_id))
        .filter(crate::organizations::model::employee::Column::OrganizationId.eq(caller.organization_id))
        .one(&state.db)
        .await?
        .and_then(|m| m.position);
    // The standing already holds the primary organization: no second read of roles or of it.
    let profile = users::profile(account, Some(org.id), Some(org.name.clone()));
    let role_details =
        access.roles.iter().map(|r| RoleRef { id: r.id, code: r.code.clone(), name: r.name.clone() }).collect();
    Ok(ok(MeView {
        profile,
        roles: session_user.roles,
        role_details,
        organization_ids: session_user.organization_ids,
        current_organization_id: caller.organization_id,
        permissions: session_user.permissions,
        permission_codes: session_user.permission_codes,
        position,
        is_platform_admin: caller.is_platform_admin,
    }))
}

/// The token verification keys (JWKS)
///
/// The public keys, bare (RFC 7517), as JWKS consumers expect.
#[utoipa::path(
    get,
    path = "/api/foundation/auth/jwks.json",
    tag = "auth",
    responses((status = 200, description = "A JWK Set of Ed25519 keys, not in the envelope", body = Jwks))
)]
pub async fn jwks(State(state): State<AppState>) -> Response {
    let keys = state.auth.verifier.keys().jwks();
    ([(header::CACHE_CONTROL, "public, max-age=300")], axum::Json(keys)).into_response()
}

#[derive(Deserialize, ToSchema)]
pub struct RegisterRequest {
    pub email: String,
    pub password: String,
    pub full_name: Option<String>,
}

/// Register an account (when enabled)
///
/// Self-registration (off unless `CRM_ALLOW_REGISTRATION=true`). The account joins the configured
/// organization with no role, so it can do nothing until an administrator grants one. Answers
/// 404 while registration is not enabled.
#[utoipa::path(
    post,
    path = "/api/foundation/auth/register",
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "The new account, logged in", body = Envelope<Session>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 503, response = Unavailable),
    )
)]
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Json(body): Json<RegisterRequest>,
) -> ApiResult<Response> {
    if !state.config.allow_registration {
        return Err(ApiError::NotFound("registration is not enabled".into()));
    }
    Validator::new()
        .email("email", &body.email)
        .optional_length("full_name", body.full_name.as_deref(), 100)
        .finish()?;
    password::check_policy("password", &body.password)?;
    let org = organization::Entity::find()
        .filter(organization::Column::Code.eq(&state.config.registration_org_code))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::Unavailable("registration organization is not configured".into()))?;
    crate::organizations::service::ensure_open(&org)?;
    let password_hash = state.passwords.hash(&body.password).await?;
    let txn = crm_common::db::begin_write(&state.db).await?;
    let created = users::insert_account(
        &txn,
        NewAccount {
            username: users::default_username(&body.email),
            email: body.email,
            password_hash,
            display_name: body.full_name,
            phone: None,
            gender: None,
            organization_id: org.id,
            role_ids: Vec::new(),
            is_manager: false,
            position: None,
            position_id: None,
            is_active: true,
            created_by: None,
        },
    )
    .await?;
    txn.commit().await?;
    let access = crate::access::load(&state.db, created).await?;
    let session = login::open_session(&state, &access, origin(ip, &headers)).await?;
    Ok(with_actor(&session, crm_common::api::created(&session)))
}
