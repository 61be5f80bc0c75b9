//! A user's standing: memberships, primary organization, roles and effective permissions. Login,
//! refresh, `me` and the per-request resolver all read it from here.

use crate::organizations::model::{employee, organization};
use crate::permissions::model::{permission, role_permission};
use crate::roles::model as role;
use crate::users::model::{user, user_role};
use crm_common::ApiError;
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect};
use std::collections::BTreeSet;
use uuid::Uuid;

/// The fixed id of the BANTU internal organization, created at first start.
pub const BANTU_ORG_ID: Uuid = Uuid::from_u128(1);

/// Global data (roles, permission points, menus, the domain catalogue) is changed only by
/// administrators of the BANTU organization.
pub fn require_platform_admin(caller: &crm_common::auth::Principal, what: &str) -> Result<(), ApiError> {
    if caller.is_platform_admin {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!("only administrators of the BANTU organization may {what}")))
    }
}

pub fn is_bantu(org: &organization::Model) -> bool {
    org.code.as_deref() == Some("BANTU")
        || (org.organization_type == "internal" && org.name.to_uppercase().contains("BANTU"))
}

pub struct Access {
    pub user: user::Model,
    pub primary_org: Option<organization::Model>,
    /// Organizations with an active membership, primary first.
    pub organization_ids: Vec<Uuid>,
    pub roles: Vec<role::Model>,
    pub permissions: BTreeSet<String>,
}

impl Access {
    pub fn role_codes(&self) -> Vec<String> {
        self.roles.iter().map(|r| r.code.clone()).collect()
    }

    pub fn is_platform_admin(&self) -> bool {
        self.roles.iter().any(|r| r.code == "ADMIN") && self.primary_org.as_ref().is_some_and(is_bantu)
    }

    /// The original's login checks, in its order, after the password was verified.
    pub fn check_can_log_in(&self) -> Result<&organization::Model, ApiError> {
        let org = self.primary_org.as_ref().ok_or_else(|| ApiError::not_found("primary organization"))?;
        if org.is_locked {
            return Err(ApiError::forbidden("organization locked"));
        }
        if !org.is_active {
            return Err(ApiError::forbidden("organization inactive"));
        }
        if !self.user.can_log_in() {
            return Err(ApiError::forbidden("user not active"));
        }
        Ok(org)
    }
}

/// A user's standing in three queries: memberships with their organizations (one join), roles,
/// and the active permissions of those roles (subqueries, so no ids travel back and forth).
pub async fn load(db: &impl ConnectionTrait, user: user::Model) -> Result<Access, ApiError> {
    let memberships: Vec<(employee::Model, Option<organization::Model>)> = employee::Entity::find()
        .select_also(organization::Entity)
        .join(
            JoinType::LeftJoin,
            employee::Entity::belongs_to(organization::Entity)
                .from(employee::Column::OrganizationId)
                .to(organization::Column::Id)
                .into(),
        )
        .filter(employee::Column::UserId.eq(user.id))
        .filter(employee::Column::IsActive.eq(true))
        .order_by_desc(employee::Column::IsPrimary)
        .order_by_asc(employee::Column::CreatedAt)
        .all(db)
        .await?;
    let primary_org = memberships.iter().find(|(m, _)| m.is_primary).and_then(|(_, org)| org.clone());
    let held = Query::select()
        .column(user_role::Column::RoleId)
        .from(user_role::Entity)
        .and_where(user_role::Column::UserId.eq(user.id))
        .to_owned();
    let roles = role::Entity::find()
        .filter(role::Column::Id.in_subquery(held.clone()))
        .order_by_asc(role::Column::Code)
        .all(db)
        .await?;
    let granted = Query::select()
        .column(role_permission::Column::PermissionId)
        .from(role_permission::Entity)
        .and_where(role_permission::Column::RoleId.in_subquery(held))
        .to_owned();
    let permissions = permission::Entity::find()
        .select_only()
        .column(permission::Column::Code)
        .filter(permission::Column::Id.in_subquery(granted))
        .filter(permission::Column::IsActive.eq(true))
        .into_tuple::<String>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(Access {
        user,
        primary_org,
        organization_ids: memberships.iter().map(|(m, _)| m.organization_id).collect(),
        roles,
        permissions,
    })
}

/// Union of the active permissions granted to `role_ids`.
pub async fn permissions_of_roles(db: &impl ConnectionTrait, role_ids: &[Uuid]) -> Result<BTreeSet<String>, ApiError> {
    if role_ids.is_empty() {
        return Ok(BTreeSet::new());
    }
    let permission_ids: Vec<Uuid> = role_permission::Entity::find()
        .filter(role_permission::Column::RoleId.is_in(role_ids.to_vec()))
        .all(db)
        .await?
        .into_iter()
        .map(|rp| rp.permission_id)
        .collect();
    let codes = permission::Entity::find()
        .filter(permission::Column::Id.is_in(permission_ids))
        .filter(permission::Column::IsActive.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.code)
        .collect();
    Ok(codes)
}
