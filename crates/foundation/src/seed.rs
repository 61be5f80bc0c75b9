//! First-start data, idempotent: the BANTU organization, the preset roles, the permission
//! catalogue (a permission's default grants are applied only when it is first inserted, so later
//! changes by administrators stick), the menu tree (likewise: a menu's permissions are linked only
//! when it is first inserted) and the first administrator.

use crate::access::BANTU_ORG_ID;
use crate::auth::password::{self, Passwords};
use crate::config::Config;
use crate::organizations::model::organization;
use crate::perm::{PRESET_ROLES, SEEDED, split_code};
use crate::permissions::model::{permission, role_permission};
use crate::roles::model as role;
use crate::users::model::user;
use crate::users::service::{self as users, NewAccount};
use chrono::Utc;
use crm_common::{ApiError, ApiResult};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use std::collections::HashMap;
use uuid::Uuid;

/// Credentials generated at first start, to be shown once.
pub struct FirstAdmin {
    pub email: String,
    pub username: String,
    pub password: String,
}

pub async fn run(db: &DatabaseConnection, passwords: &Passwords, config: &Config) -> ApiResult<Option<FirstAdmin>> {
    let txn = crm_common::db::begin_write(db).await?;
    ensure_bantu(&txn).await?;
    let roles = ensure_roles(&txn).await?;
    ensure_permissions(&txn, &roles).await?;
    ensure_menus(&txn).await?;
    txn.commit().await?;
    if user::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    let (pw, generated) = match &config.admin_password {
        Some(p) => (p.clone(), false),
        None => (password::generate(), true),
    };
    create_admin(db, passwords, &config.admin_email, &config.admin_username, &pw).await?;
    Ok(generated.then(|| FirstAdmin {
        email: config.admin_email.clone(),
        username: config.admin_username.clone(),
        password: pw,
    }))
}

async fn ensure_bantu(db: &impl sea_orm::ConnectionTrait) -> ApiResult<()> {
    if organization::Entity::find_by_id(BANTU_ORG_ID).one(db).await?.is_some() {
        return Ok(());
    }
    let now = Utc::now();
    let org = organization::ActiveModel {
        id: Set(BANTU_ORG_ID),
        name: Set("BANTU".into()),
        code: Set(Some("BANTU".into())),
        organization_type: Set("internal".into()),
        email: Set(None),
        phone: Set(None),
        website: Set(None),
        logo_url: Set(None),
        description: Set(Some("BANTU internal organization".into())),
        street: Set(None),
        city: Set(None),
        state_province: Set(None),
        postal_code: Set(None),
        country_region: Set(None),
        country: Set(None),
        country_code: Set(None),
        company_size: Set(None),
        company_nature: Set(None),
        company_type: Set(None),
        company_status: Set(None),
        industry: Set(None),
        registration_number: Set(None),
        tax_id: Set(None),
        legal_representative: Set(None),
        established_date: Set(None),
        employee_count: Set(None),
        certifications: Set(None),
        is_active: Set(true),
        is_locked: Set(false),
        is_verified: Set(true),
        verified_at: Set(Some(now)),
        created_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        external_id: Set(None),
        parent_id: Set(None),
    };
    organization::Entity::insert(org).exec_without_returning(db).await?;
    Ok(())
}

async fn ensure_roles(db: &impl sea_orm::ConnectionTrait) -> ApiResult<HashMap<&'static str, Uuid>> {
    let mut ids = HashMap::new();
    for (code, name, name_zh, name_id) in PRESET_ROLES {
        let existing = role::Entity::find().filter(role::Column::Code.eq(code)).one(db).await?;
        let id = match existing {
            Some(r) => r.id,
            None => {
                let now = Utc::now();
                let id = Uuid::now_v7();
                role::Entity::insert(role::ActiveModel {
                    id: Set(id),
                    code: Set(code.into()),
                    name: Set(name.into()),
                    name_zh: Set(Some(name_zh.into())),
                    name_id: Set(Some(name_id.into())),
                    description: Set(None),
                    description_zh: Set(None),
                    description_id: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                })
                .exec_without_returning(db)
                .await?;
                id
            }
        };
        ids.insert(code, id);
    }
    Ok(ids)
}

async fn ensure_permissions(db: &impl sea_orm::ConnectionTrait, roles: &HashMap<&'static str, Uuid>) -> ApiResult<()> {
    let existing: Vec<String> = permission::Entity::find().all(db).await?.into_iter().map(|p| p.code).collect();
    for (order, seed) in SEEDED.iter().enumerate() {
        if existing.iter().any(|c| c == seed.code) {
            continue;
        }
        let (resource, action) = split_code(seed.code);
        let now = Utc::now();
        let id = Uuid::now_v7();
        permission::Entity::insert(permission::ActiveModel {
            id: Set(id),
            code: Set(seed.code.into()),
            name_zh: Set(seed.code.into()),
            name_id: Set(seed.code.into()),
            description_zh: Set(None),
            description_id: Set(None),
            resource_type: Set(resource.into()),
            action: Set(action.into()),
            display_order: Set(i32::try_from(order).unwrap_or(i32::MAX)),
            is_active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_without_returning(db)
        .await?;
        let grants: Vec<role_permission::ActiveModel> = seed
            .roles
            .iter()
            .filter_map(|code| roles.get(code))
            .map(|role_id| role_permission::ActiveModel {
                role_id: Set(*role_id),
                permission_id: Set(id),
                created_at: Set(now),
            })
            .collect();
        if !grants.is_empty() {
            role_permission::Entity::insert_many(grants).exec_without_returning(db).await?;
        }
    }
    Ok(())
}

/// A seeded menu: code, parent code, names (zh, id), path, icon, display order, and the
/// permissions of which any one opens it (none: every logged-in user).
type SeedMenu = (
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i32,
    &'static [&'static str],
);

/// The original's menu tree; parents come before their children. A group is linked to every
/// permission of its entries, so a group with nothing to show for a user is hidden too.
const MENUS: &[SeedMenu] = &[
    ("dashboard", None, "仪表盘", "Dasbor", "/dashboard", "dashboard", 10, &[]),
    ("user-management", None, "用户管理", "Manajemen Pengguna", "/users", "user", 100, &["user.list", "user.create"]),
    ("user-list", Some("user-management"), "用户列表", "Daftar Pengguna", "/users/list", "list", 10, &["user.list"]),
    (
        "user-create",
        Some("user-management"),
        "创建用户",
        "Buat Pengguna",
        "/users/create",
        "plus",
        20,
        &["user.create"],
    ),
    (
        "organization-management",
        None,
        "组织管理",
        "Manajemen Organisasi",
        "/organizations",
        "apartment",
        200,
        &["organization.list", "organization.create"],
    ),
    (
        "organization-list",
        Some("organization-management"),
        "组织列表",
        "Daftar Organisasi",
        "/organizations/list",
        "list",
        10,
        &["organization.list"],
    ),
    (
        "organization-create",
        Some("organization-management"),
        "创建组织",
        "Buat Organisasi",
        "/organizations/create",
        "plus",
        20,
        &["organization.create"],
    ),
    (
        "role-management",
        None,
        "角色管理",
        "Manajemen Peran",
        "/roles",
        "team",
        300,
        &["role.list", "permission.manage"],
    ),
    ("role-list", Some("role-management"), "角色列表", "Daftar Peran", "/roles/list", "list", 10, &["role.list"]),
    (
        "role-permission",
        Some("role-management"),
        "权限分配",
        "Penetapan Izin",
        "/roles/permissions",
        "key",
        20,
        &["permission.manage"],
    ),
    ("lead-management", None, "线索管理", "Manajemen Prospek", "/leads", "aim", 400, &["lead.list", "lead.create"]),
    ("lead-list", Some("lead-management"), "线索列表", "Daftar Prospek", "/leads/list", "list", 10, &["lead.list"]),
    ("lead-create", Some("lead-management"), "创建线索", "Buat Prospek", "/leads/create", "plus", 20, &["lead.create"]),
    (
        "opportunity-management",
        None,
        "商机管理",
        "Manajemen Peluang",
        "/opportunities",
        "fund",
        500,
        &["opportunity.list", "opportunity.create"],
    ),
    (
        "opportunity-list",
        Some("opportunity-management"),
        "商机列表",
        "Daftar Peluang",
        "/opportunities/list",
        "list",
        10,
        &["opportunity.list"],
    ),
    (
        "opportunity-create",
        Some("opportunity-management"),
        "创建商机",
        "Buat Peluang",
        "/opportunities/create",
        "plus",
        20,
        &["opportunity.create"],
    ),
    (
        "order-management",
        None,
        "订单管理",
        "Manajemen Pesanan",
        "/orders",
        "shopping",
        600,
        &["order.list", "order.receive", "order.track"],
    ),
    ("order-list", Some("order-management"), "订单列表", "Daftar Pesanan", "/orders/list", "list", 10, &["order.list"]),
    (
        "order-receive",
        Some("order-management"),
        "接收订单",
        "Terima Pesanan",
        "/orders/receive",
        "inbox",
        20,
        &["order.receive"],
    ),
    (
        "order-track",
        Some("order-management"),
        "订单跟踪",
        "Lacak Pesanan",
        "/orders/track",
        "eye",
        30,
        &["order.track"],
    ),
    (
        "finance-management",
        None,
        "财务管理",
        "Manajemen Keuangan",
        "/finance",
        "account-book",
        700,
        &["finance.receivable.view", "finance.payable.view", "finance.report.view"],
    ),
    (
        "finance-receivable",
        Some("finance-management"),
        "应收账款",
        "Piutang",
        "/finance/receivable",
        "rise",
        10,
        &["finance.receivable.view"],
    ),
    (
        "finance-payable",
        Some("finance-management"),
        "应付账款",
        "Utang",
        "/finance/payable",
        "fall",
        20,
        &["finance.payable.view"],
    ),
    (
        "finance-report",
        Some("finance-management"),
        "财务报表",
        "Laporan Keuangan",
        "/finance/reports",
        "bar-chart",
        30,
        &["finance.report.view"],
    ),
    (
        "system-management",
        None,
        "系统管理",
        "Manajemen Sistem",
        "/system",
        "setting",
        800,
        &["menu.manage", "permission.manage"],
    ),
    (
        "system-menu",
        Some("system-management"),
        "菜单管理",
        "Manajemen Menu",
        "/system/menus",
        "menu",
        10,
        &["menu.manage"],
    ),
    (
        "system-permission",
        Some("system-management"),
        "权限管理",
        "Manajemen Izin",
        "/system/permissions",
        "safety",
        20,
        &["permission.manage"],
    ),
];

async fn ensure_menus(db: &impl sea_orm::ConnectionTrait) -> ApiResult<()> {
    use crate::menus::model::menu;
    let mut ids: HashMap<String, Uuid> =
        menu::Entity::find().all(db).await?.into_iter().map(|m| (m.code, m.id)).collect();
    let permissions: HashMap<String, Uuid> =
        permission::Entity::find().all(db).await?.into_iter().map(|p| (p.code, p.id)).collect();
    for (code, parent, name_zh, name_id, path, icon, order, codes) in MENUS {
        if ids.contains_key(*code) {
            continue;
        }
        let now = Utc::now();
        let id = Uuid::now_v7();
        menu::Entity::insert(menu::ActiveModel {
            id: Set(id),
            code: Set((*code).into()),
            name_zh: Set((*name_zh).into()),
            name_id: Set((*name_id).into()),
            description_zh: Set(None),
            description_id: Set(None),
            parent_id: Set(parent.and_then(|p| ids.get(p).copied())),
            path: Set(Some((*path).into())),
            component: Set(None),
            icon: Set(Some((*icon).into())),
            display_order: Set(*order),
            is_active: Set(true),
            is_visible: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_without_returning(db)
        .await?;
        let linked = codes.iter().filter_map(|c| permissions.get(*c).copied()).collect();
        crate::menus::service::link(db, id, linked).await?;
        ids.insert((*code).into(), id);
    }
    Ok(())
}

/// An ADMIN of the BANTU organization (first start, and `crm-foundation create-admin`).
pub async fn create_admin(
    db: &DatabaseConnection,
    passwords: &Passwords,
    email: &str,
    username: &str,
    pw: &str,
) -> ApiResult<user::Model> {
    let mut v = crm_common::api::validate::Validator::new();
    v.email("CRM_ADMIN_EMAIL", email).length("CRM_ADMIN_USERNAME", username, 1, 50).finish()?;
    password::check_policy("CRM_ADMIN_PASSWORD", pw)?;
    let admin_role = role::Entity::find()
        .filter(role::Column::Code.eq("ADMIN"))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::internal("preset role ADMIN missing"))?;
    let hash = passwords.hash(pw).await?;
    let txn = crm_common::db::begin_write(db).await?;
    let created = users::insert_account(
        &txn,
        NewAccount {
            email: email.into(),
            username: username.into(),
            password_hash: hash,
            display_name: Some("Administrator".into()),
            phone: None,
            gender: None,
            organization_id: BANTU_ORG_ID,
            role_ids: vec![admin_role.id],
            is_manager: true,
            position: Some("administrator".into()),
            position_id: None,
            is_active: true,
            created_by: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}
