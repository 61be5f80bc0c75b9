//! The OpenAPI document: in step with the router both ways, complete, served without a token, and
//! true to what the handlers answer (crm-common's shared checks).

use crate::helpers::*;
use crm_common::db_test;
use crm_common::testing::openapi::{documented, mounted_routes};
use serde_json::json;
use std::path::Path;

fn prefix(_module: &str) -> String {
    PREFIX.into()
}

#[test]
fn every_mounted_route_is_documented() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    assert!(lib.contains(r#".nest("/api/order-workflow", api)"#));
    let mounted = mounted_routes(&src, prefix);
    assert!(mounted.contains(&("POST".into(), "/api/order-workflow/leads/check-duplicate".into())));
    assert!(mounted.contains(&("GET".into(), "/api/order-workflow/openapi.json".into())));
    // The gateway sends these to service-management: never served here.
    for path in ["product-dependencies", "customer-levels", "follow-up-statuses"] {
        assert!(
            !mounted.iter().any(|(_, p)| p.starts_with(&format!("{PREFIX}/{path}"))),
            "{path} is service-management's"
        );
    }
    let doc = crm_order_workflow::openapi::document().unwrap();
    let documented = documented(&doc);
    let undocumented: Vec<_> = mounted.difference(&documented).collect();
    let unmounted: Vec<_> = documented.difference(&mounted).collect();
    assert!(undocumented.is_empty(), "mounted but not in the OpenAPI document: {undocumented:#?}");
    assert!(unmounted.is_empty(), "documented but not mounted: {unmounted:#?}");
}

#[test]
fn the_document_is_complete() {
    let doc = crm_order_workflow::openapi::document().unwrap();
    crm_common::testing::openapi::assert_complete(
        &doc,
        &[
            "/api/order-workflow/openapi.json",
            "/api/order-workflow/files/signed/{file_id}",
            "/api/order-workflow/temporary-links/{token}",
            // Its token travels in `Sec-WebSocket-Protocol`, which OpenAPI cannot name as a scheme.
            "/api/order-workflow/ws/notifications",
        ],
    );
}

db_test!(
    async fn served_without_a_token_and_every_operation_is_mounted(backend) {
        let app = TestApp::spawn(backend).await;
        let r = app.get("/openapi.json", None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body, crm_order_workflow::openapi::document().unwrap(), "served as generated");
        for (method, path) in documented(&r.body) {
            let target = path
                .split('/')
                .map(|s| if s.starts_with('{') { uuid::Uuid::now_v7().to_string() } else { s.to_owned() })
                .collect::<Vec<_>>()
                .join("/");
            let mut request = app.client.builder(method.parse().unwrap(), &target, None);
            if method == "POST" || method == "PUT" {
                request = request.json(&json!({}));
            }
            let r = app.client.send(request).await;
            let unrouted = (r.status == 404 && r.body["message"] == "not found") || r.status == 405;
            assert!(!unrouted, "{method} {path} is documented but not routed: {} {}", r.status, r.text);
        }
        for path in ["/customer-levels", "/follow-up-statuses", "/product-dependencies"] {
            let r = app.get(path, app.admin()).await;
            assert_eq!(r.status, 404, "{path} is service-management's: {}", r.text);
        }
        for probe in ["/health", "/ready", "/metrics", "/info"] {
            let r = app.client.get(probe, None).await;
            assert_eq!(r.status, 200, "{probe}: {}", r.text);
        }
    }
);

db_test!(
    async fn responses_match_the_documented_schemas(backend) {
        use crm_common::testing::openapi::assert_documented;
        let app = TestApp::spawn(backend).await;
        let doc = crm_order_workflow::openapi::document().unwrap();
        let admin = app.admin();
        let p = |path: &str| format!("{PREFIX}{path}");
        let lead = app.post("/leads", admin, json!({"name": "Budi", "company_name": "PT Maju", "phone": "0812", "level": "5"})).await;
        assert_documented(&doc, "post", &p("/leads"), &lead);
        let id = id_of(lead.data());
        let fu = app.post(&format!("/leads/{id}/follow-ups"), admin, json!({"follow_up_type": "call", "follow_up_date": "2026-12-01T00:00:00Z", "status_after": "contacted"})).await;
        assert_documented(&doc, "post", &p("/leads/{id}/follow-ups"), &fu);
        let note = app.post(&format!("/leads/{id}/notes"), admin, json!({"note_type": "comment", "content": "x"})).await;
        assert_documented(&doc, "post", &p("/leads/{id}/notes"), &note);
        let stale = app.put(&format!("/leads/{id}"), admin, json!({"name": "x", "version": 99})).await;
        assert_documented(&doc, "put", &p("/leads/{id}"), &stale);
        let bad_move = app.put(&format!("/leads/{id}"), admin, json!({"status": "new"})).await;
        assert_documented(&doc, "put", &p("/leads/{id}"), &bad_move);
        let updated = app.put(&format!("/leads/{id}"), admin, json!({"name": "Budi S."})).await;
        assert_documented(&doc, "put", &p("/leads/{id}"), &updated);
        let dup = app.post("/leads/check-duplicate", admin, json!({"company_name": "PT Maju", "exact_match": false})).await;
        assert_documented(&doc, "post", &p("/leads/check-duplicate"), &dup);
        let pooled = app.post(&format!("/leads/{id}/move-to-pool"), admin, json!({"pool_id": null})).await;
        assert_documented(&doc, "post", &p("/leads/{id}/move-to-pool"), &pooled);
        let assigned = app.post(&format!("/leads/{id}/assign"), admin, json!({"owner_user_id": app.admin_id})).await;
        assert_documented(&doc, "post", &p("/leads/{id}/assign"), &assigned);
        let invalid = app.post("/leads", admin, json!({"name": ""})).await;
        assert_documented(&doc, "post", &p("/leads"), &invalid);
        for (template, path) in [
            ("/leads", "/leads".to_owned()),
            ("/leads/{id}", format!("/leads/{id}")),
            ("/leads/{id}/follow-ups", format!("/leads/{id}/follow-ups")),
            ("/leads/{id}/notes", format!("/leads/{id}/notes")),
        ] {
            let r = app.get(&path, admin).await;
            assert_eq!(r.status, 200, "GET {path}: {}", r.text);
            assert_documented(&doc, "get", &p(template), &r);
        }
        let missing = app.get(&format!("/leads/{}", uuid::Uuid::now_v7()), admin).await;
        assert_documented(&doc, "get", &p("/leads/{id}"), &missing);
        let denied = app.get("/leads", None).await;
        assert_documented(&doc, "get", &p("/leads"), &denied);
        let deleted = app.delete(&format!("/leads/{id}"), admin).await;
        assert_documented(&doc, "delete", &p("/leads/{id}"), &deleted);
    }
);
