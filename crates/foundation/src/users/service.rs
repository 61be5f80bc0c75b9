//! Rules for users: visibility by organization, account creation with membership and roles in one
//! transaction, role grants bounded by the granter's own permissions.

use super::dto::{RoleRef, UserProfile, UserView};
use super::model::{user, user_role};
use crate::access;
use crate::organizations::model::{employee, organization};
use crate::roles::model as role;
use chrono::Utc;
use crm_common::auth::{Principal, has_permission};
use crm_common::{ApiError, ApiResult};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::HashMap;
use uuid::Uuid;

/// Users that have an active membership in `org`.
pub fn members_of(org: Uuid) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(employee::Column::UserId)
        .from(employee::Entity)
        .and_where(employee::Column::OrganizationId.eq(org))
        .and_where(employee::Column::IsActive.eq(true))
        .to_owned()
}

/// Users who hold `role_id`.
pub fn holders_of(role_id: Uuid) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(user_role::Column::UserId)
        .from(user_role::Entity)
        .and_where(user_role::Column::RoleId.eq(role_id))
        .to_owned()
}

/// Users whose username, e-mail or display name contains `search`, case-insensitively.
pub fn matching(search: &str) -> sea_orm::Condition {
    sea_orm::Condition::any()
        .add(crm_common::db::contains_ci(user::Column::Username, search))
        .add(crm_common::db::contains_ci(user::Column::Email, search))
        .add(crm_common::db::contains_ci(user::Column::DisplayName, search))
}

/// The user if the caller may see it: themself, a member of the caller's organization, or anyone
/// for a platform admin. Anything else is "not found", never "forbidden", so ids do not leak.
pub async fn find_visible(
    db: &impl ConnectionTrait,
    caller: &Principal,
    id: Uuid,
    allow_deleted: bool,
) -> ApiResult<user::Model> {
    let not_found = || ApiError::not_found("user");
    let mut query = user::Entity::find_by_id(id);
    if !(caller.is_platform_admin || caller.user_id == id) {
        query = query.filter(user::Column::Id.in_subquery(members_of(caller.organization_id)));
    }
    let found = query.one(db).await?.ok_or_else(not_found)?;
    if found.deleted_at.is_some() && !allow_deleted {
        return Err(not_found());
    }
    Ok(found)
}

/// The API view of `users`, in two queries whatever their number: their primary organizations
/// (joined to the organization names) and their roles ([`views_with`]).
pub async fn views(db: &impl ConnectionTrait, users: Vec<user::Model>) -> ApiResult<Vec<UserView>> {
    let ids: Vec<Uuid> = users.iter().map(|u| u.id).collect();
    let primaries: Vec<(Uuid, Uuid, String)> = employee::Entity::find()
        .select_only()
        .column(employee::Column::UserId)
        .column(organization::Column::Id)
        .column(organization::Column::Name)
        .join(JoinType::InnerJoin, membership_organization())
        .filter(employee::Column::UserId.is_in(ids))
        .filter(employee::Column::IsPrimary.eq(true))
        .filter(employee::Column::IsActive.eq(true))
        .into_tuple()
        .all(db)
        .await?;
    let mut primary_of: HashMap<Uuid, (Uuid, String)> =
        primaries.into_iter().map(|(user_id, org_id, name)| (user_id, (org_id, name))).collect();
    let users = users.into_iter().map(|u| {
        let primary = primary_of.remove(&u.id);
        (u, primary)
    });
    views_with(db, users.collect()).await
}

/// The API view of users whose primary organization (id, name) is known: one query, for roles.
pub async fn views_with(
    db: &impl ConnectionTrait,
    users: Vec<(user::Model, Option<(Uuid, String)>)>,
) -> ApiResult<Vec<UserView>> {
    let ids: Vec<Uuid> = users.iter().map(|(u, _)| u.id).collect();
    let granted: Vec<(Uuid, Uuid, String, String)> = user_role::Entity::find()
        .select_only()
        .column(user_role::Column::UserId)
        .column(role::Column::Id)
        .column(role::Column::Code)
        .column(role::Column::Name)
        .join(
            JoinType::InnerJoin,
            user_role::Entity::belongs_to(role::Entity).from(user_role::Column::RoleId).to(role::Column::Id).into(),
        )
        .filter(user_role::Column::UserId.is_in(ids))
        .order_by_asc(role::Column::Code)
        .into_tuple()
        .all(db)
        .await?;
    let mut roles_of: HashMap<Uuid, Vec<RoleRef>> = HashMap::new();
    for (user_id, id, code, name) in granted {
        roles_of.entry(user_id).or_default().push(RoleRef { id, code, name });
    }
    Ok(users
        .into_iter()
        .map(|(u, primary)| {
            let (primary, primary_name) = primary.unzip();
            let roles = roles_of.remove(&u.id).unwrap_or_default();
            let profile = profile(u, primary, primary_name);
            UserView { profile, roles }
        })
        .collect())
}

/// A membership's organization.
fn membership_organization() -> sea_orm::RelationDef {
    employee::Entity::belongs_to(organization::Entity)
        .from(employee::Column::OrganizationId)
        .to(organization::Column::Id)
        .into()
}

/// [`find_visible`] (not deleted) with the user's primary organization, in one statement: the
/// user left-joined to its active primary membership and that membership's organization.
pub async fn find_visible_with_primary(
    db: &impl ConnectionTrait,
    caller: &Principal,
    id: Uuid,
) -> ApiResult<(user::Model, Option<(Uuid, String)>)> {
    let primary_membership = user::Entity::belongs_to(employee::Entity)
        .from(user::Column::Id)
        .to(employee::Column::UserId)
        .on_condition(|_, membership| {
            use sea_orm::sea_query::ExprTrait as _;
            sea_orm::Condition::all()
                .add(Expr::col((membership.clone(), employee::Column::IsPrimary)).eq(true))
                .add(Expr::col((membership, employee::Column::IsActive)).eq(true))
        })
        .into();
    let mut query = user::Entity::find_by_id(id)
        .select_also(organization::Entity)
        .join(JoinType::LeftJoin, primary_membership)
        .join(JoinType::LeftJoin, membership_organization())
        .filter(user::Column::DeletedAt.is_null());
    if !(caller.is_platform_admin || caller.user_id == id) {
        query = query.filter(user::Column::Id.in_subquery(members_of(caller.organization_id)));
    }
    let (found, org) = query.one(db).await?.ok_or_else(|| ApiError::not_found("user"))?;
    Ok((found, org.map(|o| (o.id, o.name))))
}

/// The user object without roles, given its primary organization (id and name).
pub fn profile(u: user::Model, primary: Option<Uuid>, primary_name: Option<String>) -> UserProfile {
    UserProfile {
        id: u.id,
        username: u.username,
        email: u.email,
        phone: u.phone,
        display_name: u.display_name,
        avatar_url: u.avatar_url,
        bio: u.bio,
        gender: u.gender,
        address: u.address,
        contact_phone: u.contact_phone,
        whatsapp: u.whatsapp,
        wechat: u.wechat,
        primary_organization_id: primary,
        primary_organization_name: primary_name,
        is_active: u.is_active,
        is_locked: u.is_locked,
        last_login_at: u.last_login_at,
        created_at: u.created_at,
        updated_at: u.updated_at,
        deleted_at: u.deleted_at,
        version: u.version,
    }
}

pub async fn view(db: &impl ConnectionTrait, user: user::Model) -> ApiResult<UserView> {
    views(db, vec![user]).await?.pop().ok_or_else(|| ApiError::internal("view of one user was empty"))
}

/// 400 on `field` when any of `role_ids` is not a role.
pub async fn ensure_roles_exist(db: &impl ConnectionTrait, field: &str, role_ids: &[Uuid]) -> ApiResult<()> {
    let found = role::Entity::find().filter(role::Column::Id.is_in(role_ids.to_vec())).count(db).await?;
    if found as usize != dedup(role_ids).len() {
        return Err(ApiError::field(field, "role not found"));
    }
    Ok(())
}

/// A caller can grant only roles whose permissions they hold themselves, so `user.create` alone
/// never mints an administrator. Platform admins may grant anything.
pub async fn ensure_can_grant(db: &impl ConnectionTrait, caller: &Principal, role_ids: &[Uuid]) -> ApiResult<()> {
    if caller.is_platform_admin {
        return Ok(());
    }
    let wanted = access::permissions_of_roles(db, role_ids).await?;
    if let Some(missing) = wanted.iter().find(|code| !has_permission(&caller.permissions, code)) {
        return Err(ApiError::forbidden(format!("cannot grant a role carrying {missing}, which you do not hold")));
    }
    Ok(())
}

pub fn dedup(ids: &[Uuid]) -> Vec<Uuid> {
    let mut v = ids.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

pub async fn replace_roles(db: &impl ConnectionTrait, user_id: Uuid, role_ids: &[Uuid]) -> ApiResult<()> {
    user_role::Entity::delete_many().filter(user_role::Column::UserId.eq(user_id)).exec(db).await?;
    let now = Utc::now();
    let rows: Vec<user_role::ActiveModel> = dedup(role_ids)
        .into_iter()
        .map(|role_id| user_role::ActiveModel { user_id: Set(user_id), role_id: Set(role_id), created_at: Set(now) })
        .collect();
    if !rows.is_empty() {
        user_role::Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    Ok(())
}

pub async fn email_taken(db: &impl ConnectionTrait, email: &str, except: Option<Uuid>) -> ApiResult<bool> {
    let mut q = user::Entity::find().filter(user::Column::Email.eq(email.to_lowercase()));
    if let Some(id) = except {
        q = q.filter(user::Column::Id.ne(id));
    }
    Ok(q.select_only().column(user::Column::Id).into_tuple::<Uuid>().one(db).await?.is_some())
}

/// Everything needed to create a login account with its membership.
pub struct NewAccount {
    pub email: String,
    pub username: String,
    pub password_hash: String,
    pub display_name: Option<String>,
    pub phone: Option<String>,
    pub gender: Option<String>,
    pub organization_id: Uuid,
    pub role_ids: Vec<Uuid>,
    pub is_manager: bool,
    pub position: Option<String>,
    /// The membership's place in the organization's hierarchy.
    pub position_id: Option<Uuid>,
    pub is_active: bool,
    pub created_by: Option<Uuid>,
}

/// Inserts the user, its primary membership and its roles. Run inside a transaction.
pub async fn insert_account(db: &impl ConnectionTrait, new: NewAccount) -> ApiResult<user::Model> {
    let email = new.email.trim().to_lowercase();
    if email_taken(db, &email, None).await? {
        return Err(ApiError::conflict("e-mail already exists"));
    }
    let now = Utc::now();
    let id = Uuid::now_v7();
    let model = user::Model {
        id,
        username: new.username,
        email,
        phone: new.phone,
        contact_phone: None,
        whatsapp: None,
        wechat: None,
        display_name: new.display_name,
        avatar_url: None,
        bio: None,
        address: None,
        gender: new.gender,
        password_hash: new.password_hash,
        is_active: new.is_active,
        is_locked: false,
        last_login_at: None,
        deleted_at: None,
        created_by: new.created_by,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    user::Entity::insert(user::ActiveModel::from(model.clone())).exec_without_returning(db).await?;
    employee::Entity::insert(employee::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(id),
        organization_id: Set(new.organization_id),
        first_name: Set(None),
        last_name: Set(None),
        email: Set(None),
        phone: Set(None),
        position: Set(new.position),
        position_id: Set(new.position_id),
        department: Set(None),
        employee_number: Set(None),
        is_primary: Set(true),
        is_manager: Set(new.is_manager),
        is_decision_maker: Set(false),
        is_active: Set(true),
        joined_at: Set(Some(now.date_naive())),
        left_at: Set(None),
        notes: Set(None),
        created_by: Set(new.created_by),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    replace_roles(db, id, &new.role_ids).await?;
    Ok(model)
}

/// The username a new account gets when none is given: the e-mail's local part.
pub fn default_username(email: &str) -> String {
    email.trim().split('@').next().unwrap_or(email).to_lowercase().chars().take(50).collect()
}
