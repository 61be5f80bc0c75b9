use super::model::{permission, role_permission};
use chrono::Utc;
use crm_common::{ApiError, ApiResult};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;

/// A permission as roles and users list it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PermissionRef {
    pub id: Uuid,
    pub code: String,
    pub name_zh: String,
    pub name_id: String,
    pub resource_type: String,
    pub action: String,
}

impl From<permission::Model> for PermissionRef {
    fn from(p: permission::Model) -> Self {
        Self {
            id: p.id,
            code: p.code,
            name_zh: p.name_zh,
            name_id: p.name_id,
            resource_type: p.resource_type,
            action: p.action,
        }
    }
}

/// The permissions granted to each of `role_ids`.
pub async fn of_roles(db: &impl ConnectionTrait, role_ids: &[Uuid]) -> ApiResult<HashMap<Uuid, Vec<PermissionRef>>> {
    let links = role_permission::Entity::find()
        .filter(role_permission::Column::RoleId.is_in(role_ids.to_vec()))
        .all(db)
        .await?;
    grouped(db, links.into_iter().map(|l| (l.role_id, l.permission_id))).await
}

/// `(owner, permission id)` links as each owner's permissions, sorted by code.
pub async fn grouped(
    db: &impl ConnectionTrait,
    links: impl IntoIterator<Item = (Uuid, Uuid)>,
) -> ApiResult<HashMap<Uuid, Vec<PermissionRef>>> {
    let links: Vec<(Uuid, Uuid)> = links.into_iter().collect();
    let ids: Vec<Uuid> = links.iter().map(|l| l.1).collect();
    let perms: HashMap<Uuid, permission::Model> = permission::Entity::find()
        .filter(permission::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut out: HashMap<Uuid, Vec<PermissionRef>> = HashMap::new();
    for (owner, pid) in links {
        if let Some(p) = perms.get(&pid) {
            out.entry(owner).or_default().push(p.clone().into());
        }
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| a.code.cmp(&b.code));
    }
    Ok(out)
}

/// `permission_ids` without repeats, each proven to exist (400 naming the field otherwise).
pub async fn existing(db: &impl ConnectionTrait, permission_ids: &[Uuid]) -> ApiResult<Vec<Uuid>> {
    let ids = crate::users::service::dedup(permission_ids);
    let found = permission::Entity::find().filter(permission::Column::Id.is_in(ids.clone())).count(db).await?;
    if found as usize != ids.len() {
        return Err(ApiError::field("permission_ids", "permission not found"));
    }
    Ok(ids)
}

/// Replaces the role's grants with `permission_ids`; every id must exist.
pub async fn replace_grants(db: &impl ConnectionTrait, role_id: Uuid, permission_ids: &[Uuid]) -> ApiResult<()> {
    let ids = existing(db, permission_ids).await?;
    role_permission::Entity::delete_many().filter(role_permission::Column::RoleId.eq(role_id)).exec(db).await?;
    grant(db, role_id, ids).await
}

/// Grants the role `permission_ids` (none of which it holds yet).
pub async fn grant(
    db: &impl ConnectionTrait,
    role_id: Uuid,
    permission_ids: impl IntoIterator<Item = Uuid>,
) -> ApiResult<()> {
    let now = Utc::now();
    let rows: Vec<role_permission::ActiveModel> = permission_ids
        .into_iter()
        .map(|pid| role_permission::ActiveModel {
            role_id: Set(role_id),
            permission_id: Set(pid),
            created_at: Set(now),
        })
        .collect();
    if !rows.is_empty() {
        role_permission::Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    Ok(())
}
