//! Through the real gateway binary, the real client's paths: leads, orders and their items reach
//! this service; customer levels and product dependencies under this prefix reach
//! service-management (the gateway's default overrides); the token is checked on the way.

use crate::helpers::*;
use crm_common::testing::{Backend, Process, TestClient, free_port, sibling_binary};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_clients_paths_through_the_gateway() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let sm = app.sm();
    let dir = app.db.data_dir().join("gateway");
    let gateway = Process::start(
        &sibling_binary("crm-gateway"),
        free_port(),
        &dir,
        &[
            ("CRM_DATA_DIR", dir.display().to_string()),
            ("CRM_TLS_ENABLED", "false".into()),
            ("CRM_HTTP_REDIRECT", "false".into()),
            ("CRM_RATELIMIT_ENABLED", "false".into()),
            (
                "CRM_SERVICE_URLS",
                format!(
                    "foundation={},service-management={},order-workflow=http://127.0.0.1:{}",
                    app.foundation.url(),
                    sm.url(),
                    app.port
                ),
            ),
            ("CRM_JWKS_URL", format!("{}/api/foundation/auth/jwks.json", app.foundation.url())),
        ],
    )
    .healthy()
    .await;
    let gw = TestClient::new(gateway.url());
    let (_, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
    let t = Some(seller.as_str());

    // Leads, and the levels the lead form offers (answered by service-management).
    let r = gw.get("/api/order-workflow/customer-levels", t).await;
    r.expect(200);
    assert!(r.data().as_array().is_some_and(|l| !l.is_empty()), "{}", r.text);
    let r = gw
        .post("/api/order-workflow/leads", t, &json!({"name": "Budi", "company_name": "PT Maju", "level": "5"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let lead = id_of(r.data());
    let r = gw
        .post(
            &format!("/api/order-workflow/leads/{lead}/follow-ups"),
            t,
            &json!({"follow_up_type": "call",
            "content": "first call", "follow_up_date": "2026-12-07T03:00:00Z", "status_after": "contacted"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = gw.get("/api/order-workflow/leads?page=1&size=20", t).await;
    r.expect(200);
    assert_eq!(r.data()["items"][0]["status"], "contacted");

    // Orders and their items at the client's nested paths.
    let customer = app.customer(&seller, "PT Maju Jaya").await;
    let r = gw
        .post(
            "/api/order-workflow/orders",
            t,
            &json!({"title": "KITAS", "customer_id": customer, "currency_code": "CNY",
            "order_items": [{"product_name": "KITAS", "quantity": 1, "unit_price": 5000}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let order = id_of(r.data());
    let r = gw
        .post(
            &format!("/api/order-workflow/orders/{order}/items"),
            t,
            &json!({"description": "courier", "unit_price": 50}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = gw.get(&format!("/api/order-workflow/orders/{order}/items"), t).await;
    r.expect(200);
    assert_eq!(r.data().as_array().map(Vec::len), Some(2));
    let r = gw.get("/api/order-workflow/orders?page=1&size=10&customer_name=maju", t).await;
    r.expect(200);
    assert_eq!(r.data()["total"], 1);
    assert_eq!(r.data()["orders"][0]["total_amount"], 5050);

    // No token: the gateway refuses before the service is asked.
    gw.get("/api/order-workflow/orders", None).await.expect(401);
    let r = gw.get("/openapi.json", None).await;
    assert_eq!(r.status, 200);
    let paths = r.body["paths"].as_object().unwrap();
    assert!(paths.contains_key("/api/order-workflow/orders/{id}/items"), "merged document lacks the orders");
}
