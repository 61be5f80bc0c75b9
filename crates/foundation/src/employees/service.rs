//! Rules for employees: who counts as one (an active member of the organization, not deleted),
//! and how a user and its membership become seed 002's employee object.

use super::dto::{EmployeeView, PositionRef, Status};
use crate::organizations::model::employee;
use crate::positions::model as position;
use crate::users::model::user;
use crate::users::service as users;
use chrono::Utc;
use crm_common::auth::Principal;
use crm_common::{ApiError, ApiResult};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::HashMap;
use uuid::Uuid;

/// The employee `id` of `org`. Anyone else — another organization's member, a deleted or unknown
/// user — is "not found", so ids do not leak across organizations.
pub async fn find(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> ApiResult<user::Model> {
    user::Entity::find_by_id(id)
        .filter(user::Column::Id.in_subquery(users::members_of(org)))
        .filter(user::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("employee"))
}

/// Checks that `position_id` is one of `org`'s positions.
pub async fn ensure_position(db: &impl ConnectionTrait, org: Uuid, position_id: Option<Uuid>) -> ApiResult<()> {
    if let Some(id) = position_id {
        crate::positions::service::find(db, org, id)
            .await
            .map_err(|_| ApiError::field("position_id", "not a position of this organization"))?;
    }
    Ok(())
}

/// Checks that `role_id` exists and that `caller` may grant it.
pub async fn ensure_role(db: &impl ConnectionTrait, caller: &Principal, role_id: Uuid) -> ApiResult<()> {
    users::ensure_roles_exist(db, "role_id", &[role_id]).await?;
    users::ensure_can_grant(db, caller, &[role_id]).await
}

/// Puts the member `user_id` of `org` on `position_id` (none: off any position).
pub async fn place(db: &impl ConnectionTrait, org: Uuid, user_id: Uuid, position_id: Option<Uuid>) -> ApiResult<()> {
    employee::Entity::update_many()
        .col_expr(employee::Column::PositionId, Expr::value(position_id))
        .col_expr(employee::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(employee::Column::OrganizationId.eq(org))
        .filter(employee::Column::UserId.eq(user_id))
        .filter(employee::Column::IsActive.eq(true))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn views(db: &impl ConnectionTrait, org: Uuid, rows: Vec<user::Model>) -> ApiResult<Vec<EmployeeView>> {
    let ids: Vec<Uuid> = rows.iter().map(|u| u.id).collect();
    let memberships: HashMap<Uuid, employee::Model> = employee::Entity::find()
        .filter(employee::Column::OrganizationId.eq(org))
        .filter(employee::Column::UserId.is_in(ids))
        .filter(employee::Column::IsActive.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.user_id, m))
        .collect();
    let position_ids: Vec<Uuid> = memberships.values().filter_map(|m| m.position_id).collect();
    let positions: HashMap<Uuid, PositionRef> = position::Entity::find()
        .filter(position::Column::Id.is_in(position_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, PositionRef { id: p.id, name: p.name, code: p.code, level: p.level }))
        .collect();
    Ok(users::views(db, rows)
        .await?
        .into_iter()
        .map(|user| {
            let profile = user.profile;
            let membership = memberships.get(&profile.id);
            EmployeeView {
                id: profile.id,
                username: profile.username,
                email: profile.email,
                full_name: profile.display_name,
                position: membership.and_then(|m| m.position_id).and_then(|p| positions.get(&p).cloned()),
                role: user.roles.first().cloned(),
                roles: user.roles,
                status: Status::of(profile.is_active),
                department: membership.and_then(|m| m.department.clone()),
                created_at: profile.created_at,
                updated_at: profile.updated_at,
                last_login: profile.last_login_at,
            }
        })
        .collect())
}

pub async fn view(db: &impl ConnectionTrait, org: Uuid, row: user::Model) -> ApiResult<EmployeeView> {
    views(db, org, vec![row]).await?.pop().ok_or_else(|| ApiError::internal("view of one employee was empty"))
}
