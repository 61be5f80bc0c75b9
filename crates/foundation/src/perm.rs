//! Permission codes (`resource.action`, the canonical form) that guard foundation's routes, the
//! seeded catalogue with its preset-role grants, and the original's login permission map.

use crm_common::permissions;

permissions! {
    UserCreate => "user.create",
    UserUpdate => "user.update",
    UserDelete => "user.delete",
    UserLock => "user.lock",
    UserView => "user.view",
    UserList => "user.list",
    OrganizationCreate => "organization.create",
    OrganizationUpdate => "organization.update",
    OrganizationLock => "organization.lock",
    OrganizationDelete => "organization.delete",
    OrganizationView => "organization.view",
    OrganizationList => "organization.list",
    RoleCreate => "role.create",
    RoleView => "role.view",
    RoleUpdate => "role.update",
    RoleDelete => "role.delete",
    RoleList => "role.list",
    RoleAssign => "role.assign",
    PermissionView => "permission.view",
    PermissionManage => "permission.manage",
    MenuView => "menu.view",
    MenuManage => "menu.manage",
    DomainView => "organization_domain.view",
    DomainManage => "organization_domain.manage",
    PositionCreate => "position.create",
    PositionView => "position.view",
    PositionUpdate => "position.update",
    PositionDelete => "position.delete",
    WorklogCreate => "worklog.create",
    WorklogView => "worklog.view",
    WorklogUpdate => "worklog.update",
    FileUpload => "file.upload",
    FileView => "file.view",
    AuditView => "audit.view",
    AuditExport => "audit.export",
    /// Business analytics: the aggregates foundation computes for analytics-monitoring (users'
    /// activity, organizations' summary), scoped to the caller's organization.
    AnalyticsView => "analytics.view",
}

/// Rating any work log of the organization (managers may rate without it).
pub const WORKLOG_RATE: &str = "worklog.rate";

pub const PRESET_ROLES: [(&str, &str, &str, &str); 5] = [
    ("ADMIN", "Administrator", "管理员", "Administrator"),
    ("SALES", "Internal sales", "内部销售", "Penjualan internal"),
    ("AGENT", "Channel agent", "渠道代理", "Agen saluran"),
    ("OPERATION", "Order operations", "订单处理", "Operasional pesanan"),
    ("FINANCE", "Finance", "财务", "Keuangan"),
];

pub fn is_preset_role(code: &str) -> bool {
    PRESET_ROLES.iter().any(|(c, ..)| *c == code)
}

/// A seeded permission and the preset roles it is granted to on first start.
pub struct SeedPermission {
    pub code: &'static str,
    pub roles: &'static [&'static str],
}

const ALL: &[&str] = &["ADMIN", "SALES", "AGENT", "OPERATION", "FINANCE"];
const ADMIN: &[&str] = &["ADMIN"];
const LISTERS: &[&str] = &["ADMIN", "SALES", "OPERATION", "FINANCE"];
const SELLERS: &[&str] = &["ADMIN", "SALES", "AGENT"];
const OPERATORS: &[&str] = &["ADMIN", "OPERATION"];
const FINANCE: &[&str] = &["ADMIN", "FINANCE"];
const SELLERS_AND_OPERATORS: &[&str] = &["ADMIN", "SALES", "AGENT", "OPERATION"];

macro_rules! seed {
    ($($code:literal => $roles:expr),* $(,)?) => {
        &[$(SeedPermission { code: $code, roles: $roles }),*]
    };
}

pub const SEEDED: &[SeedPermission] = seed! {
    "user.create" => ADMIN, "user.update" => ADMIN, "user.delete" => ADMIN, "user.lock" => ADMIN,
    "user.view" => ALL, "user.list" => LISTERS,
    "organization.create" => ADMIN, "organization.update" => ADMIN, "organization.delete" => ADMIN,
    "organization.lock" => ADMIN, "organization.view" => ALL, "organization.list" => LISTERS,
    "role.create" => ADMIN, "role.view" => ADMIN, "role.update" => ADMIN, "role.delete" => ADMIN,
    "role.list" => ADMIN, "role.assign" => ADMIN,
    "permission.view" => ADMIN, "permission.manage" => ADMIN,
    "menu.view" => ADMIN, "menu.manage" => ADMIN,
    "lead.create" => SELLERS, "lead.view" => SELLERS, "lead.update" => SELLERS, "lead.list" => SELLERS,
    "lead.convert" => SELLERS,
    "opportunity.create" => SELLERS, "opportunity.view" => SELLERS, "opportunity.update" => SELLERS,
    "opportunity.list" => SELLERS,
    // order-workflow's orders. Sellers create orders and see and change the ones they sold;
    // operations and finance see the organization's; managers approve (`order.approve`).
    "order.receive" => OPERATORS, "order.view" => ALL, "order.update" => SELLERS_AND_OPERATORS,
    "order.list" => ALL, "order.assign" => OPERATORS, "order.track" => OPERATORS,
    "order.upload" => OPERATORS, "order.create" => SELLERS_AND_OPERATORS, "order.approve" => ADMIN,
    // An order's payment stages, payments and collection tasks: finance and managers manage
    // them; whoever sees the order reads them (`order.view`).
    "payment.manage" => FINANCE,
    // order-workflow's workflows and tasks: everyone works their tasks (whether a completion
    // may move an order is the order rules' call); managers write definitions and run instances.
    "workflow.view" => ALL, "workflow.manage" => ADMIN,
    // order-workflow's temporary links: whoever sees a resource may share it by a link, and
    // list and disable their own links.
    "temporary_link.manage" => ALL,
    "finance.receivable.view" => FINANCE, "finance.receivable.manage" => FINANCE,
    "finance.payable.view" => FINANCE, "finance.payable.manage" => FINANCE,
    "finance.report.view" => FINANCE, "finance.report.export" => FINANCE,
    "audit.view" => ADMIN, "audit.export" => ADMIN,
    "organization_domain.view" => ALL, "organization_domain.manage" => ADMIN,
    "position.create" => ADMIN, "position.view" => ALL, "position.update" => ADMIN, "position.delete" => ADMIN,
    "worklog.create" => ALL, "worklog.view" => ALL, "worklog.update" => ALL, "worklog.rate" => ADMIN,
    "file.upload" => ALL, "file.view" => ALL,
    // service-management's catalogue: the BANTU company's, managed by its administrators and read
    // by everyone; vendor offers and vendor prices managed by each vendor's administrators.
    "catalog.view" => ALL, "catalog.manage" => ADMIN,
    "vendor_product.view" => ALL, "vendor_product.manage" => ADMIN,
    "price.view" => ALL, "price.manage" => ADMIN, "price.approve" => ADMIN,
    // service-management's customer side. Who sees which customers is decided per record
    // (owner, organization, ADMIN); `customer.pii` shows contact details unmasked.
    "customer.view" => ALL, "customer.create" => SELLERS, "customer.update" => SELLERS,
    "customer.delete" => ADMIN, "customer.pii" => ADMIN,
    "service_record.view" => ALL, "service_record.manage" => SELLERS_AND_OPERATORS,
    // analytics-monitoring: managers read their organization's business analytics; operators
    // watch the system (health, metrics, alerts) and acknowledge alerts; the application logs,
    // which hold every tenant's requests, are the administrators'. Monitoring and logs also
    // require a platform administrator.
    "analytics.view" => FINANCE, "monitoring.view" => OPERATORS, "alert.manage" => OPERATORS,
    "logs.view" => ADMIN,
    // Its report exports (orders, leads, customers as XLSX): whoever lists the organization's
    // records; each owner still applies its own visibility to the rows exported.
    "report.export" => LISTERS,
};

/// `("finance.receivable", "view")` from `finance.receivable.view`.
pub fn split_code(code: &str) -> (&str, &str) {
    code.rsplit_once('.').unwrap_or((code, ""))
}

/// The `permissions` list the original's login response carried: a fixed map from role codes.
pub fn legacy_permissions(roles: &[String]) -> Vec<String> {
    let mut out: Vec<&str> = Vec::new();
    for role in roles {
        let granted: &[&str] = match role.as_str() {
            "ADMIN" => &["*:*"],
            "SALES" => &["customer:read", "customer:write", "order:read", "order:write"],
            "AGENT" => &["customer:read", "order:read"],
            "OPERATION" => &["order:read", "order:write", "order:process"],
            "FINANCE" => &["order:read", "finance:read", "finance:write"],
            _ => &[],
        };
        out.extend(granted);
    }
    out.sort_unstable();
    out.dedup();
    out.into_iter().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_map_is_a_union() {
        let perms = legacy_permissions(&["AGENT".into(), "FINANCE".into()]);
        assert_eq!(perms, ["customer:read", "finance:read", "finance:write", "order:read"]);
        assert_eq!(legacy_permissions(&["ADMIN".into()]), ["*:*"]);
    }

    #[test]
    fn seeded_codes_are_unique() {
        let mut codes: Vec<_> = SEEDED.iter().map(|p| p.code).collect();
        codes.sort_unstable();
        let n = codes.len();
        codes.dedup();
        assert_eq!(n, codes.len());
    }
}
