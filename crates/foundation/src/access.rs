//! A user's standing: memberships, primary organization, roles and effective permissions. Login,
//! refresh, `me` and the per-request resolver all read it from here.

use crate::organizations::model::{employee, organization};
use crate::permissions::model::{permission, role_permission};
use crate::roles::model as role;
use crate::users::model::{user, user_role};
use crm_common::ApiError;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
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

pub async fn load(db: &impl ConnectionTrait, user: user::Model) -> Result<Access, ApiError> {
    let memberships = employee::Entity::find()
        .filter(employee::Column::UserId.eq(user.id))
        .filter(employee::Column::IsActive.eq(true))
        .order_by_desc(employee::Column::IsPrimary)
        .order_by_asc(employee::Column::CreatedAt)
        .all(db)
        .await?;
    let primary_org = match memberships.iter().find(|m| m.is_primary) {
        Some(m) => organization::Entity::find_by_id(m.organization_id).one(db).await?,
        None => None,
    };
    let role_ids: Vec<Uuid> = user_role::Entity::find()
        .filter(user_role::Column::UserId.eq(user.id))
        .all(db)
        .await?
        .into_iter()
        .map(|ur| ur.role_id)
        .collect();
    let roles = role::Entity::find()
        .filter(role::Column::Id.is_in(role_ids.clone()))
        .order_by_asc(role::Column::Code)
        .all(db)
        .await?;
    let permissions = permissions_of_roles(db, &role_ids).await?;
    Ok(Access {
        user,
        primary_org,
        organization_ids: memberships.iter().map(|m| m.organization_id).collect(),
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
