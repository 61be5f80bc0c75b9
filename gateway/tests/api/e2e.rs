//! End to end: every service binary as a real process, each on its own SQLite database, behind
//! the real gateway over HTTPS. A whole sale goes through it across services; tenancy holds in
//! every service; audit events of every service reach foundation; one request's id appears in
//! the log of every process it touched.

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::system::{Node, PASSWORD, id, start};
use http::Method;
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_sale_across_services_through_the_gateway_over_https() {
    let sys = start().await;
    let admin = sys.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let a = Some(admin.as_str());

    // The administrator: a seller, and a product in the catalogue.
    let roles = sys.call(Method::GET, "/api/foundation/roles", a, None).await;
    let sales_role = roles.as_array().unwrap().iter().find(|r| r["code"] == "SALES").map(id).unwrap();
    let bantu = "00000000-0000-0000-0000-000000000001";
    let seller = sys
        .call(
            Method::POST,
            "/api/foundation/users",
            a,
            Some(json!({"organization_id": bantu, "email": "sales@e2e.test", "password": PASSWORD, "role_ids": [sales_role]})),
        )
        .await;
    let seller_id = id(&seller);
    let product = sys
        .call(
            Method::POST,
            "/api/service-management/products",
            a,
            Some(json!({"name": "KITAS work visa", "code": "KITAS", "price_direct_cny": 5000})),
        )
        .await;
    let product_id = id(&product);
    let sales = sys.login("sales@e2e.test", PASSWORD).await;
    let s = Some(sales.as_str());

    // The seller: a lead, called twice, converted into a customer (in service-management) and an
    // opportunity (here in order-workflow).
    let lead = sys
        .call(
            Method::POST,
            "/api/order-workflow/leads",
            s,
            Some(json!({"name": "Budi", "company_name": "PT Maju Jaya"})),
        )
        .await;
    let lead_id = id(&lead);
    for (status, day) in [("contacted", "2026-12-01"), ("qualified", "2026-12-03")] {
        sys.call(
            Method::POST,
            &format!("/api/order-workflow/leads/{lead_id}/follow-ups"),
            s,
            Some(json!({"follow_up_type": "call", "content": "call", "follow_up_date": format!("{day}T03:00:00Z"), "status_after": status})),
        )
        .await;
    }
    let converted = sys
        .call(
            Method::POST,
            &format!("/api/order-workflow/leads/{lead_id}/convert-to-opportunity"),
            s,
            Some(json!({"opportunity_name": "KITAS for PT Maju Jaya", "amount": 10000})),
        )
        .await;
    let opportunity_id = converted["opportunity_id"].as_str().expect("an opportunity").to_owned();
    let customer_id = converted["opportunity"]["customer_id"].as_str().expect("a customer").to_owned();
    let customer = sys.call(Method::GET, &format!("/api/service-management/customers/{customer_id}"), s, None).await;
    assert_eq!(customer["name"], "PT Maju Jaya");
    let lead = sys.call(Method::GET, &format!("/api/order-workflow/leads/{lead_id}"), s, None).await;
    assert_eq!(lead["status"], "converted");

    // The opportunity: a product, along the board, converted into an order.
    let opp = sys
        .call(
            Method::PUT,
            &format!("/api/order-workflow/opportunities/{opportunity_id}"),
            s,
            Some(json!({"products": [{"product_id": product_id, "quantity": 2, "unit_price": 5000}]})),
        )
        .await;
    assert_eq!(opp["products"].as_array().map(Vec::len), Some(1), "{opp}");
    for stage in ["needs_analysis", "proposal", "negotiation"] {
        sys.call(
            Method::POST,
            &format!("/api/order-workflow/opportunities/{opportunity_id}/update-stage"),
            s,
            Some(json!({"stage": stage})),
        )
        .await;
    }
    let order = sys
        .call(
            Method::POST,
            &format!("/api/order-workflow/opportunities/{opportunity_id}/convert"),
            s,
            Some(json!({"order_title": "KITAS for two directors"})),
        )
        .await;
    let order_id = id(&order);
    assert_eq!(order["opportunity_id"], opportunity_id.as_str());
    assert_eq!(order["customer_id"], customer_id.as_str());
    assert_eq!(order["order_items"][0]["product_name"], "KITAS work visa");
    assert_eq!(order["total_amount"], 10000);
    let opp = sys.call(Method::GET, &format!("/api/order-workflow/opportunities/{opportunity_id}"), s, None).await;
    assert_eq!((opp["status"].as_str(), opp["stage"].as_str()), (Some("won"), Some("closed_won")));
    // A manager approves it.
    let approved = sys
        .call(
            Method::PUT,
            &format!("/api/order-workflow/orders/{order_id}"),
            a,
            Some(json!({"status_code": "approved"})),
        )
        .await;
    assert_eq!(approved["status_code"], "approved");

    // Its first payment stage, paid in full.
    let stage = sys
        .call(
            Method::POST,
            &format!("/api/order-workflow/orders/{order_id}/payment-stages"),
            a,
            Some(json!({"stage_name": "Down payment", "amount": 4000, "due_date": "2026-12-31"})),
        )
        .await;
    let paid = sys
        .call(
            Method::POST,
            &format!("/api/order-workflow/orders/{order_id}/payment-stages/{}/payments", id(&stage)),
            a,
            Some(json!({"amount": 4000, "payment_method": "transfer"})),
        )
        .await;
    assert_eq!(paid["payment_stage"]["status"], "paid", "{paid}");

    // The sale in analytics (composed by analytics-monitoring from the owners' aggregates).
    let summary = sys.call(Method::GET, "/api/analytics-monitoring/analytics/orders/summary", a, None).await;
    assert_eq!(summary["total"], 1, "{summary}");
    let deals = sys.call(Method::GET, "/api/analytics-monitoring/analytics/opportunities/summary", a, None).await;
    assert_eq!(deals["by_status"]["won"], 1, "{deals}");
    let customers = sys.call(Method::GET, "/api/analytics-monitoring/analytics/customers/summary", a, None).await;
    assert_eq!(customers["total"], 1, "{customers}");

    // Another organization's administrator reaches none of it, in any service.
    let org = sys
        .call(
            Method::POST,
            "/api/foundation/organizations",
            a,
            Some(json!({"name": "PT Lain", "organization_type": "internal", "admin_password": PASSWORD})),
        )
        .await;
    let stranger = sys.login(org["admin_user"]["email"].as_str().unwrap(), PASSWORD).await;
    let t = Some(stranger.as_str());
    for path in [
        format!("/api/order-workflow/leads/{lead_id}"),
        format!("/api/order-workflow/opportunities/{opportunity_id}"),
        format!("/api/order-workflow/orders/{order_id}"),
        format!("/api/service-management/customers/{customer_id}"),
        format!("/api/foundation/users/{seller_id}"),
    ] {
        let (status, v) = sys.try_call(Method::GET, &path, t, None, &[]).await;
        assert!(status == 404 || status == 403, "{path}: {status} {v}");
    }
    for path in ["/api/order-workflow/leads", "/api/order-workflow/orders", "/api/order-workflow/opportunities"] {
        let d = sys.call(Method::GET, path, t, None).await;
        assert_eq!(d["total"], 0, "{path}: {d}");
    }
    // Its analytics count nothing of the first organization's, and platform-wide ones are not its.
    let summary = sys.call(Method::GET, "/api/analytics-monitoring/analytics/orders/summary", t, None).await;
    assert_eq!(summary["total"], 0, "{summary}");
    let (status, v) = sys
        .try_call(
            Method::GET,
            &format!("/api/analytics-monitoring/analytics/orders/summary?organization_id={bantu}"),
            t,
            None,
            &[],
        )
        .await;
    assert!(status == 403 || status == 404 || (status == 200 && v["data"]["total"] == 0), "{status} {v}");

    // One request's id in every process it touched: a new token makes order-workflow and
    // service-management ask foundation who the caller is; creating an order makes order-workflow
    // ask service-management for the customer.
    let fresh = sys.login("sales@e2e.test", PASSWORD).await;
    let rid = format!("e2e-{}", Uuid::now_v7().simple());
    let (status, v) = sys
        .try_call(
            Method::POST,
            "/api/order-workflow/orders",
            Some(&fresh),
            Some(json!({"title": "Traced", "customer_id": customer_id})),
            &[("x-request-id", &rid)],
        )
        .await;
    assert_eq!(status, 200, "{v}");
    for (name, p) in [
        ("gateway", &sys.gateway),
        ("order-workflow", &sys.ow[0]),
        ("service-management", &sys.sm),
        ("foundation", &sys.foundation),
    ] {
        assert_logged(name, p, &rid).await;
    }
    // An analytics read: analytics-monitoring asks order-workflow for its aggregate (a new
    // organization filter, so not from the cache), under the same request id.
    let rid = format!("e2e-{}", Uuid::now_v7().simple());
    let path = "/api/analytics-monitoring/analytics/opportunities/funnel";
    let (status, v) = sys.try_call(Method::GET, path, a, None, &[("x-request-id", &rid)]).await;
    assert_eq!(status, 200, "{v}");
    for (name, p) in [("analytics-monitoring", &sys.am), ("order-workflow", &sys.ow[0])] {
        assert_logged(name, p, &rid).await;
    }

    // Audit events of every service reach foundation.
    let mut types = std::collections::BTreeSet::new();
    for _ in 0..100 {
        let d = sys.call(Method::GET, "/api/foundation/audit-logs?size=100", a, None).await;
        types = d["records"]
            .as_array()
            .or_else(|| d["items"].as_array())
            .map(|rows| rows.iter().filter_map(|r| r["resource_type"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        if ["product", "lead", "order", "user"].iter().all(|t| types.contains(*t)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for t in ["product", "lead", "order", "user"] {
        assert!(types.contains(t), "no {t} event reached foundation: {types:?}");
    }
}

/// Waits up to five seconds for `node`'s log to mention the request id `rid`.
async fn assert_logged(name: &str, node: &Node, rid: &str) {
    for _ in 0..50 {
        if node.log().contains(rid) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{name} logged nothing with the request id {rid}");
}
