//! What a request did, from its method and path alone: the action (`CREATE`, `LOGIN`, `EXPORT`, …),
//! the category (`user_management`, …) and the resource type and id.

use axum::http::Method;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    pub action: String,
    pub category: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
}

/// `(path segment, category, resource type)` for the resources of every service.
const KNOWN: &[(&str, &str, &str)] = &[
    ("auth", "authentication", "user"),
    ("users", "user_management", "user"),
    ("employees", "user_management", "employee"),
    ("organizations", "organization_management", "organization"),
    ("organization-domains", "organization_domain_management", "organization_domain"),
    ("roles", "role_management", "role"),
    ("permissions", "permission_management", "permission"),
    ("menus", "menu_management", "menu"),
    ("audit-logs", "audit_management", "audit_log"),
    ("positions", "position_management", "position"),
    ("worklogs", "work_log_management", "work_log"),
    ("upload", "file_management", "file"),
    ("uploads", "file_management", "file"),
    ("orders", "order_management", "order"),
    ("leads", "lead_management", "lead"),
    ("opportunities", "opportunity_management", "opportunity"),
    ("collection-tasks", "collection_task_management", "collection_task"),
    ("temporary-links", "temporary_link_management", "temporary_link"),
    ("notifications", "notification_management", "notification"),
    ("product-dependencies", "product_dependency_management", "product_dependency"),
    ("customers", "customer_management", "customer"),
    ("contacts", "contact_management", "contact"),
    ("products", "product_management", "product"),
    ("categories", "product_category_management", "product_category"),
    ("service-types", "service_type_management", "service_type"),
    ("service-records", "service_record_management", "service_record"),
    ("industries", "industry_management", "industry"),
    ("customer-sources", "customer_source_management", "customer_source"),
    ("analytics", "analytics", "analytics"),
    ("monitoring", "monitoring", "monitoring"),
    ("alerts", "monitoring", "alert"),
    ("logs", "log_management", "log"),
];

/// Sub-resources of orders, which have categories of their own.
const ORDER_PARTS: &[(&str, &str, &str)] = &[
    ("items", "order_item_management", "order_item"),
    ("comments", "order_comment_management", "order_comment"),
    ("files", "order_file_management", "order_file"),
];

/// Path suffixes that name the action better than the method does.
const SUFFIX_ACTIONS: &[(&str, &str)] = &[
    ("login", "LOGIN"),
    ("logout", "LOGOUT"),
    ("refresh", "REFRESH"),
    ("register", "REGISTER"),
    ("export", "EXPORT"),
    ("import", "IMPORT"),
    ("upload", "UPLOAD"),
    ("lock", "LOCK"),
    ("unlock", "UNLOCK"),
    ("assign", "ASSIGN"),
    ("reset-password", "RESET_PASSWORD"),
    ("password", "CHANGE_PASSWORD"),
    ("rate", "RATE"),
    ("move", "MOVE"),
    ("restore", "RESTORE"),
    ("batch", "BATCH"),
];

/// A UUID or a plain number: the segment names one record.
pub fn is_id(segment: &str) -> bool {
    uuid::Uuid::parse_str(segment).is_ok()
        || (!segment.is_empty() && segment.len() <= 20 && segment.bytes().all(|b| b.is_ascii_digit()))
}

/// The segments after `/api/<service>`.
fn segments(path: &str) -> Vec<&str> {
    let all: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if all.first() == Some(&"api") { all.into_iter().skip(2).collect() } else { all }
}

/// The table entry of `segment`; under `/orders` its sub-resources come first.
fn known(first: &str, segment: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    let parts = if first == "orders" { ORDER_PARTS } else { &[] };
    parts.iter().chain(KNOWN).find(|(s, ..)| *s == segment)
}

fn resource_type_of(first: &str, segment: &str) -> String {
    if let Some((_, _, t)) = known(first, segment) {
        return (*t).to_owned();
    }
    let s = segment.replace('-', "_");
    if let Some(stem) = s.strip_suffix("ies") {
        format!("{stem}y")
    } else if s.ends_with('s') && !s.ends_with("ss") {
        s[..s.len() - 1].to_owned()
    } else {
        s
    }
}

/// Whether the request is an export (recorded whatever its method).
pub fn is_export(path: &str) -> bool {
    segments(path).contains(&"export")
}

pub fn classify(method: &Method, path: &str) -> Classified {
    let segs = segments(path);
    let first = segs.first().copied().unwrap_or("");
    let last = segs.last().copied().unwrap_or("");
    let action = if segs.contains(&"export") {
        "EXPORT".to_owned()
    } else if let Some((_, a)) = SUFFIX_ACTIONS.iter().find(|(s, _)| *s == last) {
        (*a).to_owned()
    } else {
        match *method {
            Method::GET | Method::HEAD => "VIEW".to_owned(),
            Method::POST => "CREATE".to_owned(),
            Method::PUT | Method::PATCH => "UPDATE".to_owned(),
            Method::DELETE => "DELETE".to_owned(),
            ref other => other.as_str().to_ascii_uppercase(),
        }
    };
    let category_segment = match first {
        "orders" => segs.iter().skip(1).copied().find(|s| ORDER_PARTS.iter().any(|(p, ..)| p == s)).unwrap_or(first),
        _ => first,
    };
    let category = match known(first, category_segment) {
        Some((_, c, _)) => (*c).to_owned(),
        None if category_segment.is_empty() => "system".to_owned(),
        None => format!("{}_management", category_segment.replace('-', "_")),
    };
    let id_at = segs.iter().rposition(|s| is_id(s));
    let (resource_type, resource_id) = match id_at {
        Some(i) => {
            let owner = segs[..i].iter().rev().find(|s| !is_id(s)).copied().unwrap_or(first);
            (resource_type_of(first, owner), Some(segs[i].to_owned()))
        }
        None => (resource_type_of(first, first), None),
    };
    let resource_type = Some(resource_type).filter(|t| !t.is_empty());
    Classified { action, category, resource_type, resource_id }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(method: Method, path: &str) -> (String, String, Option<String>, Option<String>) {
        let r = classify(&method, path);
        (r.action, r.category, r.resource_type, r.resource_id)
    }

    #[test]
    fn methods_and_suffixes() {
        let id = "0190f5a2-7b1c-7000-8000-000000000001";
        assert_eq!(
            c(Method::POST, "/api/foundation/users"),
            ("CREATE".into(), "user_management".into(), Some("user".into()), None)
        );
        assert_eq!(
            c(Method::PUT, &format!("/api/foundation/users/{id}")),
            ("UPDATE".into(), "user_management".into(), Some("user".into()), Some(id.into()))
        );
        assert_eq!(c(Method::POST, &format!("/api/foundation/users/{id}/lock")).0, "LOCK");
        assert_eq!(c(Method::POST, "/api/foundation/auth/login").0, "LOGIN");
        assert_eq!(c(Method::POST, "/api/foundation/auth/login").1, "authentication");
        assert_eq!(c(Method::POST, "/api/foundation/audit-logs/export").0, "EXPORT");
        assert_eq!(c(Method::GET, "/api/order-workflow/orders/export").0, "EXPORT");
        assert_eq!(c(Method::DELETE, "/api/order-workflow/leads/42").3.as_deref(), Some("42"));
        assert_eq!(c(Method::GET, "/api/foundation/menus/tree/list").0, "VIEW");
    }

    #[test]
    fn nested_resources_and_categories() {
        let org = "0190f5a2-7b1c-7000-8000-000000000001";
        let emp = "0190f5a2-7b1c-7000-8000-000000000002";
        let r = classify(&Method::PUT, &format!("/api/foundation/organizations/{org}/employees/{emp}"));
        assert_eq!(r.resource_type.as_deref(), Some("employee"));
        assert_eq!(r.resource_id.as_deref(), Some(emp));
        assert_eq!(r.category, "organization_management");
        let r = classify(&Method::POST, &format!("/api/foundation/menus/{org}/permissions/assign"));
        assert_eq!((r.action.as_str(), r.resource_type.as_deref()), ("ASSIGN", Some("menu")));
        let r = classify(&Method::POST, &format!("/api/order-workflow/orders/{org}/comments"));
        assert_eq!(r.category, "order_comment_management");
        assert_eq!(r.resource_type.as_deref(), Some("order"));
        let r = classify(&Method::DELETE, &format!("/api/order-workflow/orders/{org}/items/{emp}"));
        assert_eq!((r.category.as_str(), r.resource_type.as_deref()), ("order_item_management", Some("order_item")));
        let r = classify(&Method::POST, "/api/demo/items");
        assert_eq!((r.category.as_str(), r.resource_type.as_deref()), ("items_management", Some("item")));
        assert_eq!(classify(&Method::POST, "/api/x/service-types").category, "service_type_management");
        assert_eq!(classify(&Method::POST, "/api/x/price-lists").resource_type.as_deref(), Some("price_list"));
        assert_eq!(classify(&Method::POST, "/api/x/batteries").resource_type.as_deref(), Some("battery"));
    }
}
