//! Rules for organizations: who sees which, code generation, and the admin account every new
//! organization gets.

use super::dto::OrgView;
use super::model::{employee, organization};
use crate::access::BANTU_ORG_ID;
use crate::users::service::{self as users, NewAccount};
use chrono::Utc;
use crm_common::auth::Principal;
use crm_common::{ApiError, ApiResult};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use std::collections::HashMap;
use uuid::Uuid;

/// The organization if the caller may see it: one they belong to, or any for a platform admin.
pub async fn find_visible(db: &impl ConnectionTrait, caller: &Principal, id: Uuid) -> ApiResult<organization::Model> {
    let org = organization::Entity::find_by_id(id).one(db).await?.ok_or_else(|| ApiError::not_found("organization"))?;
    if caller.is_platform_admin || caller.organization_id == id || is_member(db, caller.user_id, id).await? {
        Ok(org)
    } else {
        Err(ApiError::not_found("organization"))
    }
}

pub async fn is_member(db: &impl ConnectionTrait, user_id: Uuid, org: Uuid) -> ApiResult<bool> {
    let n = employee::Entity::find()
        .filter(employee::Column::UserId.eq(user_id))
        .filter(employee::Column::OrganizationId.eq(org))
        .filter(employee::Column::IsActive.eq(true))
        .count(db)
        .await?;
    Ok(n > 0)
}

/// Users can be added only to an unlocked, active organization.
pub fn ensure_open(org: &organization::Model) -> ApiResult<()> {
    if org.is_locked {
        return Err(ApiError::bad_request("organization locked"));
    }
    if !org.is_active {
        return Err(ApiError::forbidden("organization inactive"));
    }
    Ok(())
}

pub fn ensure_not_bantu(org: &organization::Model) -> ApiResult<()> {
    if org.id == BANTU_ORG_ID || crate::access::is_bantu(org) {
        return Err(ApiError::bad_request("cannot lock or delete the BANTU internal organization"));
    }
    Ok(())
}

/// An organization may be deleted unless it is BANTU's or already deleted.
pub fn ensure_deletable(org: &organization::Model) -> ApiResult<()> {
    ensure_not_bantu(org)?;
    if !org.is_active && org.is_locked {
        return Err(ApiError::conflict("the organization is already deleted"));
    }
    Ok(())
}

/// Only a deleted (inactive) organization is restored; a lock alone is lifted by unlocking.
pub fn ensure_deleted(org: &organization::Model) -> ApiResult<()> {
    if org.is_active {
        return Err(ApiError::conflict("the organization is not deleted (to lift only a lock, unlock it)"));
    }
    Ok(())
}

/// Sets the lock and, given, the active flag (a new version).
pub async fn set_state(db: &impl ConnectionTrait, id: Uuid, locked: bool, active: Option<bool>) -> ApiResult<()> {
    // In scope here only: its blanket `max` would shadow `Ord::max` in this module.
    use sea_orm::sea_query::ExprTrait;
    let mut update = organization::Entity::update_many()
        .col_expr(organization::Column::IsLocked, Expr::value(locked))
        .col_expr(organization::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(organization::Column::Version, Expr::col(organization::Column::Version).add(1));
    if let Some(active) = active {
        update = update.col_expr(organization::Column::IsActive, Expr::value(active));
    }
    update.filter(organization::Column::Id.eq(id)).exec(db).await?;
    Ok(())
}

/// `{type}{NNN}{YYYYMMDD}`, NNN the per-type sequence; skips codes already taken.
pub async fn generate_code(db: &impl ConnectionTrait, org_type: &str) -> ApiResult<String> {
    let existing =
        organization::Entity::find().filter(organization::Column::OrganizationType.eq(org_type)).count(db).await?;
    let date = Utc::now().format("%Y%m%d");
    for n in existing + 1..existing + 1000 {
        let code = format!("{org_type}{n:03}{date}");
        if !code_taken(db, &code, None).await? {
            return Ok(code);
        }
    }
    Err(ApiError::internal("could not find a free organization code"))
}

pub async fn code_taken(db: &impl ConnectionTrait, code: &str, except: Option<Uuid>) -> ApiResult<bool> {
    let mut q = organization::Entity::find().filter(organization::Column::Code.eq(code));
    if let Some(id) = except {
        q = q.filter(organization::Column::Id.ne(id));
    }
    Ok(q.count(db).await? > 0)
}

pub async fn views(db: &impl ConnectionTrait, orgs: Vec<organization::Model>) -> ApiResult<Vec<OrgView>> {
    let ids: Vec<Uuid> = orgs.iter().map(|o| o.id).collect();
    let mut domains = crate::domains::service::refs_of(db, ids.clone()).await?;
    let counts: HashMap<Uuid, i64> = employee::Entity::find()
        .select_only()
        .column(employee::Column::OrganizationId)
        .column_as(Expr::from(Func::count(Expr::col(employee::Column::Id))), "n")
        .filter(employee::Column::OrganizationId.is_in(ids))
        .filter(employee::Column::IsActive.eq(true))
        .group_by(employee::Column::OrganizationId)
        .into_tuple::<(Uuid, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(orgs
        .into_iter()
        .map(|o| {
            let n = counts.get(&o.id).copied().unwrap_or(0).max(0) as u64;
            let d = domains.remove(&o.id).unwrap_or_default();
            OrgView::new(o, n, d)
        })
        .collect())
}

pub async fn view(db: &impl ConnectionTrait, org: organization::Model) -> ApiResult<OrgView> {
    views(db, vec![org]).await?.pop().ok_or_else(|| ApiError::internal("view of one organization was empty"))
}

/// The admin account created with an organization.
pub struct AdminAccount {
    pub id: Uuid,
    pub username: String,
    pub email: String,
}

/// `admin@<domain of the organization's e-mail>` (or `admin@bantu.sbs`); when taken,
/// `admin<code>@…`, then `admin<first 8 of id>@…`.
pub async fn create_admin(
    db: &impl ConnectionTrait,
    org: &organization::Model,
    admin_role: Uuid,
    password_hash: String,
    created_by: Uuid,
) -> ApiResult<AdminAccount> {
    let domain = org.email.as_deref().and_then(|e| e.split_once('@')).map_or("bantu.sbs", |(_, d)| d).to_owned();
    let code = org.code.clone().unwrap_or_default().to_lowercase();
    let id8: String = org.id.simple().to_string().chars().take(8).collect();
    let candidates = [format!("admin@{domain}"), format!("admin{code}@{domain}"), format!("admin{id8}@{domain}")];
    let mut email = None;
    for c in candidates {
        if !users::email_taken(db, &c, None).await? {
            email = Some(c);
            break;
        }
    }
    let email = email.ok_or_else(|| ApiError::conflict("no free e-mail for the organization admin"))?;
    let user = users::insert_account(
        db,
        NewAccount {
            email: email.clone(),
            username: "admin".into(),
            password_hash,
            display_name: Some(format!("{} admin", org.name)),
            phone: None,
            gender: None,
            organization_id: org.id,
            role_ids: vec![admin_role],
            is_manager: true,
            position: Some("administrator".into()),
            position_id: None,
            is_active: true,
            created_by: Some(created_by),
        },
    )
    .await?;
    Ok(AdminAccount { id: user.id, username: user.username, email })
}
