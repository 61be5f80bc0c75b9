use crate::AppState;
use crate::organizations::model::{employee, organization};
use crate::roles::model as role;
use crate::users::model::{user, user_role};
use axum::extract::State;
use axum::response::Response;
use crm_common::api::openapi::{BadRequest, Unauthorized};
use crm_common::api::{Envelope, Query, ok};
use crm_common::auth::CurrentUser;
use crm_common::auth::remote::PrincipalView;
use crm_common::{ApiError, ApiResult};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Ids one lookup may name.
const MAX_IDS: usize = 500;

#[derive(Debug, Deserialize, IntoParams)]
pub struct Ids {
    /// Comma-separated ids (at most 500).
    pub ids: String,
}

fn parse_ids(raw: &str) -> ApiResult<Vec<Uuid>> {
    let mut ids = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        ids.push(Uuid::parse_str(part).map_err(|_| ApiError::field("ids", format!("{part:?} is not an id")))?);
    }
    if ids.len() > MAX_IDS {
        return Err(ApiError::field("ids", format!("at most {MAX_IDS} ids")));
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// The caller's current standing
///
/// Roles, permissions and organization as foundation resolves them now, for the token presented
/// (and `X-Organization-Id`). A locked or deleted account, an ended session or a locked
/// organization answers 401. The other services call this with their caller's token.
#[utoipa::path(
    get,
    path = "/api/foundation/auth/principal",
    tag = "auth",
    responses(
        (status = 200, description = "The caller", body = Envelope<PrincipalView>),
        (status = 401, response = Unauthorized),
    ),
    security(("bearer" = []))
)]
pub async fn principal(caller: CurrentUser) -> ApiResult<Response> {
    Ok(ok(PrincipalView::from(&*caller)))
}

/// A user's name, as other services show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserName {
    pub id: Uuid,
    pub username: String,
    pub display_name: Option<String>,
    /// The display name when set, else the username.
    pub name: String,
}

/// Names of users
///
/// The users among `ids` who belong to the caller's organization (a BANTU administrator: any
/// user). Others, and unknown ids, are left out.
#[utoipa::path(
    get,
    path = "/api/foundation/lookup/users",
    tag = "auth",
    params(Ids),
    responses(
        (status = 200, description = "The users found", body = Envelope<Vec<UserName>>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
    ),
    security(("bearer" = []))
)]
pub async fn users(State(state): State<AppState>, caller: CurrentUser, Query(q): Query<Ids>) -> ApiResult<Response> {
    let ids = parse_ids(&q.ids)?;
    if ids.is_empty() {
        return Ok(ok(Vec::<UserName>::new()));
    }
    let mut query = user::Entity::find().filter(user::Column::Id.is_in(ids));
    if !caller.is_platform_admin {
        let members = employee::Entity::find()
            .select_only()
            .column(employee::Column::UserId)
            .filter(employee::Column::OrganizationId.eq(caller.organization_id))
            .into_query();
        query = query.filter(user::Column::Id.in_subquery(members));
    }
    let rows = query.all(&state.db).await?;
    let names: Vec<UserName> = rows.into_iter().map(name_of).collect();
    Ok(ok(names))
}

/// The most members one role lookup answers: a notification to a role goes to people, not to a
/// whole directory.
const MAX_MEMBERS: u64 = 1000;

#[derive(Debug, Deserialize, IntoParams)]
pub struct RoleQuery {
    /// A role's code (`OPERATION`).
    pub role: String,
}

/// Members of a role
///
/// The users of the caller's organization who hold the role `role` and may sign in (active, not
/// locked, not deleted, still a member), by name; an unknown role has none. order-workflow asks
/// this, with its caller's token, for whom to tell of a task given to a role.
#[utoipa::path(
    get,
    path = "/api/foundation/lookup/role-members",
    tag = "auth",
    params(RoleQuery),
    responses(
        (status = 200, description = "The role's members", body = Envelope<Vec<UserName>>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
    ),
    security(("bearer" = []))
)]
pub async fn role_members(
    State(state): State<AppState>,
    caller: CurrentUser,
    Query(q): Query<RoleQuery>,
) -> ApiResult<Response> {
    let code = q.role.trim();
    if code.is_empty() || code.len() > 50 {
        return Err(ApiError::field("role", "a role code (1–50 characters)"));
    }
    let holders = user_role::Entity::find()
        .select_only()
        .column(user_role::Column::UserId)
        .filter(
            user_role::Column::RoleId.in_subquery(
                role::Entity::find()
                    .select_only()
                    .column(role::Column::Id)
                    .filter(role::Column::Code.eq(code))
                    .into_query(),
            ),
        )
        .into_query();
    let members = employee::Entity::find()
        .select_only()
        .column(employee::Column::UserId)
        .filter(employee::Column::OrganizationId.eq(caller.organization_id))
        .filter(employee::Column::IsActive.eq(true))
        .into_query();
    let rows = user::Entity::find()
        .filter(user::Column::Id.in_subquery(holders))
        .filter(user::Column::Id.in_subquery(members))
        .filter(user::Column::IsActive.eq(true))
        .filter(user::Column::IsLocked.eq(false))
        .filter(user::Column::DeletedAt.is_null())
        .order_by_asc(user::Column::Id)
        .limit(MAX_MEMBERS)
        .all(&state.db)
        .await?;
    Ok(ok(rows.into_iter().map(name_of).collect::<Vec<_>>()))
}

fn name_of(u: user::Model) -> UserName {
    UserName {
        name: u.display_name.clone().filter(|d| !d.trim().is_empty()).unwrap_or_else(|| u.username.clone()),
        id: u.id,
        username: u.username,
        display_name: u.display_name,
    }
}

/// An organization as other services see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationName {
    pub id: Uuid,
    pub name: String,
    pub code: Option<String>,
    /// `internal`, `vendor` or `agent`.
    pub organization_type: String,
    pub phone: Option<String>,
    pub is_active: bool,
    pub is_locked: bool,
}

/// Names and kinds of organizations
///
/// Any signed-in user may resolve organization ids to their name, code, kind and state: other
/// services check that a vendor or an agent is what it claims to be, and show its name.
#[utoipa::path(
    get,
    path = "/api/foundation/lookup/organizations",
    tag = "auth",
    params(Ids),
    responses(
        (status = 200, description = "The organizations found", body = Envelope<Vec<OrganizationName>>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
    ),
    security(("bearer" = []))
)]
pub async fn organizations(
    State(state): State<AppState>,
    _caller: CurrentUser,
    Query(q): Query<Ids>,
) -> ApiResult<Response> {
    let ids = parse_ids(&q.ids)?;
    if ids.is_empty() {
        return Ok(ok(Vec::<OrganizationName>::new()));
    }
    let rows = organization::Entity::find().filter(organization::Column::Id.is_in(ids)).all(&state.db).await?;
    let names: Vec<OrganizationName> = rows
        .into_iter()
        .map(|o| OrganizationName {
            id: o.id,
            name: o.name,
            code: o.code,
            organization_type: o.organization_type,
            phone: o.phone,
            is_active: o.is_active,
            is_locked: o.is_locked,
        })
        .collect();
    Ok(ok(names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_and_deduplicated() {
        let a = Uuid::now_v7();
        assert_eq!(parse_ids(&format!("{a}, {a},")).ok(), Some(vec![a]));
        assert!(parse_ids("nope").is_err());
        let many = (0..501).map(|_| Uuid::now_v7().to_string()).collect::<Vec<_>>().join(",");
        assert!(parse_ids(&many).is_err());
    }
}
